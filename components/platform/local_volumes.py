"""Local volumes: each node's Talos user volume offered as static, node-pinned PersistentVolumes.

Replicated stores (the object store's drives, the metadata engine's members) must find their own data on
the same node after every restart. A local PersistentVolume carries node affinity, and once a
StatefulSet's claim binds to it, that ordinal stays on that node — which a plain hostPath cannot promise.
The storage class has no provisioner: the volumes are declared here, one per node and consumer, and a
claim selects its consumer's volumes by label. Every volume of a node points at the user volume's mount
(which Talos creates); each consumer keeps its data in its own ``subPath`` below it.
"""

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.config import Node

STORAGE_CLASS = "local-ssd"
CONSUMER_LABEL = "homelab.dev/local-volume-for"


@dataclass(frozen=True)
class LocalVolumeClaim:
    """What a StatefulSet's volumeClaimTemplate asks of the local volumes."""

    consumer: str
    size: str

    def claim_template(self, name: str = "data") -> dict[str, Any]:
        return {
            "metadata": {"name": name},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": STORAGE_CLASS,
                "selector": {"matchLabels": {CONSUMER_LABEL: self.consumer}},
                "resources": {"requests": {"storage": self.size}},
            },
        }


def storage_class(parent: pulumi.Resource, depends_on: list[pulumi.Resource]) -> k8s.storage.v1.StorageClass:
    return k8s.storage.v1.StorageClass(
        STORAGE_CLASS, metadata=k8s.meta.v1.ObjectMetaArgs(name=STORAGE_CLASS),
        provisioner="kubernetes.io/no-provisioner", volume_binding_mode="WaitForFirstConsumer",
        reclaim_policy="Retain", opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on),
    )


def volumes(parent: pulumi.Resource, claim: LocalVolumeClaim, nodes: tuple[Node, ...], mount_path: str,
            storage: pulumi.Resource, protect: bool) -> list[k8s.core.v1.PersistentVolume]:
    """One volume per node for ``claim.consumer``, on the user volume mounted at ``mount_path``."""
    return [
        k8s.core.v1.PersistentVolume(
            f"local-{claim.consumer}-{node.name}",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=f"local-{claim.consumer}-{node.name}",
                                                labels={CONSUMER_LABEL: claim.consumer}),
            spec=k8s.core.v1.PersistentVolumeSpecArgs(
                capacity={"storage": claim.size},
                access_modes=["ReadWriteOnce"],
                persistent_volume_reclaim_policy="Retain",
                storage_class_name=STORAGE_CLASS,
                volume_mode="Filesystem",
                local=k8s.core.v1.LocalVolumeSourceArgs(path=mount_path),
                node_affinity=k8s.core.v1.VolumeNodeAffinityArgs(required=k8s.core.v1.NodeSelectorArgs(
                    node_selector_terms=[k8s.core.v1.NodeSelectorTermArgs(match_expressions=[
                        k8s.core.v1.NodeSelectorRequirementArgs(key="kubernetes.io/hostname", operator="In",
                                                                values=[node.name])])]))),
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[storage], protect=protect),
        )
        for node in nodes
    ]
