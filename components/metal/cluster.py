"""``TalosCluster``: the bare-metal boards, Talos Linux, and the infrastructure Kubernetes cluster on them.

Builds machine secrets (protected in prod), one image-factory schematic per board model in the inventory,
one ``ConfigurationApply`` per node (the role's base config plus that node's patches), ``Bootstrap`` on
exactly one control-plane node, and the cluster's kubeconfig and talosconfig. Needs the validated
inventory; exports the kubeconfig and talosconfig as Pulumi secrets. A node added to the inventory adds
exactly one ``ConfigurationApply`` and touches no other resource.
"""

import functools
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumiverse_talos as talos
import yaml

from components.boards import BOARDS, Board
from components.config import ClusterSettings, Node, Versions
from components.metal.image import schematic_yaml
from components.metal.patches import node_patches
from components.outputs import as_secret


@dataclass(frozen=True)
class TalosClusterArgs:
    cluster: ClusterSettings
    nodes: tuple[Node, ...]
    versions: Versions
    # Losing the machine secrets means rebuilding every node: prod protects them.
    protect: bool


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def wire_keys(value: Any) -> Any:
    """Rebuild a Talos secrets object with the provider's camelCase keys.

    Passing ``Secrets.machine_secrets`` or ``client_configuration`` straight into an invoke sends
    snake_case keys that the provider rejects (pulumiverse/pulumi-talos #103, #200, #251).
    """
    if isinstance(value, dict):
        return {_camel(str(key)): wire_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [wire_keys(item) for item in value]
    return value


def _node_patch_yaml(node: Node, cluster: ClusterSettings, installer_image: str) -> list[str]:
    return [yaml.safe_dump(document, sort_keys=False) for document in node_patches(node, cluster, installer_image)]


class TalosCluster(pulumi.ComponentResource):
    """The infrastructure cluster's Talos machines, from secrets to a working kubeconfig."""

    kubeconfig: pulumi.Output[str]
    talosconfig: pulumi.Output[str]
    endpoint: str
    installer_images: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: TalosClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:metal:TalosCluster", name, None, opts)
        self.endpoint = args.cluster.endpoint
        secrets = talos.machine.Secrets(
            f"{name}-secrets", talos_version=args.versions.talos,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        # Secrets declares no secret outputs of its own, so wrap them before anything else sees them.
        client_configuration: pulumi.Output[Any] = as_secret(secrets.client_configuration)
        machine_secrets = as_secret(secrets.machine_secrets).apply(wire_keys)

        boards = sorted({node.board for node in args.nodes})
        self.installer_images = {board: self._installer_image(name, BOARDS[board], args.versions) for board in boards}
        base_configs = {
            role: as_secret(talos.machine.get_configuration_output(
                cluster_name=name, cluster_endpoint=self.endpoint, machine_type=role,
                machine_secrets=machine_secrets, talos_version=args.versions.talos,
                kubernetes_version=args.versions.kubernetes, docs=False, examples=False,
            ).machine_configuration)
            for role in sorted({node.role for node in args.nodes})
        }
        applies = {
            node.name: talos.machine.ConfigurationApply(
                f"{name}-{node.name}",
                node=str(node.ip), endpoint=str(node.ip),
                client_configuration=client_configuration,
                machine_configuration_input=base_configs[node.role],
                config_patches=self.installer_images[node.board].apply(
                    functools.partial(_node_patch_yaml, node, args.cluster)
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for node in args.nodes
        }
        # etcd is bootstrapped once, on the first control plane by name; the others join it.
        first = min((node for node in args.nodes if node.role == "controlplane"), key=lambda node: node.name)
        bootstrap = talos.machine.Bootstrap(
            f"{name}-bootstrap", node=str(first.ip), endpoint=str(first.ip),
            client_configuration=client_configuration,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[applies[first.name]]),
        )
        kubeconfig = talos.cluster.Kubeconfig(
            f"{name}-kubeconfig", node=str(first.ip), endpoint=str(first.ip),
            client_configuration=client_configuration,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[bootstrap],
                                        additional_secret_outputs=["kubeconfigRaw"]),
        )
        self.bootstrap_node = first.name
        self.kubeconfig = as_secret(kubeconfig.kubeconfig_raw)
        control_plane_ips = [str(node.ip) for node in args.nodes if node.role == "controlplane"]
        self.talosconfig = as_secret(talos.client.get_configuration_output(
            cluster_name=name,
            client_configuration=client_configuration.apply(wire_keys),
            endpoints=control_plane_ips,
            nodes=[str(node.ip) for node in args.nodes],
        ).talos_config)
        self.register_outputs({
            "kubeconfig": self.kubeconfig,
            "talosconfig": self.talosconfig,
            "endpoint": self.endpoint,
            "bootstrapNode": self.bootstrap_node,
        })

    def _installer_image(self, cluster_name: str, board: Board, versions: Versions) -> pulumi.Output[str]:
        schematic = talos.imagefactory.Schematic(
            f"{cluster_name}-{board.id}", schematic=schematic_yaml(board),
            opts=pulumi.ResourceOptions(parent=self),
        )
        urls = talos.imagefactory.get_urls_output(
            talos_version=versions.talos, schematic_id=schematic.id, architecture=board.arch,
            platform=None if board.sbc else "metal", sbc=board.sbc,
        )
        return urls.urls.installer
