"""The order the infrastructure cluster's nodes take a new version in: control planes first, then workers.

Kubernetes' version skew policy lets no kubelet be newer than the API server, so the control planes move
first; Talos upgrades a control plane only while etcd keeps its quorum without it (Server.Upgrade,
internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go at v1.12.9), so they move one at a time.
Within a role the order is by name, so it is the same in every run and a reader can predict it.

Both rollouts follow it: the machine configs of a Kubernetes upgrade (components/metal/cluster.py) and the
Talos upgrade Jobs (components/platform/talos_upgrade.py).
"""

from collections.abc import Iterable

from components.config import Node


def rollout_order(nodes: Iterable[Node]) -> list[Node]:
    return sorted(nodes, key=lambda node: (node.role != "controlplane", node.name))
