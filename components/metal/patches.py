"""Talos machine-config patches for one node, as plain data (the component turns them into YAML).

Talos 1.12 takes a strategic-merge patch of the v1alpha1 config plus typed documents. Each part has a
reason: Cilium replaces the CNI and kube-proxy (Talos "Deploying Cilium CNI"), KubePrism gives Cilium a
local API endpoint, kubelet reservations keep Talos and etcd alive under load, the network documents give
the node its name, DHCP on its LAN link and (control planes) the API-server VIP, and a user volume on the
SSD holds the storage layer's data.
"""

from dataclasses import dataclass
from typing import Any

from components.address_ranges import INFRASTRUCTURE_PODS, INFRASTRUCTURE_SERVICES
from components.boards import BOARDS
from components.config import ClusterSettings, Node
from components.metal import control_plane

KUBEPRISM_PORT = 7445
ZONE_LABEL = "topology.kubernetes.io/zone"
BOARD_LABEL = "homelab.dev/board"
# Set on boards that can run KubeVirt VMs; VM workloads are placed by it.
KVM_LABEL = "homelab.dev/kvm"
# Talos' own reservations beyond CPU and memory (pkg/machinery/constants at v1.12.11).
TALOS_SYSTEM_RESERVED = {"pid": "100", "ephemeral-storage": "256Mi"}
# The kubelet's disk thresholds (pkg/kubelet/eviction/defaults_linux.go DefaultEvictionHard at v1.33.13).
KUBELET_DISK_EVICTION = {"nodefs.available": "10%", "nodefs.inodesFree": "5%", "imagefs.available": "15%",
                         "imagefs.inodesFree": "5%"}


def _document(kind: str, **fields: Any) -> dict[str, Any]:
    return {"apiVersion": "v1alpha1", "kind": kind, **fields}


@dataclass(frozen=True)
class TalosApiAccess:
    """Talos API roles that pods of the given Kubernetes namespaces may ask for (a ``talos.dev`` ServiceAccount
    there gets a talosconfig with them); only control planes serve it (``kubernetesTalosAPIAccess``)."""

    roles: tuple[str, ...]
    namespaces: tuple[str, ...]

    def feature(self) -> dict[str, Any]:
        return {"enabled": True, "allowedRoles": list(self.roles), "allowedKubernetesNamespaces": list(self.namespaces)}


def machine_patch(node: Node, cluster: ClusterSettings, installer_image: str,
                  api_access: TalosApiAccess | None = None) -> dict[str, Any]:
    """The v1alpha1 (strategic-merge) patch: install, labels, kubelet and cluster networking."""
    reserved = cluster.reserved
    patch: dict[str, Any] = {
        "machine": {
            "install": {"disk": node.install_disk, "image": installer_image, "wipe": False},
            "nodeLabels": {ZONE_LABEL: node.zone, BOARD_LABEL: node.board,
                           KVM_LABEL: str(BOARDS[node.board].kvm).lower()},
            "features": {"kubePrism": {"enabled": True, "port": KUBEPRISM_PORT}},
            "kubelet": {
                "extraConfig": {
                    # Talos fills systemReserved only when it is empty (kubelet_spec.go at v1.12.11), so its pid
                    # and ephemeral-storage reservations are restated beside ours.
                    "systemReserved": {"cpu": reserved.system.cpu, "memory": reserved.system.memory,
                                       **TALOS_SYSTEM_RESERVED},
                    "kubeReserved": {"cpu": reserved.kube.cpu, "memory": reserved.kube.memory},
                    # The kubelet sets every threshold not given to zero: restate its disk defaults.
                    "evictionHard": {**KUBELET_DISK_EVICTION, "memory.available": reserved.eviction_memory},
                },
            },
        },
        "cluster": {
            "network": {"cni": {"name": "none"}, "podSubnets": [str(INFRASTRUCTURE_PODS)],
                        "serviceSubnets": [str(INFRASTRUCTURE_SERVICES)]},
            "proxy": {"disabled": True},
        },
    }
    if node.role == "controlplane":
        patch["cluster"]["allowSchedulingOnControlPlanes"] = cluster.allow_scheduling_on_control_planes
        patch["cluster"] |= control_plane.cluster_patch()
        if api_access is not None:
            patch["machine"]["features"]["kubernetesTalosAPIAccess"] = api_access.feature()
    return patch


def network_documents(node: Node, cluster: ClusterSettings) -> list[dict[str, Any]]:
    """Hostname, DHCP on the LAN link (addresses are DHCP reservations), and the VIP on control planes."""
    documents = [
        # Talos 1.12's generated config carries a HostnameConfig with `auto: stable`; the patch merges into it,
        # and the machinery refuses `auto` beside `hostname` unless auto is off (network/hostname.go Validate).
        _document("HostnameConfig", auto="off", hostname=node.name),
        _document("DHCPv4Config", name=node.lan_link),
        # Static resolvers win over DHCP's in Talos: the nodes never depend on the homelab's own DNS.
        _document("ResolverConfig", nameservers=[{"address": str(ip)} for ip in cluster.nameservers]),
    ]
    if node.role == "controlplane":
        # The API-server VIP floats between control planes on the LAN.
        documents.append(_document("Layer2VIPConfig", name=str(cluster.vip), link=node.lan_link))
    return documents


def storage_volume_documents(node: Node, cluster: ClusterSettings) -> list[dict[str, Any]]:
    """The user volume the storage layer writes to; on a single-SSD node, EPHEMERAL is capped to leave room."""
    volume = cluster.storage_volume
    selector = "system_disk" if node.storage_on_install_disk else f"disk.dev_path == '{node.storage_disk}'"
    documents: list[dict[str, Any]] = []
    if node.storage_on_install_disk:
        documents.append(_document(
            "VolumeConfig", name="EPHEMERAL",
            provisioning={"diskSelector": {"match": "system_disk"}, "maxSize": volume.ephemeral_max_size},
        ))
    documents.append(_document(
        "UserVolumeConfig", name=volume.name,
        provisioning={"diskSelector": {"match": selector}, "minSize": volume.min_size, "grow": True},
    ))
    return documents


def node_patches(node: Node, cluster: ClusterSettings, installer_image: str,
                 api_access: TalosApiAccess | None = None) -> list[dict[str, Any]]:
    """Every patch document for one node."""
    return [
        machine_patch(node, cluster, installer_image, api_access),
        *network_documents(node, cluster),
        *storage_volume_documents(node, cluster),
    ]


def storage_mount_path(cluster: ClusterSettings) -> str:
    """Where Talos mounts the user volume on every node (the storage layer's hostPath)."""
    return f"/var/mnt/{cluster.storage_volume.name}"
