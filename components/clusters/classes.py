"""Cluster classes: what production and experiment VMs ask of the boards, and who gives way to whom.

``production`` VMs request exactly their limits (Guaranteed QoS once running) at the production priority.
``experiment`` VMs request a quarter of their CPU (Burstable), run at the experiment priority, which never
preempts anything and is preempted first. A VM on the pod network cannot live-migrate (KubeVirt refuses with
the bridge binding, and masquerade would give every Talos node the same address), and a ``LiveMigrate`` VM
that cannot migrate blocks the drain instead. So on a node drain a worker is handed to Cluster API
(``External``), which replaces the machine elsewhere, as the upstream KubeVirt templates do. A control plane
is not: replacing it gives it a fresh disk, and with one control plane that is a new, empty etcd (the
Talos control-plane provider has no remediation to rebuild it from). Its VM is simply stopped
(``None``) and KubeVirt starts it again on another Pi with the same disk, which lives on JuiceFS: the
guest's API is away for a restart, and its etcd survives. (CAPK v0.10.4, pkg/kubevirt/machine.go: only an
``External`` VMI gets an evacuation node, which CAPK reports as a terminal failure for Cluster API to replace.)
Memory is never overcommitted: a VM's guest memory is fixed, so its memory request is its full size in both
classes, plus what KubeVirt adds for the launcher (components/clusters/launcher.py). The VMs carry no graphics
device and no console-log sidecar (32 Mi and up to 60 MB each): Talos needs neither, ``virtctl console`` still works and
``talosctl dmesg`` reads the boot log.
"""

from dataclasses import dataclass
from typing import Any

from components.capacity import Amount, Demand
from components.clusters.launcher import MIB, launcher_overhead
from components.config import VmSize
from components.platform.priority import EXPERIMENT, PRODUCTION, PriorityTier
from components.quantities import memory_bytes, memory_mib, mib_rounded_up

# The VM's one disk, which the machine template backs with its DataVolume.
BOOT_DISK = "boot"
# A draining node stops a control-plane VM, which then starts elsewhere on its own disk (see above).
CONTROL_PLANE_EVICTION = "None"


@dataclass(frozen=True)
class ClusterClass:
    name: str
    priority: PriorityTier
    # Share of each vCPU a VM requests (1.0 = the whole core).
    cpu_request_share: float
    # KubeVirt's eviction strategy for a worker VM when its node drains (control planes: CONTROL_PLANE_EVICTION).
    eviction: str
    layer: str
    # Node-local scratch volumes on the VMs' disks (experiments); production keeps its data on JuiceFS.
    local_volumes: bool = False
    # A zone's workers must run on the Pis labelled with that zone (production), or only prefer them.
    zone_bound: bool = False
    # New versions roll out in place (production, with room reserved for the one extra VM a rollout starts), or
    # wait until the machines are replaced (experiments, whose quota holds only their own VMs: a rollout's extra
    # VM would never start, so they are recreated instead).
    rolls_out: bool = False

    def argocd_name(self, cluster: str) -> str:
        """The cluster's name in Argo CD, which its class's AppProject targets (components/platform/gitops.py)."""
        return cluster if self.name == "production" else f"exp-{cluster}"

    def cpu_request_m(self, size: VmSize) -> int:
        return int(size.cpu * 1000 * self.cpu_request_share)

    def domain(self, size: VmSize) -> dict[str, Any]:
        """The VMI's ``domain`` for a VM of ``size`` in this class."""
        return {
            "cpu": {"cores": size.cpu},
            "memory": {"guest": size.memory},
            "resources": {"requests": {"cpu": f"{self.cpu_request_m(size)}m", "memory": size.memory},
                          "limits": {"cpu": f"{size.cpu * 1000}m", "memory": size.memory}},
            "devices": {"disks": [{"name": BOOT_DISK, "disk": {"bus": "virtio"}}],
                        "networkInterfaceMultiqueue": True,
                        "autoattachGraphicsDevice": False, "logSerialConsole": False},
        }

    def vm_overhead(self, size: VmSize) -> dict[str, Any]:
        """One VM's launcher overhead as `labctl capacity` shows it: the guest, the total and every term, in MiB."""
        overhead = launcher_overhead(self.domain(size))
        return {"guestMib": memory_mib(size.memory), "overheadMib": mib_rounded_up(overhead.pod_memory),
                "terms": {name: round(value / MIB, 1) for name, value in overhead.terms.items()}}

    def vm_demand(self, owner: str, role: str, size: VmSize, count: int) -> Demand:
        """What ``count`` VMs of ``size`` request of the infrastructure cluster, as the scheduler counts each
        launcher pod: the guest plus KubeVirt's overhead, and its sidecar if it has one."""
        overhead = launcher_overhead(self.domain(size))
        memory = mib_rounded_up(memory_bytes(size.memory) + overhead.pod_memory)
        per_vm = Amount(self.cpu_request_m(size) + overhead.sidecar_cpu_m, memory)
        return Demand(self.layer, owner, role, per_vm, count, False, vm=True)


PRODUCTION_CLASS = ClusterClass("production", PRODUCTION, 1.0, "External", "production", zone_bound=True,
                                rolls_out=True)
EXPERIMENT_CLASS = ClusterClass("experiment", EXPERIMENT, 0.25, "External", "experiment", local_volumes=True)


