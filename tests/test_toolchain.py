"""The upstream tier's tools are pinned once, in components/versions.py, and each wrapper module agrees."""

import json
import re
from dataclasses import replace
from importlib import metadata

import pytest

from components import versions
from labctl import toolchain


def test_every_wrapper_module_requires_the_pinned_version_of_its_tool():
    assert toolchain.wrapper_problems() == []
    assert {tool.name for tool in toolchain.TOOLS} == {"helm", "talos-check", "kube-apiserver", "etcd", "etcdctl",
                                                       "juicefs", "kustomize", "promtool", "promql-eval", "amtool",
                                                       "mermaid", "lezer-queries"}


def test_kube_apiserver_replaces_every_staging_module_with_the_same_kubernetes_release():
    text = (toolchain.WRAPPERS / "kube-apiserver" / "go.mod").read_text()
    replaced = re.findall(r"^\t(k8s\.io/[\w-]+) => (k8s\.io/[\w-]+) (\S+)$", text, re.MULTILINE)
    assert len(replaced) >= 30
    staging = "v0." + versions.KUBERNETES.removeprefix("v1.")
    assert {(source == target, version) for source, target, version in replaced} == {(True, staging)}


def test_a_disagreeing_wrapper_is_named_with_the_fix(monkeypatch):
    monkeypatch.setattr(versions, "HELM", "v3.99.0")
    tools = tuple(replace(t, version=versions.HELM) if t.name == "helm" else t for t in toolchain.TOOLS)
    monkeypatch.setattr(toolchain, "TOOLS", tools)
    (problem,) = toolchain.wrapper_problems()
    assert "tools/helm/go.mod requires helm.sh/helm/v3 v3.20.2" in problem and "v3.99.0" in problem


def test_tools_live_in_a_cache_outside_the_checkout(monkeypatch, tmp_path):
    monkeypatch.setenv("HOMELAB_TOOLS_DIR", str(tmp_path))
    assert toolchain.tool_path("helm") == tmp_path / f"helm-{versions.HELM}" / "helm"
    assert toolchain.tool_path("talos-check").parent.name.startswith(f"talos-check-{versions.TALOS_MACHINERY}-")


@pytest.mark.parametrize(("wrapper", "package", "version"), [
    ("mermaid", "mermaid", versions.MERMAID),
    ("lezer-queries", "@grafana/lezer-logql", versions.LEZER_LOGQL),
    ("lezer-queries", "@grafana/lezer-traceql", versions.LEZER_TRACEQL),
])
def test_each_npm_wrapper_pins_its_parser_exactly_in_the_lock_file(wrapper, package, version):
    lock = json.loads((toolchain.WRAPPERS / wrapper / "package-lock.json").read_text())
    assert lock["packages"][f"node_modules/{package}"]["version"] == version


def test_the_dashboard_sdk_is_pinned_to_the_build_versions_names():
    requirements = (toolchain.PROJECT_DIR / "requirements.txt").read_text()
    requirement = re.search(r"^grafana-foundation-sdk==(\S+)$", requirements, re.MULTILINE)
    assert requirement and requirement.group(1) == versions.GRAFANA_FOUNDATION_SDK
    assert metadata.version("grafana-foundation-sdk") == versions.GRAFANA_FOUNDATION_SDK
