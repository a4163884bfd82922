"""``TalosCluster``: the bare-metal boards, Talos Linux, and the infrastructure Kubernetes cluster on them.

Builds machine secrets (protected in prod), one image-factory schematic per board model in the inventory,
one ``ConfigurationApply`` per node (the role's base config plus that node's patches), ``Bootstrap`` on
exactly one control-plane node, and the cluster's kubeconfig and talosconfig. Needs the validated
inventory; exports the kubeconfig and talosconfig as Pulumi secrets. A node added to the inventory adds
exactly one ``ConfigurationApply`` and touches no other resource.

The kubeconfig it hands on is released only once Talos reports the whole inventory healthy, so no Kubernetes
resource is sent before the VIP and the API server answer (terraform-provider-talos #183, #290).

**Kubernetes upgrades.** The Kubernetes version lives in the machine config this component applies (the
kubelet's and the control-plane components' images), so Pulumi owns it and nothing else writes it (README,
Versions: do not run ``talosctl upgrade-k8s`` beside it). When an update moves it, the nodes take their new
configs one at a time in the rollout order (components/metal/rollout.py), each only after Talos reports the
whole cluster healthy, the first after a check before anything changes. Talos applies these image changes
without a reboot. The check is ``_healthy``'s: with the CNI ``none`` in the machine config it skips node
readiness, so between nodes it waits for etcd, the kubelets and the control-plane pods, not for Cilium. A
preview skips the checks, so it still shows every node's real diff. An update that does not move Kubernetes
applies every node's config at once, as the first deployment does.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumiverse_talos as talos
import yaml

from components.boards import BOARDS, Board
from components.config import ClusterSettings, Node, Versions
from components.metal.image import schematic_yaml
from components.metal.patches import TalosApiAccess, node_patches
from components.metal.rollout import rollout_order
from components.outputs import as_secret

# How long one `pulumi up` waits for the cluster to be healthy. A first boot downloads the installer image,
# writes it to disk and reboots before etcd, the API server and the VIP come up.
HEALTH_TIMEOUT = "20m"


@dataclass(frozen=True)
class TalosClusterArgs:
    cluster: ClusterSettings
    nodes: tuple[Node, ...]
    versions: Versions
    # Losing the machine secrets means rebuilding every node: prod protects them.
    protect: bool
    # What the platform's pods may ask of the Talos API (the etcd snapshots' job).
    talos_api_access: TalosApiAccess | None = None
    # Resolves once the changes since the last deployment are ones Talos can take (components/metal/transitions.py);
    # no machine config is applied before it, and none if it refuses.
    guard: pulumi.Output[Any] | None = None
    # Resolves to whether this update moves the deployed Kubernetes version (components/metal/transitions.py):
    # then the nodes take their configs one at a time, each after a health check.
    kubernetes_rolls: pulumi.Output[bool] | None = None


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


def _node_patch_yaml(node: Node, cluster: ClusterSettings, api_access: TalosApiAccess | None,
                     installer_image: str) -> list[str]:
    return [yaml.safe_dump(document, sort_keys=False)
            for document in node_patches(node, cluster, installer_image, api_access)]


def _guarded_patch_yaml(node: Node, cluster: ClusterSettings, api_access: TalosApiAccess | None,
                        installer_and_gates: list[Any]) -> list[str]:
    """The node's patches once the deployment guard and the rollout's health gate have passed (the values after
    the installer image, which the patches do not read)."""
    return _node_patch_yaml(node, cluster, api_access, installer_and_gates[0])


def _boot_image(nodes: list[Node], urls: Any) -> dict[str, Any]:
    """What a board's first boot needs: the image for its SSD, the installer, and where each node must be."""
    return {"diskImage": urls.disk_image, "installer": urls.installer,
            "nodes": [{"name": node.name, "ip": str(node.ip), "role": node.role, "installDisk": node.install_disk}
                      for node in nodes]}


