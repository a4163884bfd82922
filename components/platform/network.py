"""Cluster networking: Cilium as CNI and kube-proxy replacement, LoadBalancer IPs on the LAN, Hubble.

Talos boots with no CNI and no kube-proxy (see components/metal/patches.py); Cilium takes both roles with
the values Talos requires (Talos docs "Deploying Cilium CNI"). LB IPAM hands out addresses from the
config's LoadBalancer range and L2 announcements answer ARP for them, so guest control planes and Pi-hole
get LAN addresses without BGP. Envoy is off: no L7 policy or ingress runs here, and it would cost a pod
per Pi.
"""

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.capacity import Workload
from components.config import ClusterSettings
from components.labels import CLASS_LABEL, EXPERIMENT
from components.metal.patches import KUBEPRISM_PORT
from components.platform.chart import ChartSpec
from components.quantities import resources
from components.versions import CILIUM

CILIUM_CHART = ChartSpec(
    release="cilium", chart="cilium", repo="https://helm.cilium.io/", version=CILIUM, namespace="kube-system",
    workloads=(
        Workload("agent", ("resources",), per_node=True),
        Workload("operator", ("operator", "resources"), replicas=("operator", "replicas")),
        Workload("hubble-relay", ("hubble", "relay", "resources")),
        Workload("hubble-ui-backend", ("hubble", "ui", "backend", "resources")),
        Workload("hubble-ui-frontend", ("hubble", "ui", "frontend", "resources")),
    ),
)
# A guest's Cilium: the same chart without Hubble's relay and UI, so only the agent and operator run.
GUEST_CILIUM_CHART = replace(CILIUM_CHART, workloads=CILIUM_CHART.workloads[:2])

# The agent's default capabilities minus SYS_MODULE: Talos does not let pods load kernel modules.
_AGENT_CAPABILITIES = ["CHOWN", "KILL", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "SYS_ADMIN", "SYS_RESOURCE",
                       "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"]
_CLEAN_STATE_CAPABILITIES = ["NET_ADMIN", "SYS_ADMIN", "SYS_RESOURCE"]


def talos_cilium_values() -> dict[str, Any]:
    """What Cilium needs on any Talos cluster, bare metal or VMs: no kube-proxy, KubePrism, Talos' cgroups and
    capabilities."""
    return {
        "ipam": {"mode": "kubernetes"},
        "kubeProxyReplacement": True,
        # KubePrism: a local API-server endpoint on every node, so Cilium never depends on the VIP.
        "k8sServiceHost": "localhost",
        "k8sServicePort": KUBEPRISM_PORT,
        "cgroup": {"autoMount": {"enabled": False}, "hostRoot": "/sys/fs/cgroup"},
        "securityContext": {"capabilities": {"ciliumAgent": _AGENT_CAPABILITIES,
                                             "cleanCiliumState": _CLEAN_STATE_CAPABILITIES}},
        # Talos forwards kube-dns to the host; Cilium >= 1.16.5 needs legacy host routing for it (cilium #36852).
        "bpf": {"hostLegacyRouting": True},
        "rollOutCiliumPods": True,
        "envoy": {"enabled": False},
        "operator": {"replicas": 1, "rollOutPods": True, "resources": resources("25m", "96Mi", memory_limit="128Mi")},
        "resources": resources("100m", "256Mi", memory_limit="512Mi"),
        # The agent's init steps (config, sysctls, bpf mount, state clean-up) are short commands; the CNI
        # install copies binaries once. The chart merges a 1-CPU limit into the latter that Pulumi's Python SDK
        # cannot delete (a null is dropped, pulumi/pulumi#12178): stated here as the program's own choice.
        "initResources": resources("10m", "48Mi", memory_limit="128Mi"),
        "cni": {"resources": resources("100m", "16Mi", cpu_limit="1", memory_limit="64Mi")},
    }


