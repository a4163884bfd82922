"""Which layers a stack's role builds, and what the stack exports.

``platform`` (prod): the bare-metal Talos cluster and everything on it. ``lab`` (lab and every ``exp-*``
stack): only what runs on prod's infrastructure cluster, reached through a StackReference to prod.
"""

import pulumi

from components.capacity import CapacityError
from components.cluster_provider import cluster_provider
from components.config import ConfigError, HomelabConfig, load_config
from components.metal import TalosCluster, TalosClusterArgs
from components.outputs import as_secret
from components.platform import Platform, PlatformArgs, plan_platform

# The Kubernetes provider of the infrastructure cluster has this name in every stack.
INFRASTRUCTURE = "infrastructure"


def build_platform(config: HomelabConfig) -> None:
    assert config.cluster is not None and config.platform is not None  # validated for role platform
    platform_plan = plan_platform(config.cluster, config.nodes)
    metal = TalosCluster(
        config.cluster.name,
        TalosClusterArgs(cluster=config.cluster, nodes=config.nodes, versions=config.versions,
                         protect=pulumi.get_stack() == "prod"),
    )
    provider = cluster_provider(INFRASTRUCTURE, config.cluster.name, metal.kubeconfig)
    platform = Platform(f"{config.cluster.name}-platform", PlatformArgs(plan=platform_plan, settings=config.platform),
                        opts=pulumi.ResourceOptions(providers={"kubernetes": provider}))
    pulumi.export("capacity", platform.capacity)
    pulumi.export("infrastructureClusterName", config.cluster.name)
    pulumi.export("kubernetesEndpoint", metal.endpoint)
    pulumi.export("kubeconfig", metal.kubeconfig)
    pulumi.export("talosconfig", metal.talosconfig)
    pulumi.export("nodes", {node.name: {"ip": str(node.ip), "role": node.role, "board": node.board,
                                        "zone": node.zone} for node in config.nodes})
    pulumi.export("versions", config.versions.model_dump(by_alias=True))


def build_lab(config: HomelabConfig) -> None:
    prod = pulumi.StackReference(config.prod_stack)
    cluster_name = prod.require_output("infrastructureClusterName")
    kubeconfig = as_secret(prod.require_output("kubeconfig"))
    cluster_provider(INFRASTRUCTURE, cluster_name, kubeconfig)
    pulumi.export("infrastructureClusterName", cluster_name)


BUILDERS = {"platform": build_platform, "lab": build_lab}


def main() -> None:
    """The program `pulumi up` runs: validate config and capacity first, then build the stack's role."""
    try:
        config = load_config()
        BUILDERS[config.role](config)
    except (ConfigError, CapacityError) as error:
        raise pulumi.RunError(str(error)) from error
