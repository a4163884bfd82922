"""The capacity budget equals what the charts really render, and every rendered container is sized.

Each Helm release of the infrastructure cluster is rendered by the real Helm; every pod template is counted
with its containers, init containers and sidecars as the scheduler counts a pod (the larger of the longest
init step and the running containers plus sidecars), times its replicas, and a DaemonSet once per node its
node selector and tolerations admit. Requests are taken as rendered, the chart's own defaults merged in
(a container with limits and no requests is requested at its limits, as the API server defaults it).

Steady state (no hooks) must equal the budget the program enforced, release by release. The install peak adds
the hook Jobs a release runs on install; it is reported, and must still fit the allocatable total. Every
rendered container, in the infrastructure cluster and in guests, as admitted (requests defaulted to its limits,
then the namespace's LimitRange, where the program declares one), must carry a memory request and a memory
limit, and no CPU limit the program did not choose.
"""

import copy
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from components.boards import BOARDS
from components.capacity import Amount, requests_of, total
from components.config import ClusterSettings, Node
from components.metal.patches import BOARD_LABEL, KVM_LABEL, ZONE_LABEL
from components.versions import KUBERNETES
from labctl.render import kubernetes_objects, manifest
from labctl.synth import SynthResult, read_stack_file
from tests.upstream.charts import INFRASTRUCTURE, Install, installs, pod_template, render

CONTROL_PLANE_TAINT = "node-role.kubernetes.io/control-plane"


