"""Cluster classes: what production and experiment VMs ask of the boards, and who gives way to whom.

``production`` VMs request exactly their limits (Guaranteed QoS once running) at the production priority.
``experiment`` VMs request a quarter of their CPU (Burstable), run at the experiment priority, which never
preempts anything and is preempted first. On a node drain both are handed to Cluster API (``External``),
which replaces the machine elsewhere, as the upstream KubeVirt templates do: a VM on the pod network cannot
live-migrate (KubeVirt refuses with the bridge binding, and masquerade would give every Talos node the
same address), and a ``LiveMigrate`` VM that cannot migrate blocks the drain instead. Memory is never
overcommitted: a VM's guest memory is fixed, so its memory request is its full size in both classes.
"""

from dataclasses import dataclass
from typing import Any

from components.capacity import Amount, Demand
from components.config import VmSize
from components.platform.priority import EXPERIMENT, PRODUCTION, PriorityTier
from components.quantities import memory_mib

# What KubeVirt's virt-launcher adds to each VM pod on top of the guest (QEMU, its agents, page tables).
LAUNCHER_OVERHEAD = Amount(cpu_m=100, memory_mib=256)


@dataclass(frozen=True)
class ClusterClass:
    name: str
    priority: PriorityTier
    # Share of each vCPU a VM requests (1.0 = the whole core).
    cpu_request_share: float
    # KubeVirt's eviction strategy when its node drains.
    eviction: str
    layer: str
    # Node-local scratch volumes on the VMs' disks (experiments); production keeps its data on JuiceFS.
    local_volumes: bool = False

    def argocd_name(self, cluster: str) -> str:
        """The cluster's name in Argo CD, which its class's AppProject targets (components/platform/gitops.py)."""
        return cluster if self.name == "production" else f"exp-{cluster}"

    def domain_resources(self, size: VmSize) -> dict[str, Any]:
        limits = {"cpu": f"{size.cpu * 1000}m", "memory": size.memory}
        cpu_request = f"{int(size.cpu * 1000 * self.cpu_request_share)}m"
        return {"requests": {"cpu": cpu_request, "memory": size.memory}, "limits": limits}

    def vm_demand(self, owner: str, role: str, size: VmSize, count: int) -> Demand:
        """What ``count`` VMs of ``size`` request of the infrastructure cluster, launcher overhead included."""
        per_vm = Amount(int(size.cpu * 1000 * self.cpu_request_share), memory_mib(size.memory)) + LAUNCHER_OVERHEAD
        return Demand(self.layer, owner, role, per_vm, count, False)


PRODUCTION_CLASS = ClusterClass("production", PRODUCTION, 1.0, "External", "production")
EXPERIMENT_CLASS = ClusterClass("experiment", EXPERIMENT, 0.25, "External", "experiment", local_volumes=True)