def cilium_values(lan_links: list[str]) -> dict[str, Any]:
    """The infrastructure cluster's Cilium: the Talos base plus LAN LoadBalancer announcements and Hubble."""
    return {
        **talos_cilium_values(),
        "l2announcements": {"enabled": True},
        # KubeVirt VMs send packets out of their launcher pods, which socket load-balancing never translates:
        # Cilium's kube-proxy-free guide names KubeVirt as needing socket LB in the host namespace only, so
        # VMs reach ClusterIPs (DNS, the object store, the metadata engine) through the tc datapath.
        "socketLB": {"hostNamespaceOnly": True},
        "devices": sorted(set(lan_links)),
        # CIDR rules select the nodes too: LAN traffic to a production LoadBalancer forwarded from another
        # node arrives from that node, and experiments' cloud controllers reach the API server on the nodes.
        "policyCIDRMatchMode": ["nodes"],
        # L2 announcements hold one lease per service: give the agents API headroom for them.
        "k8sClientRateLimit": {"qps": 20, "burst": 40},
        # The agents' own metrics on each node's port 9962 (a hostPort: the agent is on the host network), which
        # the gateway scrapes for the Cilium dashboard (components/platform/scrapes.py).
        "prometheus": {"enabled": True},
        "hubble": {
            "enabled": True,
            "relay": {"enabled": True, "resources": resources("25m", "64Mi", memory_limit="96Mi")},
            "ui": {
                "enabled": True,
                "backend": {"resources": resources("10m", "48Mi", memory_limit="64Mi")},
                "frontend": {"resources": resources("10m", "24Mi", memory_limit="32Mi")},
            },
        },
    }


def dynamic_blocks(cluster: ClusterSettings, pinned: Iterable[str]) -> list[dict[str, str]]:
    """The LoadBalancer range as blocks, less every pinned address and the experiments' range."""
    experiments = cluster.experiment_range.addresses() if cluster.experiment_range else range(0)
    taken = sorted({*(int(ipaddress.IPv4Address(address)) for address in pinned), *experiments})
    blocks, start = [], int(cluster.load_balancer_range.start)
    for address in [*taken, int(cluster.load_balancer_range.stop) + 1]:
        if start < address:
            blocks.append({"start": str(ipaddress.IPv4Address(start)), "stop": str(ipaddress.IPv4Address(address - 1))})
        start = address + 1
    return blocks


def load_balancer_objects(cluster: ClusterSettings, lan_links: list[str], parent: pulumi.Resource,
                          depends_on: list[pulumi.Resource], pinned: Mapping[str, Mapping[str, str]] | None = None,
                          ) -> list[k8s.apiextensions.CustomResource]:
    """The LAN address pools for LoadBalancer Services and the policy that announces them over ARP.

    Cilium's LB IPAM hands the first free address to the first Service that asks, so an address the program pins
    (``pinned``: address → the labels of the one Service that may have it) sits in a pool of its own that selects
    only that Service, and the shared pool leaves it out. An experiment's Services (labelled with their class by
    its cloud controller) are never given a shared address, only one of ``experimentRange`` if it is set, and a
    ``loadBalancerIP`` they ask for outside it is never granted: no pool that selects them holds it.
    """
    opts = pulumi.ResourceOptions(parent=parent, depends_on=depends_on)
    pinned = pinned or {}
    pool = k8s.apiextensions.CustomResource(
        "lan-pool", api_version="cilium.io/v2", kind="CiliumLoadBalancerIPPool",
        metadata={"name": "lan"},
        spec={"blocks": dynamic_blocks(cluster, pinned), "serviceSelector": {"matchExpressions": [
            {"key": CLASS_LABEL, "operator": "NotIn", "values": [EXPERIMENT]}]}},
        opts=opts,
    )
    reserved = [k8s.apiextensions.CustomResource(
        f"lan-pinned-{address}", api_version="cilium.io/v2", kind="CiliumLoadBalancerIPPool",
        metadata={"name": f"lan-pinned-{address.replace('.', '-')}"},
        spec={"blocks": [{"start": address, "stop": address}], "serviceSelector": {"matchLabels": dict(labels)}},
        opts=opts,
    ) for address, labels in sorted(pinned.items())]
    policy = k8s.apiextensions.CustomResource(
        "lan-l2", api_version="cilium.io/v2alpha1", kind="CiliumL2AnnouncementPolicy",
        metadata={"name": "lan"},
        spec={"loadBalancerIPs": True, "externalIPs": False,
              "interfaces": [f"^{link}$" for link in sorted(set(lan_links))]},
        opts=opts,
    )
    if cluster.experiment_range is not None:
        experiments = cluster.experiment_range
        reserved.append(k8s.apiextensions.CustomResource(
            "lan-experiments", api_version="cilium.io/v2", kind="CiliumLoadBalancerIPPool",
            metadata={"name": "lan-experiments"},
            spec={"blocks": [{"start": str(experiments.start), "stop": str(experiments.stop)}],
                  "serviceSelector": {"matchLabels": {CLASS_LABEL: EXPERIMENT}}},
            opts=opts))
    return [pool, *reserved, policy]
