"""Cluster API: the operator chart and one provider object per piece of the guest-cluster machinery.

One consistent v1beta1 contract family (FIELD-NOTES): core, the KubeVirt infrastructure provider (guest
machines are KubeVirt VMs), the Talos bootstrap and control-plane providers (guests run Talos 1.12, the
newest the control-plane provider supports), and the Helm add-on provider (pinned charts such as Cilium
into guest clusters). The operator fetches each provider's release from its GitHub releases at the
pinned version. Its webhooks need cert-manager.
"""

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.capacity import Workload
from components.platform.chart import ChartSpec, pod_security_labels
from components.quantities import resources
from components.versions import CAAPH, CABPT, CACPPT, CAPI, CAPI_OPERATOR, CAPK

OPERATOR_NAMESPACE = "capi-operator-system"
OPERATOR_CHART = ChartSpec(
    release="capi-operator", chart="cluster-api-operator",
    repo="https://kubernetes-sigs.github.io/cluster-api-operator", version=CAPI_OPERATOR,
    namespace=OPERATOR_NAMESPACE,
    workloads=(Workload("operator", ("resources", "manager"), replicas=("replicaCount",)),),
)


@dataclass(frozen=True)
class Provider:
    kind: str
    name: str
    namespace: str
    version: str
    repository: str
    resources: dict[str, Any]

    @property
    def releases_url(self) -> str:
        return f"https://github.com/{self.repository}/releases"


PROVIDER_KINDS = ("CoreProvider", "InfrastructureProvider", "BootstrapProvider", "ControlPlaneProvider",
                  "AddonProvider")
PROVIDERS = (
    Provider("CoreProvider", "cluster-api", "capi-system", CAPI, "kubernetes-sigs/cluster-api",
             resources("25m", "128Mi", memory_limit="256Mi")),
    Provider("InfrastructureProvider", "kubevirt", "capk-system", CAPK, "kubernetes-sigs/cluster-api-provider-kubevirt",
             resources("25m", "96Mi", memory_limit="192Mi")),
    Provider("BootstrapProvider", "talos", "cabpt-system", CABPT, "siderolabs/cluster-api-bootstrap-provider-talos",
             resources("10m", "64Mi", memory_limit="128Mi")),
    Provider("ControlPlaneProvider", "talos", "cacppt-system", CACPPT,
             "siderolabs/cluster-api-control-plane-provider-talos", resources("10m", "64Mi", memory_limit="128Mi")),
    Provider("AddonProvider", "helm", "caaph-system", CAAPH, "kubernetes-sigs/cluster-api-addon-provider-helm",
             resources("10m", "64Mi", memory_limit="128Mi")),
)


def operator_values() -> dict[str, Any]:
    return {
        "replicaCount": 1,
        # The chart merges its own 100m CPU limit, which Pulumi's Python SDK cannot delete (a null is dropped,
        # pulumi/pulumi#12178): the program chooses a limit, high enough that reconciles are not throttled.
        "resources": {"manager": resources("20m", "96Mi", cpu_limit="500m", memory_limit="160Mi")},
    }


def provider_spec(provider: Provider) -> dict[str, Any]:
    return {
        "version": provider.version,
        "fetchConfig": {"url": provider.releases_url},
        "deployment": {"replicas": 1, "containers": [{"name": "manager", "resources": provider.resources}]},
    }


# `pulumi up` holds each provider until the operator marks it Ready (it copies the provider Deployment's
# Available condition: internal/controller/healthcheck at v0.17.0), so nothing that needs its CRDs and webhooks
# is created before they serve.
READY_WAIT = {"pulumi.com/waitFor": "condition=Ready", "pulumi.com/timeoutSeconds": "900"}


def install(parent: pulumi.Resource, operator: pulumi.Resource) -> list[pulumi.Resource]:
    """A namespace and a provider object per provider; the operator (and its CRDs) must exist first."""
    created: list[pulumi.Resource] = []
    for provider in PROVIDERS:
        namespace = k8s.core.v1.Namespace(
            f"ns-{provider.namespace}", metadata=k8s.meta.v1.ObjectMetaArgs(
                name=provider.namespace, labels=pod_security_labels("restricted")),
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[operator]),
        )
        created += [namespace, k8s.apiextensions.CustomResource(
            f"{provider.kind.lower()}-{provider.name}", api_version="operator.cluster.x-k8s.io/v1alpha2",
            kind=provider.kind, metadata={"name": provider.name, "namespace": provider.namespace,
                                          "annotations": READY_WAIT},
            spec=provider_spec(provider),
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[operator, namespace]),
        )]
    return created