def pod_request(spec: Mapping[str, Any]) -> Amount:
    """A pod's effective request as the scheduler computes it (sidecars are init containers that keep running)."""
    sidecars = [c for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"]
    steps = [c for c in spec.get("initContainers") or [] if c.get("restartPolicy") != "Always"]
    running = total(requests_of(c.get("resources")) for c in [*(spec.get("containers") or []), *sidecars])
    longest = [requests_of(c.get("resources")) for c in steps]
    return Amount(max([running.cpu_m, *(s.cpu_m for s in longest)]),
                  max([running.memory_mib, *(s.memory_mib for s in longest)]))


def node_labels(stack_config: Mapping[str, Any]) -> list[tuple[dict[str, str], bool]]:
    """Each node's labels as Talos and the program set them, and whether it carries the control-plane taint."""
    cluster = ClusterSettings.model_validate(stack_config["homelab:cluster"])
    nodes = []
    for node in (Node.model_validate(raw) for raw in stack_config["homelab:nodes"]):
        board = BOARDS[node.board]
        labels = {"kubernetes.io/os": "linux", "kubernetes.io/arch": board.arch, "kubernetes.io/hostname": node.name,
                  ZONE_LABEL: node.zone, BOARD_LABEL: node.board, KVM_LABEL: str(board.kvm).lower()}
        control_plane = node.role == "controlplane"
        if control_plane:
            labels[CONTROL_PLANE_TAINT] = ""
        nodes.append((labels, control_plane and not cluster.allow_scheduling_on_control_planes))
    return nodes


def _tolerates_control_plane(spec: Mapping[str, Any]) -> bool:
    return any((t.get("operator") == "Exists" and not t.get("key")) or t.get("key") == CONTROL_PLANE_TAINT
               for t in spec.get("tolerations") or [])


def pods_of(obj: Mapping[str, Any], nodes: list[tuple[dict[str, str], bool]]) -> int:
    kind, spec = obj["kind"], obj.get("spec") or {}
    if kind == "DaemonSet":
        pod_spec = spec["template"].get("spec") or {}
        selector = pod_spec.get("nodeSelector") or {}
        return sum(all(labels.get(key) == value for key, value in selector.items())
                   and (not tainted or _tolerates_control_plane(pod_spec)) for labels, tainted in nodes)
    if kind == "Job":
        return int(spec.get("parallelism", 1))
    if kind == "CronJob":
        return int(spec["jobTemplate"]["spec"].get("parallelism", 1))
    return int(spec.get("replicas", 1))


def is_hook(obj: Mapping[str, Any]) -> bool:
    return "helm.sh/hook" in ((obj.get("metadata") or {}).get("annotations") or {})


def limit_ranges(result: SynthResult) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The Container limits of each LimitRange the program declares, by (cluster, namespace)."""
    found: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for cluster, registration in kubernetes_objects(result):
        obj = manifest(registration)
        if obj.get("kind") == "LimitRange":
            found.setdefault((cluster, obj["metadata"].get("namespace", "default")), []).extend(
                limit for limit in obj["spec"]["limits"] if limit.get("type") == "Container")
    return found


def admitted(container: Mapping[str, Any], limits: list[dict[str, Any]]) -> dict[str, Any]:
    """A container's resources as the API server admits it: requests default to the limits a container sets,
    then the namespace's LimitRange fills what is still missing (its defaultRequest, else its default)."""
    resources = container.get("resources") or {}
    given_limits, given_requests = dict(resources.get("limits") or {}), dict(resources.get("requests") or {})
    requests = {**given_limits, **given_requests}
    for limit in limits:
        for name, value in (limit.get("default") or {}).items():
            given_limits.setdefault(name, value)
        for name, value in {**(limit.get("default") or {}), **(limit.get("defaultRequest") or {})}.items():
            requests.setdefault(name, value)
    return {**container, "resources": {"requests": requests, "limits": given_limits}}


def _admit_all(objects: list[dict[str, Any]], limits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``objects`` with every pod template's containers as admitted."""
    if not limits:
        return objects
    out = []
    for obj in objects:
        template = pod_template(obj)
        if template is not None:
            spec = template.get("spec") or {}
            for key in ("containers", "initContainers"):
                if spec.get(key):
                    spec[key] = [admitted(container, limits) for container in spec[key]]
        out.append(obj)
    return out


def admitted_render(helm: Path, result: SynthResult, install: Install) -> list[dict[str, Any]]:
    limits = limit_ranges(result).get((install.cluster, install.namespace), [])
    return _admit_all(copy.deepcopy(render(helm, install, KUBERNETES)), limits)


def _chosen_cpu_limits(values: Any) -> set[str]:
    if isinstance(values, Mapping):
        found = {str(values["limits"]["cpu"])} if isinstance(values.get("limits"), Mapping) and \
            "cpu" in values["limits"] else set()
        return found.union(*(_chosen_cpu_limits(v) for v in values.values()))
    if isinstance(values, list):
        return set().union(*(_chosen_cpu_limits(v) for v in values))
    return set()


def unsized(install: Install, objects: list[dict[str, Any]]) -> Iterator[str]:
    chosen = _chosen_cpu_limits(install.values)
    for obj in objects:
        template = pod_template(obj)
        if template is None:
            continue
        spec = template.get("spec") or {}
        for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
            resources = container.get("resources") or {}
            where = f"{install.label}: {obj['kind']} {obj['metadata']['name']} container {container['name']}"
            if "memory" not in (resources.get("requests") or {}) and "memory" not in (resources.get("limits") or {}):
                yield f"{where} has no memory request"
            if "memory" not in (resources.get("limits") or {}):
                yield f"{where} has no memory limit"
            cpu_limit = (resources.get("limits") or {}).get("cpu")
            if cpu_limit is not None and str(cpu_limit) not in chosen:
                yield f"{where} has a CPU limit ({cpu_limit}) the program did not choose"


def rendered_demand(objects: list[dict[str, Any]], nodes: list[tuple[dict[str, str], bool]],
                    hooks: bool) -> Amount:
    return total(pod_request(pod_template(obj).get("spec") or {}).times(pods_of(obj, nodes))  # type: ignore[union-attr]
                 for obj in objects if pod_template(obj) is not None and is_hook(obj) == hooks
                 and obj["kind"] != "CronJob")


def budget_of(result: SynthResult, release: str) -> Amount:
    return total(Amount(**w["total"]) for w in result.outputs["capacity"]["workloads"]
                 if w["layer"] == "platform" and w["owner"] == release)


def test_the_budget_equals_what_the_infrastructure_charts_render(prod, helm):
    nodes = node_labels(read_stack_file("prod"))
    differences, hooks, steady = [], {}, Amount()
    for install in installs(prod):
        if install.cluster != INFRASTRUCTURE:
            continue
        objects = admitted_render(helm, prod, install)
        rendered, budgeted = rendered_demand(objects, nodes, hooks=False), budget_of(prod, install.release)
        steady += rendered
        hooks[install.release] = rendered_demand(objects, nodes, hooks=True)
        if rendered != budgeted:
            differences.append(f"{install.label}: renders {rendered.cpu_m}m / {rendered.memory_mib}Mi, the budget "
                               f"counts {budgeted.cpu_m}m / {budgeted.memory_mib}Mi")
    assert not differences, "\n".join(differences)
    capacity = prod.outputs["capacity"]["total"]
    peak = max(hooks.values(), key=lambda amount: amount.memory_mib)
    warnings.warn(f"prod charts: steady state {steady.cpu_m}m / {steady.memory_mib}Mi (= the budget); install "
                  f"peak adds the largest release's hook Jobs, {peak.cpu_m}m / {peak.memory_mib}Mi "
                  f"({', '.join(f'{r} {a.memory_mib}Mi' for r, a in hooks.items() if a.memory_mib)})", stacklevel=1)
    assert peak.fits_in(Amount(**capacity["free"])), "the install peak's hook Jobs do not fit in what is free"


@pytest.mark.parametrize("stack", ["prod", "lab", "experiment", "crowded_lab"])
def test_every_rendered_container_is_sized_by_the_program(stack, request, helm):
    problems = []
    result = request.getfixturevalue(stack)
    for install in installs(result):
        problems += unsized(install, admitted_render(helm, result, install))
    assert not problems, f"{len(problems)} unsized:\n" + "\n".join(problems)
