"""What may change between the inventory and versions last deployed and the ones in the stack file.

The program reads its own stack's last outputs (``versions`` and ``nodes``; components/stacks.py) and refuses,
before any machine config is applied, the changes Talos or etcd cannot take in one update:

- a Talos or Kubernetes version that skips a minor or goes back one: Talos upgrades one minor at a time, from
  the newest patch of the current minor (Talos' upgrade notes), and Kubernetes' version skew policy lets the
  API server move one minor at a time;
- more than one control plane gone at once: each must leave etcd (``talosctl etcd leave``) before the next, or
  etcd loses its quorum;
- a node whose role changed: Talos does not turn a worker into a control plane in place;
- Talos and Kubernetes both moving a minor in one update, or Kubernetes moving while nodes come or go: each
  Talos minor supports its own range of Kubernetes minors, and the health gate between the nodes of a rolling
  Kubernetes upgrade expects the inventory Kubernetes already knows.

It also says whether this update rolls a new Kubernetes version out (``kubernetes_rolls``): then the nodes take
their machine configs one at a time, each after the cluster is healthy (components/metal/cluster.py).

A first deployment has no last outputs, and nothing is checked. Every refusal names the path to follow.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from components.config import NAMESPACE, ConfigIssue, Node


def _minor(version: str) -> tuple[int, int]:
    major, minor, *_ = version.lstrip("v").split(".")
    return int(major), int(minor)


def version_issues(deployed: Mapping[str, Any] | None, wanted: Mapping[str, str]) -> Iterable[ConfigIssue]:
    """``deployed`` and ``wanted``: the ``versions`` output's ``talos`` and ``kubernetes``."""
    for name in ("talos", "kubernetes"):
        before, after = (deployed or {}).get(name), wanted[name]
        if not before:
            continue
        (major, minor), (new_major, new_minor) = _minor(str(before)), _minor(after)
        if (new_major, new_minor) < (major, minor):
            yield ConfigIssue(f"{NAMESPACE}:versions.{name}", f"{after} is older than the deployed {before}: "
                              "a minor downgrade is not supported", f"keep {before} or a newer patch of it")
        elif new_major != major or new_minor > minor + 1:
            step = f"v{major}.{minor + 1}"
            yield ConfigIssue(f"{NAMESPACE}:versions.{name}", f"{after} skips a minor: {before} is deployed",
                              f"upgrade to the newest {step}.x first, `pulumi up`, then to {after}")


def _changes(deployed: Mapping[str, Any] | None, wanted: Mapping[str, str], name: str) -> bool:
    before = (deployed or {}).get(name)
    return bool(before) and str(before) != wanted[name]


def kubernetes_rolls(deployed: Mapping[str, Any] | None, wanted: Mapping[str, str]) -> bool:
    """Whether this update moves the deployed Kubernetes version (a first deployment moves nothing)."""
    return _changes(deployed, wanted, "kubernetes")


def pace_issues(deployed_versions: Mapping[str, Any] | None, wanted: Mapping[str, str],
                deployed_nodes: Mapping[str, Any] | None, nodes: Iterable[Node]) -> Iterable[ConfigIssue]:
    """One kind of change per update where two would meet mid-way: see the module's docstring."""
    before = deployed_versions or {}
    if all(before.get(name) and _minor(str(before[name])) != _minor(wanted[name])
           for name in ("talos", "kubernetes")):
        yield ConfigIssue(f"{NAMESPACE}:versions", f"Talos ({before['talos']} to {wanted['talos']}) and Kubernetes "
                          f"({before['kubernetes']} to {wanted['kubernetes']}) both move a minor in one update",
                          f"move Talos first: `pulumi up` with talos {wanted['talos']} and kubernetes "
                          f"{before['kubernetes']}, then set kubernetes {wanted['kubernetes']}")
    if kubernetes_rolls(before, wanted) and deployed_nodes:
        names = {node.name for node in nodes}
        if names != set(deployed_nodes):
            yield ConfigIssue(f"{NAMESPACE}:nodes", f"Kubernetes moves to {wanted['kubernetes']} while nodes are "
                              "added or removed: the rollout's health gate expects the nodes already deployed",
                              "deploy the version with the inventory as it is (`pulumi up`), then change "
                              "homelab:nodes")


def inventory_issues(deployed: Mapping[str, Mapping[str, Any]] | None,
                     nodes: Iterable[Node]) -> Iterable[ConfigIssue]:
    """``deployed``: the ``nodes`` output, name → {ip, role, …}."""
    if not deployed:
        return
    current = {node.name: node for node in nodes}
    for name, node in current.items():
        before = deployed.get(name)
        if before is not None and before.get("role") != node.role:
            yield ConfigIssue(f"{NAMESPACE}:nodes", f"{name} is deployed as a {before.get('role')} and is now a "
                              f"{node.role}: Talos does not change a node's role in place",
                              f"remove {name} first (README, Nodes that come and go), `pulumi up`, then add it "
                              "back with its new role")
    gone = sorted(name for name, node in deployed.items()
                  if name not in current and node.get("role") == "controlplane")
    if len(gone) > 1:
        yield ConfigIssue(f"{NAMESPACE}:nodes", f"control planes {', '.join(gone)} are all gone from the inventory: "
                          "etcd would lose its quorum", f"remove one at a time: `talosctl -n {gone[0]} etcd leave`, "
                          "reset it, take it out of homelab:nodes, `pulumi up`; then the next")
