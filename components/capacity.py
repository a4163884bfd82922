"""The capacity budget: what the boards can give pods, and what the program asks of them.

Allocatable per node = the board's CPU and memory minus the kubelet reservations Talos is configured with.
Demand is read from what the program registers — the resource blocks inside each chart's values at that
chart's own paths, and the pod templates of the objects it declares — never from a hand-kept table. The
plan is refused when platform plus production requests exceed what the nodes can allocate.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from components.boards import BOARDS
from components.config import ClusterSettings, Node
from components.quantities import cpu_millicores, memory_mib

# The layer of the room a production rollout needs for one more VM (components/clusters/guest_cluster.py).
ROLLOUT_LAYER = "rollout"

Path = tuple[str, ...]


@dataclass(frozen=True)
class Amount:
    cpu_m: int = 0
    memory_mib: int = 0

    def __add__(self, other: "Amount") -> "Amount":
        return Amount(self.cpu_m + other.cpu_m, self.memory_mib + other.memory_mib)

    def __sub__(self, other: "Amount") -> "Amount":
        return Amount(self.cpu_m - other.cpu_m, self.memory_mib - other.memory_mib)

    def times(self, count: int) -> "Amount":
        return Amount(self.cpu_m * count, self.memory_mib * count)

    def fits_in(self, other: "Amount") -> bool:
        return self.cpu_m <= other.cpu_m and self.memory_mib <= other.memory_mib


def total(amounts: Iterable[Amount]) -> Amount:
    result = Amount()
    for amount in amounts:
        result += amount
    return result


def requests_of(resources: Mapping[str, Any] | None) -> Amount:
    """The requests of a Kubernetes ``resources`` block (limits stand in when requests are absent)."""
    resources = resources or {}
    requests = {**(resources.get("limits") or {}), **(resources.get("requests") or {})}
    return Amount(
        cpu_millicores(requests["cpu"]) if "cpu" in requests else 0,
        memory_mib(requests["memory"]) if "memory" in requests else 0,
    )


@dataclass(frozen=True)
class Workload:
    """Where one workload's resources and replica count sit in a chart's values."""

    name: str
    resources: Path
    replicas: Path | int = 1
    # A DaemonSet: one pod on every node.
    per_node: bool = False
    # Containers the chart gives no resources and no value to set them (CSI sidecars): sized instead by the
    # namespace's LimitRange default, ``fixed``, once per container.
    fixed: Mapping[str, Any] | None = None
    containers: int = 1
    # The values switch that turns the workload on, where the chart has one (unset: always on).
    enabled: Path | None = None


@dataclass(frozen=True)
class Demand:
    layer: str
    owner: str
    workload: str
    per_pod: Amount
    pods: int
    per_node: bool
    # Runs only on a board that hosts VMs: a VM's launcher pod, or the JuiceFS mount beside it.
    vm: bool = False

    @property
    def amount(self) -> Amount:
        return self.per_pod.times(self.pods)


def value_at(values: Mapping[str, Any], path: Path) -> Any:
    current: Any = values
    for key in path:
        if not isinstance(current, Mapping) or key not in current:
            raise KeyError(f"{'.'.join(path)} is not set in the chart values")
        current = current[key]
    return current


def chart_demands(layer: str, release: str, values: Mapping[str, Any], workloads: Sequence[Workload],
                  node_count: int) -> list[Demand]:
    """Demand of one chart install, read from the values the program passes it."""
    demands = []
    for workload in workloads:
        if workload.enabled is not None and not value_at(values, workload.enabled):
            continue
        replicas = workload.replicas if isinstance(workload.replicas, int) else int(value_at(values, workload.replicas))
        pods = node_count if workload.per_node else replicas
        block = workload.fixed if workload.fixed is not None else value_at(values, workload.resources)
        per_pod = requests_of(block).times(workload.containers)
        demands.append(Demand(layer, release, workload.name, per_pod, pods, workload.per_node))
    return demands


def pod_requests(pod_spec: Mapping[str, Any]) -> Amount:
    """What the scheduler counts for a pod: its containers together, or its largest init container if that is
    more (init containers run one at a time, before the others), per resource."""
    containers = total(requests_of(container.get("resources")) for container in pod_spec.get("containers", []))
    init = [requests_of(container.get("resources")) for container in pod_spec.get("initContainers", [])]
    return Amount(max([containers.cpu_m, *(a.cpu_m for a in init)]),
                  max([containers.memory_mib, *(a.memory_mib for a in init)]))


def pod_template_demand(layer: str, owner: str, pod_spec: Mapping[str, Any], pods: int,
                        per_node: bool = False) -> Demand:
    """Demand of a pod template the program declares itself."""
    return Demand(layer, owner, owner, pod_requests(pod_spec), pods, per_node)


@dataclass(frozen=True)
class NodeBudget:
    name: str
    capacity: Amount
    allocatable: Amount
    per_node_requests: Amount
    # Whether KubeVirt VMs run on it (components/boards.py).
    kvm: bool = True

    @property
    def free_after_daemons(self) -> Amount:
        return self.allocatable - self.per_node_requests


@dataclass(frozen=True)
class Budget:
    nodes: list[NodeBudget]
    demands: list[Demand] = field(default_factory=list)
    experiment_quota: Amount = Amount()

    @property
    def allocatable(self) -> Amount:
        return total(node.allocatable for node in self.nodes)

    @property
    def capacity(self) -> Amount:
        return total(node.capacity for node in self.nodes)

    def requested(self, layer: str) -> Amount:
        return total(demand.amount for demand in self.demands if demand.layer == layer)

    @property
    def reserved(self) -> Amount:
        """Kubernetes' own pods, the platform, its scheduled jobs (each may run at any time) and production: what
        must always fit."""
        return (self.requested("kubernetes") + self.requested("platform") + self.requested("scheduled")
                + self.requested("production"))

    @property
    def vm_room(self) -> Amount:
        """What the VM-capable nodes offer VMs once their per-node agents run."""
        return total(node.free_after_daemons for node in self.nodes if node.kvm)

    @property
    def vm_requested(self) -> Amount:
        return total(demand.amount for demand in self.demands if demand.vm and demand.layer != ROLLOUT_LAYER)

    @property
    def rollout_room(self) -> Amount:
        """The one extra VM production's rollouts start: not reserved (experiments may use it, and production,
        of higher priority, preempts them while it rolls out), but it must fit beside what is."""
        return self.requested(ROLLOUT_LAYER)

    @property
    def free(self) -> Amount:
        """What experiments may still ask for: free overall, and free on the nodes that can run their VMs."""
        overall = self.allocatable - self.reserved - self.experiment_quota
        for_vms = self.vm_room - self.vm_requested - self.experiment_quota
        return Amount(min(overall.cpu_m, for_vms.cpu_m), min(overall.memory_mib, for_vms.memory_mib))

    def problems(self) -> list[str]:
        found = []
        if not self.reserved.fits_in(self.allocatable):
            found.append("kubernetes + platform + production requests exceed the allocatable total")
        elif not (self.reserved + self.experiment_quota).fits_in(self.allocatable):
            found.append("experiment quotas exceed what is left after platform and production")
        fits = self.reserved.fits_in(self.allocatable) and self.vm_requested.fits_in(self.vm_room)
        if fits and not ((self.reserved + self.rollout_room).fits_in(self.allocatable)
                         and (self.vm_requested + self.rollout_room).fits_in(self.vm_room)):
            found.append(f"production's rollouts need room for one more VM ({self.rollout_room.cpu_m}m CPU, "
                         f"{self.rollout_room.memory_mib}Mi) beside everything reserved")
        if not self.vm_requested.fits_in(self.vm_room):
            found.append(f"the VMs need {self.vm_requested.cpu_m}m CPU and {self.vm_requested.memory_mib}Mi, but "
                         f"the nodes that can run VMs offer only {self.vm_room.cpu_m}m and {self.vm_room.memory_mib}Mi")
        found += [f"node {node.name}: per-node (DaemonSet) requests exceed its allocatable"
                  for node in self.nodes if not node.per_node_requests.fits_in(node.allocatable)]
        return found

    def as_json(self) -> dict[str, Any]:
        def amount(value: Amount) -> dict[str, int]:
            return asdict(value)

        return {
            "nodes": [{"name": n.name, "capacity": amount(n.capacity), "allocatable": amount(n.allocatable),
                       "perNodeRequests": amount(n.per_node_requests),
                       "freeAfterPerNode": amount(n.free_after_daemons)} for n in self.nodes],
            "total": {
                "capacity": amount(self.capacity),
                "allocatable": amount(self.allocatable),
                "kubernetes": amount(self.requested("kubernetes")),
                "platform": amount(self.requested("platform")),
                "scheduled": amount(self.requested("scheduled")),
                "production": amount(self.requested("production")),
                "rolloutRoom": amount(self.rollout_room),
                "experimentQuota": amount(self.experiment_quota),
                "vmRoom": amount(self.vm_room),
                "vms": amount(self.vm_requested),
                "free": amount(self.free),
            },
            "workloads": [{"layer": d.layer, "owner": d.owner, "workload": d.workload, "pods": d.pods,
                           "perNode": d.per_node, "perPod": amount(d.per_pod), "total": amount(d.amount)}
                          for d in sorted(self.demands, key=lambda d: (d.layer, d.owner, d.workload))],
            "problems": self.problems(),
        }

    def table(self) -> str:
        """A plain-text table for errors and logs."""
        rows = [("", "CPU (m)", "memory (Mi)")]
        rows += [(f"node {n.name} allocatable", str(n.allocatable.cpu_m), str(n.allocatable.memory_mib))
                 for n in self.nodes]
        for label, value in (("allocatable total", self.allocatable),
                             ("kubernetes requests", self.requested("kubernetes")),
                             ("platform requests", self.requested("platform")),
                             ("scheduled job requests", self.requested("scheduled")),
                             ("production requests", self.requested("production")),
                             ("rollout room", self.rollout_room),
                             ("experiment quota", self.experiment_quota),
                             ("room for VMs (KVM nodes)", self.vm_room), ("VM requests", self.vm_requested),
                             ("free", self.free)):
            rows.append((label, str(value.cpu_m), str(value.memory_mib)))
        width = max(len(row[0]) for row in rows)
        return "\n".join(f"{a:<{width}}  {b:>8}  {c:>11}" for a, b, c in rows)


def node_budget(node: Node, cluster: ClusterSettings, per_node_requests: Amount) -> NodeBudget:
    board = BOARDS[node.board]
    reserved = cluster.reserved
    capacity = Amount(board.cpu_cores * 1000, board.memory_mib)
    kept = Amount(
        cpu_millicores(reserved.system.cpu) + cpu_millicores(reserved.kube.cpu),
        memory_mib(reserved.system.memory) + memory_mib(reserved.kube.memory) + memory_mib(reserved.eviction_memory),
    )
    return NodeBudget(node.name, capacity, capacity - kept, per_node_requests, board.kvm)


def plan(nodes: Sequence[Node], cluster: ClusterSettings, demands: Sequence[Demand],
         experiment_quota: Amount = Amount()) -> Budget:
    per_node = total(d.per_pod for d in demands if d.per_node)
    return Budget([node_budget(node, cluster, per_node) for node in nodes], list(demands), experiment_quota)


class CapacityError(Exception):
    """The plan does not fit the inventory; the message carries the whole table."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        super().__init__("the plan does not fit the inventory:\n  - " + "\n  - ".join(budget.problems())
                         + "\n" + budget.table()
                         + "\nfix: add nodes to homelab:nodes, or shrink the platform's settings")
