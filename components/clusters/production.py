"""The prod stack's production cluster: Guaranteed, high-priority VMs in the ``production`` namespace."""

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from components.clusters import namespaces
from components.clusters.classes import PRODUCTION_CLASS
from components.clusters.guest_cluster import GuestCluster, GuestClusterArgs
from components.config import GuestClusterSettings, Versions

NAME = "production"


def production_args(settings: GuestClusterSettings, versions: Versions, image_url: pulumi.Input[str],
                    after: Sequence[pulumi.Resource] = ()) -> GuestClusterArgs:
    return GuestClusterArgs(name=NAME, namespace=namespaces.PRODUCTION_NAMESPACE, cluster_class=PRODUCTION_CLASS,
                            settings=settings, talos_version=versions.talos,
                            kubernetes_version=versions.kubernetes, image_url=image_url,
                            cilium_version=versions.chart("cilium"), after=tuple(after))


@dataclass(frozen=True)
class ProductionArgs:
    cluster: GuestClusterArgs


class Production(pulumi.ComponentResource):
    """The always-on production cluster, fenced off from every experiment."""

    cluster: GuestCluster

    def __init__(self, name: str, args: ProductionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:clusters:Production", name, None, opts)
        cluster = args.cluster
        ns = namespaces.guest_namespace(self, cluster.namespace, PRODUCTION_CLASS.name)
        namespaces.production_fence(self, ns)
        self.cluster = GuestCluster(cluster.name, cluster, opts=pulumi.ResourceOptions(parent=self, depends_on=[ns]))
        self.register_outputs({"namespace": cluster.namespace})