class TalosCluster(pulumi.ComponentResource):
    """The infrastructure cluster's Talos machines, from secrets to a working kubeconfig."""

    kubeconfig: pulumi.Output[str]
    talosconfig: pulumi.Output[str]
    endpoint: str
    installer_images: dict[str, pulumi.Output[str]]
    # Per board model: the image to write to a blank SSD (its schematic has the board's overlay), the installer
    # the machine config names, and the inventory's nodes of that model. What a first boot needs.
    boot_images: dict[str, pulumi.Output[dict[str, Any]]]

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
        urls = {board: self._image_urls(name, BOARDS[board], args.versions) for board in boards}
        self.installer_images = {board: board_urls.installer for board, board_urls in urls.items()}
        self.boot_images = {
            board: board_urls.apply(functools.partial(_boot_image, [n for n in args.nodes if n.board == board]))
            for board, board_urls in urls.items()}
        base_configs = {
            role: as_secret(talos.machine.get_configuration_output(
                cluster_name=name, cluster_endpoint=self.endpoint, machine_type=role,
                machine_secrets=machine_secrets, talos_version=args.versions.talos,
                kubernetes_version=args.versions.kubernetes, docs=False, examples=False,
            ).machine_configuration)
            for role in sorted({node.role for node in args.nodes})
        }
        control_plane_ips = [str(node.ip) for node in args.nodes if node.role == "controlplane"]
        health_check = functools.partial(self._healthy, client_configuration, args.nodes, control_plane_ips)
        applies: dict[str, talos.machine.ConfigurationApply] = {}
        gate = self._rollout_gate(args.kubernetes_rolls, health_check, after=None)
        for node in rollout_order(args.nodes):
            applies[node.name] = talos.machine.ConfigurationApply(
                f"{name}-{node.name}",
                node=str(node.ip), endpoint=str(node.ip),
                client_configuration=client_configuration,
                machine_configuration_input=base_configs[node.role],
                config_patches=pulumi.Output.all(self.installer_images[node.board], args.guard, gate).apply(
                    functools.partial(_guarded_patch_yaml, node, args.cluster, args.talos_api_access)
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            gate = self._rollout_gate(args.kubernetes_rolls, health_check, after=applies[node.name])
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
        health = health_check(after=[bootstrap, *applies.values()])
        self.kubeconfig = as_secret(pulumi.Output.all(kubeconfig.kubeconfig_raw, health.id)
                                    .apply(lambda released: str(released[0])))
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
            "bootImages": self.boot_images,
        })

    def _healthy(self, client_configuration: pulumi.Output[Any], nodes: tuple[Node, ...],
                 control_plane_ips: list[str], after: list[pulumi.Resource]) -> pulumi.Output[Any]:
        """Talos' own health check of the whole inventory, run after every node has its config.

        Without ``skip_kubernetes_checks`` it runs Talos' DefaultClusterChecks (pkg/cluster/check/default.go
        @ machinery v1.13.0): etcd, apid and kubelets, every inventory node registered in Kubernetes through
        the kubeconfig's endpoint (the VIP), the control-plane pods ready and every node schedulable. Node
        readiness and CoreDNS are skipped while the CNI is "none", so it passes before Cilium exists. The node
        lists must match Kubernetes' exactly: a dead Pi stops the rollout until it returns or leaves the
        inventory (and its Node object is deleted).
        """
        return talos.cluster.get_health_output(
            client_configuration=client_configuration.apply(wire_keys),
            endpoints=control_plane_ips,
            control_plane_nodes=control_plane_ips,
            worker_nodes=[str(node.ip) for node in nodes if node.role == "worker"],
            timeouts={"read": HEALTH_TIMEOUT},
            opts=pulumi.InvokeOutputOptions(parent=self, depends_on=after),
        )

    @staticmethod
    def _rollout_gate(rolls: pulumi.Output[bool] | None, health_check: Callable[..., pulumi.Output[Any]],
                      after: talos.machine.ConfigurationApply | None) -> pulumi.Output[Any]:
        """What the next node's config waits for: nothing, unless this update rolls Kubernetes out; then Talos'
        health check, run once ``after`` has its config (or before the first node). Only an update waits: the
        check is left out of a preview, whose next node then shows its diff at once. The gate's value says
        nothing, so it is not secret, though the check reads the client's credentials: the patches stay
        readable in a diff."""
        def wait(rolling: bool) -> Any:
            if not rolling:
                return True
            applied = after.id if after is not None else pulumi.Output.from_input("")
            return applied.apply(lambda _: True if pulumi.runtime.is_dry_run()
                                 else health_check(after=[after] if after is not None else []).id)
        return pulumi.Output.unsecret(rolls.apply(wait)) if rolls is not None else pulumi.Output.from_input(True)

    def _image_urls(self, cluster_name: str, board: Board, versions: Versions) -> pulumi.Output[Any]:
        schematic = talos.imagefactory.Schematic(
            f"{cluster_name}-{board.id}", schematic=schematic_yaml(board),
            opts=pulumi.ResourceOptions(parent=self),
        )
        urls = talos.imagefactory.get_urls_output(
            talos_version=versions.talos, schematic_id=schematic.id, architecture=board.arch,
            platform=None if board.sbc else "metal", sbc=board.sbc,
        )
        return urls.urls
