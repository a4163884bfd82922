"""Talos machine-config patches for one node, as plain data (the component turns them into YAML).

Each patch says why it exists: Cilium replaces the CNI and kube-proxy (Talos "Deploying Cilium CNI"),
KubePrism gives Cilium a local API endpoint, kubelet reservations keep Talos and etcd alive under load,
and a user volume on the SSD holds the storage layer's data.
"""

from typing import Any

from components.config import ClusterSettings, Node

KUBEPRISM_PORT = 7445
ZONE_LABEL = "topology.kubernetes.io/zone"
BOARD_LABEL = "homelab.dev/board"


def machine_patch(node: Node, cluster: ClusterSettings, installer_image: str) -> dict[str, Any]:
    """The v1alpha1 (strategic-merge) patch: identity, install, labels, networking and kubelet settings."""
    reserved = cluster.reserved
    network: dict[str, Any] = {"hostname": node.name}
    if node.role == "controlplane":
        # The API-server VIP floats between control planes on the LAN interface.
        network["interfaces"] = [{"deviceSelector": {"physical": True}, "dhcp": True, "vip": {"ip": str(cluster.vip)}}]
    patch: dict[str, Any] = {
        "machine": {
            "network": network,
            "install": {"disk": node.install_disk, "image": installer_image, "wipe": False},
            "nodeLabels": {ZONE_LABEL: node.zone, BOARD_LABEL: node.board},
            "features": {"kubePrism": {"enabled": True, "port": KUBEPRISM_PORT}},
            "kubelet": {
                "extraConfig": {
                    "systemReserved": {"cpu": reserved.system.cpu, "memory": reserved.system.memory},
                    "kubeReserved": {"cpu": reserved.kube.cpu, "memory": reserved.kube.memory},
                    "evictionHard": {"memory.available": reserved.eviction_memory},
                },
            },
        },
        "cluster": {"network": {"cni": {"name": "none"}}, "proxy": {"disabled": True}},
    }
    if node.role == "controlplane":
        patch["cluster"]["allowSchedulingOnControlPlanes"] = cluster.allow_scheduling_on_control_planes
    return patch


def storage_volume_documents(node: Node, cluster: ClusterSettings) -> list[dict[str, Any]]:
    """The user volume the storage layer writes to; on a single-SSD node, EPHEMERAL is capped to leave room."""
    volume = cluster.storage_volume
    selector = "system_disk" if node.storage_on_install_disk else f"disk.dev_path == '{node.storage_disk}'"
    documents: list[dict[str, Any]] = []
    if node.storage_on_install_disk:
        documents.append({
            "apiVersion": "v1alpha1",
            "kind": "VolumeConfig",
            "name": "EPHEMERAL",
            "provisioning": {"diskSelector": {"match": "system_disk"}, "maxSize": volume.ephemeral_max_size},
        })
    documents.append({
        "apiVersion": "v1alpha1",
        "kind": "UserVolumeConfig",
        "name": volume.name,
        "provisioning": {"diskSelector": {"match": selector}, "minSize": volume.min_size, "grow": True},
    })
    return documents


def node_patches(node: Node, cluster: ClusterSettings, installer_image: str) -> list[dict[str, Any]]:
    """Every patch document for one node, in the order Talos applies them."""
    return [machine_patch(node, cluster, installer_image), *storage_volume_documents(node, cluster)]


def storage_mount_path(cluster: ClusterSettings) -> str:
    """Where Talos mounts the user volume on every node (the storage layer's hostPath)."""
    return f"/var/mnt/{cluster.storage_volume.name}"
