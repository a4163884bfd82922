"""A guest cluster's namespace on the infrastructure cluster, and the objects that fence it in.

An experiment's namespace carries a ResourceQuota equal to what its VMs request plus room for CDI's import
and clone pods, a LimitRange so nothing in it runs without requests, a TTL label for `labctl experiment gc`,
and an egress policy that lets it reach anything except the production namespace. The production
namespace, in turn, takes no traffic from any experiment namespace. What each says is decided in
components/clusters/fences.py.
"""

from collections.abc import Sequence
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

from components.capacity import Demand
from components.clusters.fences import CONTAINER_DEFAULTS, experiment_egress, production_ingress, quota
from components.labels import CLASS_LABEL
from components.platform.chart import PodSecurity, namespace

TTL_LABEL = "homelab.dev/ttl"
# KubeVirt's virt-launcher pods run in a guest's namespace; KubeVirt 1.6 does not promise restricted for them,
# so guest namespaces keep Talos' baseline, stated on the namespace.
GUEST_NAMESPACE_POD_SECURITY: PodSecurity = "baseline"
PRODUCTION_NAMESPACE = "production"


def _object_opts(parent: pulumi.Resource, after: Sequence[pulumi.Resource]) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent, depends_on=list(after))


def guest_namespace(parent: pulumi.Resource, name: str, cls: str, ttl: str | None = None,
                    gate: pulumi.Output[Any] | None = None) -> k8s.core.v1.Namespace:
    """The cluster's namespace, labelled with its class (and TTL); with a ``gate``, it (and all that depends on
    it) waits for the gate to pass."""
    labels: dict[str, pulumi.Input[str]] = {CLASS_LABEL: gate.apply(lambda _: cls) if gate is not None else cls}
    if ttl:
        labels[TTL_LABEL] = ttl
    return namespace(name, parent, GUEST_NAMESPACE_POD_SECURITY, labels=labels)


def experiment_fence(parent: pulumi.Resource, after: Sequence[pulumi.Resource], name: str,
                     demands: list[Demand], lan_subnet: pulumi.Output[str]) -> list[pulumi.Resource]:
    """The namespace's quota, defaults and egress fence, made once everything in ``after`` is."""
    amount = quota(demands)
    opts = _object_opts(parent, after)
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
            "ingress": production_ingress()}),
        opts=_object_opts(parent, [ns]),
    )
