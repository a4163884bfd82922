"""The upstream tier: the real upstream code (Helm, the Talos machinery, kube-apiserver + etcd) judges what the
program produces. Every test here is marked ``upstream``.

The tools come from ``make tools`` (labctl/toolchain.py), the charts and schemas they judge against from
``../shared`` beside the checkout. Without either, these tests are left out with one line that says how to get
them; with ``HOMELAB_REQUIRE_UPSTREAM=1`` (set by ``.ci/run``) they run and fail instead, so CI can never pass
on a skipped tier.
"""

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from labctl import toolchain
from tests.upstream.charts import CHARTS, SHARED

GET_TOOLS = "its tools are not built: run `make tools` (Go 1.26.7+, ~40 min cold, seconds warm)"
TOOL_FIXTURES = {"helm": "helm", "talos_check": "talos-check", "kube_apiserver": "kube-apiserver", "etcd": "etcd",
                 "juicefs": "juicefs", "kustomize": "kustomize",
                 "promtool": "promtool", "promql_eval": "promql-eval", "amtool": "amtool", "mermaid": "mermaid",
                 "lezer_queries": "lezer-queries", "etcdctl": "etcdctl"}


def required() -> bool:
    return os.environ.get("HOMELAB_REQUIRE_UPSTREAM") == "1"


def missing_tools() -> list[str]:
    return [tool for tool in TOOL_FIXTURES.values() if not toolchain.tool_path(tool).is_file()]


def not_run_because() -> str | None:
    """Why the tier cannot run here (and is left out unless required), or None."""
    if not CHARTS.is_dir():
        return f"it needs ../shared (charts and schemas) beside the checkout, at {SHARED} or $HOMELAB_SHARED_DIR"
    return GET_TOOLS if missing_tools() else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark this tier; without its tools (and not required), leave out the tests that need them: the summary
    then says in one line how to get them, and nothing is skipped."""
    here = Path(__file__).parent
    missing = set(missing_tools())
    no_shared = not CHARTS.is_dir()
    left_out = []
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.upstream)
            needs = {TOOL_FIXTURES[name] for name in getattr(item, "fixturenames", ()) if name in TOOL_FIXTURES}
            if (no_shared or needs & missing) and not required():
                left_out.append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if item not in left_out]


def _tool(name: str) -> Path:
    path = toolchain.tool_path(name)
    if not path.is_file():
        pytest.fail(f"{name} is not built at {path} and HOMELAB_REQUIRE_UPSTREAM=1: run `make tools`")
    return path


def _tool_fixture(fixture: str, tool: str) -> Callable[[], Path]:
    """A session fixture named ``fixture`` that yields the built ``tool``'s path (or fails, see ``_tool``)."""
    @pytest.fixture(scope="session", name=fixture)
    def built() -> Path:
        return _tool(tool)
    return built


# One fixture per tool, named as TOOL_FIXTURES says (tests ask for `helm`, `talos_check`, ...).
for _fixture, _tool_name in TOOL_FIXTURES.items():
    globals()[_fixture] = _tool_fixture(_fixture, _tool_name)
