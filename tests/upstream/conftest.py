"""The upstream tier: the real upstream code (Helm, the Talos machinery, kube-apiserver + etcd) judges what the
program produces. Every test here is marked ``upstream``.

The tools come from ``make tools`` (labctl/toolchain.py). Without them these tests skip with one line that says
how to get them; with ``HOMELAB_REQUIRE_UPSTREAM=1`` (set by ``.ci/run``) a missing tool fails instead, so CI can
never pass on a skipped tier.
"""

import os
from pathlib import Path

import pytest

from labctl import toolchain

GET_TOOLS = "the upstream tier needs its tools: run `make tools` (Go 1.25+, ~25 min cold, seconds warm)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.upstream)


def _tool(name: str) -> Path:
    path = toolchain.tool_path(name)
    if path.is_file():
        return path
    if os.environ.get("HOMELAB_REQUIRE_UPSTREAM") == "1":
        pytest.fail(f"{name} is not built at {path} and HOMELAB_REQUIRE_UPSTREAM=1: run `make tools`")
    pytest.skip(GET_TOOLS)


@pytest.fixture(scope="session")
def helm() -> Path:
    return _tool("helm")


@pytest.fixture(scope="session")
def talos_check() -> Path:
    return _tool("talos-check")


@pytest.fixture(scope="session")
def kube_apiserver() -> Path:
    return _tool("kube-apiserver")


@pytest.fixture(scope="session")
def etcd() -> Path:
    return _tool("etcd")
