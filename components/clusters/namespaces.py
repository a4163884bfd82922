"""A guest cluster's namespace on the infrastructure cluster, and what fences it in.

An experiment's namespace carries a ResourceQuota equal to what its VMs request plus room for CDI's import
and clone pods, a LimitRange so nothing in it runs without requests, a TTL label for `labctl experiment gc`,
and an egress policy that lets it reach anything except the production namespace. The production
namespace, in turn, takes no traffic from any experiment namespace: either side alone would do, both
together survive a mistake in one.
"""

from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

from components.address_ranges import API_SERVER_PORT, INFRASTRUCTURE_PODS
from components.capacity import Amount, Demand, total
from components.clusters.guest_cluster import CLASS_LABEL
from components.platform.storage import NAMESPACE as STORAGE_NAMESPACE

TTL_LABEL = "homelab.dev/ttl"
# Set by Kubernetes on every namespace.
NAME_LABEL = "kubernetes.io/metadata.name"
PRODUCTION_NAMESPACE = "production"
# CDI's importer and clone pods, which run beside the VMs while disks are made.
IMPORT_HEADROOM = Amount(cpu_m=500, memory_mib=512)
CONTAINER_DEFAULTS = {"defaultRequest": {"cpu": "100m", "memory": "128Mi"},
                      "default": {"cpu": "500m", "memory": "512Mi"}}


def quota(demands: list[Demand]) -> Amount:
    return total(demand.amount for demand in demands) + IMPORT_HEADROOM


def _class_not_in(cls: str) -> dict[str, Any]:
    return {"key": CLASS_LABEL, "operator": "NotIn", "values": [cls]}


def _not_class(cls: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchExpressions": [_class_not_in(cls)]}}


# Cilium maps 0.0.0.0/0 to the world outside the cluster and, with its CIDR match mode set to nodes
# (components/platform/network.py), to the nodes and the API server on them, never to pods: other namespaces
# come only through the namespace selector.
WORLD = {"ipBlock": {"cidr": "0.0.0.0/0"}}


def _not_production_nor_its_data() -> dict[str, Any]:
    """Every namespace but production's and the storage namespace, where production's volumes live (MinIO,
    and JuiceFS' metadata etcd, which has no authentication of its own)."""
    return {"namespaceSelector": {"matchExpressions": [
        _class_not_in("production"), {"key": NAME_LABEL, "operator": "NotIn", "values": [STORAGE_NAMESPACE]}]}}


def _object_opts(parent: pulumi.Resource, namespace: pulumi.Resource) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent, depends_on=[namespace])


def namespace(parent: pulumi.Resource, name: str, cls: str, ttl: str | None = None,
              gate: pulumi.Output[Any] | None = None) -> k8s.core.v1.Namespace:
    """The cluster's namespace; with a ``gate``, it (and all that depends on it) waits for the gate to pass."""
    labels: dict[str, pulumi.Input[str]] = {CLASS_LABEL: gate.apply(lambda _: cls) if gate is not None else cls}
    if ttl:
        labels[TTL_LABEL] = ttl
    return k8s.core.v1.Namespace(f"ns-{name}", metadata=k8s.meta.v1.ObjectMetaArgs(name=name, labels=labels),
                                 opts=pulumi.ResourceOptions(parent=parent))


def experiment_egress(lan_subnet: str) -> list[dict[str, Any]]:
    """Anywhere but production and its data; of the LAN's hosts (the Pis among them) only the Kubernetes API,
    which the experiment's cloud controller needs. Cilium matches nodes by CIDR (its match mode is
    ``nodes``), so without the exception the world rule would open every node's ports (Talos, kubelet)."""
    return [
        {"to": [_not_production_nor_its_data()]},
        # Each node also answers on an address of its pod range (Cilium's router IP): out of the world too.
        {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": [lan_subnet, str(INFRASTRUCTURE_PODS)]}}]},
        {"to": [{"ipBlock": {"cidr": lan_subnet}}], "ports": [{"protocol": "TCP", "port": API_SERVER_PORT}]},
    ]


def experiment_fence(parent: pulumi.Resource, ns: k8s.core.v1.Namespace, name: str,
                     demands: list[Demand], lan_subnet: pulumi.Output[str]) -> list[pulumi.Resource]:
    amount = quota(demands)
    opts = _object_opts(parent, ns)
    return [
        k8s.core.v1.ResourceQuota(
            f"{name}-quota", metadata=k8s.meta.v1.ObjectMetaArgs(name="experiment", namespace=name),
            spec=k8s.core.v1.ResourceQuotaSpecArgs(hard={"requests.cpu": f"{amount.cpu_m}m",
                                                         "requests.memory": f"{amount.memory_mib}Mi"}),
            opts=opts),
        k8s.core.v1.LimitRange(
            f"{name}-limits", metadata=k8s.meta.v1.ObjectMetaArgs(name="experiment", namespace=name),
            spec=cast(k8s.core.v1.LimitRangeSpecArgsDict, {"limits": [{"type": "Container", **CONTAINER_DEFAULTS}]}),
            opts=opts),
        k8s.networking.v1.NetworkPolicy(
            f"{name}-not-production", metadata=k8s.meta.v1.ObjectMetaArgs(name="not-production", namespace=name),
            spec=lan_subnet.apply(lambda subnet: cast(k8s.networking.v1.NetworkPolicySpecArgsDict, {
                "podSelector": {}, "policyTypes": ["Egress"], "egress": experiment_egress(subnet)})),
            opts=opts),
    ]


def production_fence(parent: pulumi.Resource, ns: k8s.core.v1.Namespace) -> k8s.networking.v1.NetworkPolicy:
    return k8s.networking.v1.NetworkPolicy(
        "production-no-experiments",
        metadata=k8s.meta.v1.ObjectMetaArgs(name="no-experiments", namespace=PRODUCTION_NAMESPACE),
        spec=cast(k8s.networking.v1.NetworkPolicySpecArgsDict, {
            "podSelector": {}, "policyTypes": ["Ingress"],
            "ingress": [{"from": [_not_class("experiment")]}, {"from": [WORLD]}]}),
        opts=_object_opts(parent, ns),
    )
