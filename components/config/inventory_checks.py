"""Cross-field checks of the inventory, the cluster and the guest clusters: what no single field can know."""

import ipaddress
from collections.abc import Iterable

from components.address_ranges import CLUSTER_RANGES
from components.boards import BOARDS
from components.config.errors import ConfigIssue
from components.config.stack import RESERVED_CLUSTER_NAMES, HomelabConfig
from components.config.values import NAMESPACE
from components.quantities import disk_mib, format_mib


def _check_nodes(config: HomelabConfig, stack: str) -> Iterable[ConfigIssue]:
    if config.role != "platform":
        if config.nodes or config.cluster or config.platform or config.cloud:
            yield ConfigIssue(f"{NAMESPACE}:nodes", "only the platform (prod) stack owns bare metal and cloud",
                              f"remove `homelab:nodes`, `homelab:cluster`, `homelab:platform` and `homelab:cloud` "
                              f"from Pulumi.{stack}.yaml; lab stacks read them from prod")
        return
    if config.platform is None:
        yield ConfigIssue(f"{NAMESPACE}:platform", "required key is missing for role platform",
                          f"add `homelab:platform` (at least gitops.repoUrl) to Pulumi.{stack}.yaml")
    if config.cloud is None:
        yield ConfigIssue(f"{NAMESPACE}:cloud", "required key is missing for role platform",
                          f"add `homelab:cloud` (backup buckets and region, DNS zone) to Pulumi.{stack}.yaml")
    if config.cluster is None:
        yield ConfigIssue(f"{NAMESPACE}:cluster", "required key is missing for role platform",
                          f"add `homelab:cluster` (subnet, vip, loadBalancerRange) to Pulumi.{stack}.yaml")
        return
    cluster = config.cluster
    if not config.nodes:
        yield ConfigIssue(f"{NAMESPACE}:nodes", "the platform stack needs at least one node",
                          "list the machines under `homelab:nodes`")
        return
    for field, label in (("name", "name"), ("ip", "IP address")):
        first_use: dict[object, int] = {}
        for index, node in enumerate(config.nodes):
            value = getattr(node, field)
            if value in first_use:
                yield ConfigIssue(f"{NAMESPACE}:nodes[{index}].{field}",
                                  f"{label} {value} is already used by homelab:nodes[{first_use[value]}]",
                                  f"give every node its own {label}")
            first_use.setdefault(value, index)
    servers = config.platform.object_store.servers if config.platform else 1
    if servers > len(config.nodes) or servers in (2, 3):
        yield ConfigIssue(f"{NAMESPACE}:platform.objectStore.servers",
                          f"{servers} object-store servers on {len(config.nodes)} node(s)",
                          "use 1 (no redundancy) or 4 or more, and no more than there are nodes")
    if not any(BOARDS[node.board].kvm for node in config.nodes):
        kvm_boards = ", ".join(sorted(board.id for board in BOARDS.values() if board.kvm))
        yield ConfigIssue(f"{NAMESPACE}:nodes", "no node can host KubeVirt VMs, so no guest cluster can run",
                          f"add a node whose board runs KVM under Talos: {kvm_boards}")
    control_planes = len(config.control_planes)
    if control_planes % 2 == 0:
        yield ConfigIssue(f"{NAMESPACE}:nodes", f"{control_planes} control-plane nodes: etcd needs an odd number",
                          "set `role: controlplane` on 1, 3 or 5 nodes and `role: worker` on the rest")
    talos = tuple(int(p) for p in config.versions.talos.lstrip("v").split("."))
    for index, node in enumerate(config.nodes):
        board = BOARDS[node.board]
        key = f"{NAMESPACE}:nodes[{index}]"
        if node.ip not in cluster.subnet:
            yield ConfigIssue(f"{key}.ip", f"{node.ip} is outside the node subnet {cluster.subnet}",
                              f"use an address inside {cluster.subnet} or change `homelab:cluster.subnet`")
        if node.ip in (cluster.subnet.network_address, cluster.subnet.broadcast_address):
            which = "network" if node.ip == cluster.subnet.network_address else "broadcast"
            yield ConfigIssue(f"{key}.ip", f"{node.ip} is the subnet's {which} address",
                              f"use a host address of {cluster.subnet}")
        if node.ip == cluster.vip:
            yield ConfigIssue(f"{key}.ip", f"{node.ip} is the control-plane VIP",
                              "give the node its own address; the VIP floats between control planes")
        if int(node.ip) in cluster.load_balancer_range.addresses():
            yield ConfigIssue(f"{key}.ip", f"{node.ip} is inside the LoadBalancer range",
                              "move the node or shrink `homelab:cluster.loadBalancerRange`")
        if node.arch != board.arch:
            yield ConfigIssue(f"{key}.arch", f"board {board.id} is {board.arch}, not {node.arch}",
                              f"set `arch: {board.arch}` or correct `board`")
        min_talos = tuple(int(p) for p in board.min_talos.split("."))
        if talos < min_talos:
            yield ConfigIssue(f"{key}.board", f"{board.description} needs Talos >= {board.min_talos}, "
                              f"the stack pins {config.versions.talos}",
                              "use a supported board, or raise `homelab:versions.talos` once the program supports it")


def _check_cluster(config: HomelabConfig) -> Iterable[ConfigIssue]:
    cluster = config.cluster
    if cluster is None:
        return
    key = f"{NAMESPACE}:cluster"
    if cluster.vip not in cluster.subnet:
        yield ConfigIssue(f"{key}.vip", f"{cluster.vip} is outside the node subnet {cluster.subnet}",
                          f"pick a free address inside {cluster.subnet}")
    lb = cluster.load_balancer_range
    if int(lb.start) > int(lb.stop):
        yield ConfigIssue(f"{key}.loadBalancerRange", f"start {lb.start} is after stop {lb.stop}",
                          "swap start and stop")
    else:
        if lb.start not in cluster.subnet or lb.stop not in cluster.subnet:
            yield ConfigIssue(f"{key}.loadBalancerRange", f"{lb.start}-{lb.stop} is not inside {cluster.subnet}",
                              "use free LAN addresses outside your DHCP pool")
        # Reported on its own: a range outside the subnet does not make a VIP inside it any less wrong.
        if int(cluster.vip) in lb.addresses():
            yield ConfigIssue(f"{key}.vip", f"the VIP {cluster.vip} is inside the LoadBalancer range",
                              "move the VIP or the range so they do not overlap")
    experiments = cluster.experiment_range
    if experiments is not None and not (lb.start <= experiments.start <= experiments.stop <= lb.stop):
        yield ConfigIssue(f"{key}.experimentRange", f"{experiments.start}-{experiments.stop} is not a part of the "
                          f"LoadBalancer range {lb.start}-{lb.stop}", "pick start <= stop, both inside the range")
    elif experiments is not None and config.production and config.production.dns_address and \
            int(config.production.dns_address) in experiments.addresses():
        yield ConfigIssue(f"{key}.experimentRange", f"it holds production's DNS address "
                          f"{config.production.dns_address}", "move the range or homelab:production.dnsAddress")
    for index, nameserver in enumerate(cluster.nameservers):
        if int(lb.start) <= int(nameserver) <= int(lb.stop):
            yield ConfigIssue(f"{key}.nameservers[{index}]",
                              f"{nameserver} is inside the LoadBalancer range, so the nodes' DNS would depend on a "
                              "service of the homelab itself", "use resolvers outside the homelab, e.g. 1.1.1.1")
    for owner, network in CLUSTER_RANGES.items():
        if cluster.subnet.overlaps(network):
            yield ConfigIssue(f"{key}.subnet", f"{cluster.subnet} overlaps {network}, {owner}",
                              "the node subnet must stay clear of "
                              + ", ".join(str(taken) for taken in CLUSTER_RANGES.values()))


# Share of the storage volume's minimum that production's JuiceFS caches may take, all on one node.
CACHE_SHARE_OF_VOLUME = 0.25


def _check_cache_fits_the_volume(config: HomelabConfig) -> Iterable[ConfigIssue]:
    """Each VM disk is a JuiceFS mount on its node, caching up to the per-mount size; all of production's
    could land on one node, beside the object store's and the metadata engine's data on that volume."""
    cluster, production = config.cluster, config.production
    if cluster is None or production is None:
        return
    volume = cluster.storage_volume
    mounts = production.control_planes + production.workers
    cached, allowed = mounts * disk_mib(volume.juicefs_cache_size), disk_mib(volume.min_size) * CACHE_SHARE_OF_VOLUME
    if cached > allowed:
        yield ConfigIssue(f"{NAMESPACE}:cluster.storageVolume.juicefsCacheSize",
                          f"production's {mounts} VM disks could cache {mounts} × {volume.juicefs_cache_size} on one "
                          f"node, more than a quarter of the storage volume's minimum ({volume.min_size})",
                          f"lower juicefsCacheSize to at most {format_mib(int(allowed // mounts))}, or raise minSize")


def _check_production_zones(config: HomelabConfig) -> Iterable[ConfigIssue]:
    """Production's workers run only on the Pis of their zone, so each zone needs a Pi that runs VMs."""
    if config.production is None or config.role != "platform":
        return
    vm_zones = {node.zone for node in config.nodes if BOARDS[node.board].kvm}
    if not vm_zones:
        return  # no node runs VMs at all: _check_nodes says so
    for zone in config.production.zones:
        if zone not in vm_zones:
            yield ConfigIssue(f"{NAMESPACE}:production.zones",
                              f"no node that can run VMs is in zone {zone!r}, so its workers could never start",
                              "use zones of the inventory's VM-capable nodes: " + ", ".join(sorted(vm_zones)))


def _check_records_on_the_pool(config: HomelabConfig) -> Iterable[ConfigIssue]:
    """An A record into the LoadBalancer range must name an address the program pins; any other address of
    the range goes to whichever Service asks first, so the record would point at a stranger."""
    cluster, production = config.cluster, config.production
    if config.cloud is None or cluster is None:
        return
    pinned = {str(production.dns_address)} if production and production.dns_address else set()
    for index, record in enumerate(config.cloud.dns.records):
        address = ipaddress.ip_address(record.target) if record.type == "A" else None
        if address is not None and int(address) in cluster.load_balancer_range.addresses() \
                and record.target not in pinned:
            yield ConfigIssue(f"{NAMESPACE}:cloud.dns.records[{index}].target",
                              f"{record.target} is in the LoadBalancer range but nothing pins it",
                              "set `homelab:production.dnsAddress` to it (Pi-hole), or point the record elsewhere")


def _check_guests(config: HomelabConfig) -> Iterable[ConfigIssue]:
    production, cluster = config.production, config.cluster
    address = production.dns_address if production else None
    pool = cluster.load_balancer_range if cluster else None
    if address and pool and pool.start <= pool.stop and int(address) not in pool.addresses():
        yield ConfigIssue(f"{NAMESPACE}:production.dnsAddress", f"{address} is outside the LoadBalancer range",
                          "pick a free address of homelab:cluster.loadBalancerRange")
    yield from _check_records_on_the_pool(config)
    yield from _check_cache_fits_the_volume(config)
    yield from _check_production_zones(config)
    if config.role == "platform" and config.experiments:
        yield ConfigIssue(f"{NAMESPACE}:experiments", "experiments belong to the lab stack, not prod",
                          "move them to Pulumi.lab.yaml (or create one with `labctl experiment create`)")
    if config.role == "lab" and config.production is not None:
        yield ConfigIssue(f"{NAMESPACE}:production", "the production cluster belongs to the prod stack",
                          "move `homelab:production` to Pulumi.prod.yaml")
    seen: set[str] = set()
    for index, experiment in enumerate(config.experiments):
        key = f"{NAMESPACE}:experiments[{index}].name"
        if experiment.name in seen:
            yield ConfigIssue(key, f"experiment {experiment.name!r} is listed twice", "give each a unique name")
        if experiment.name in RESERVED_CLUSTER_NAMES or experiment.name.startswith("exp-"):
            yield ConfigIssue(key, f"{experiment.name!r} is reserved (prod, lab, production, and exp-… which "
                              "names labctl's experiment stacks)", "pick another name")
        seen.add(experiment.name)
        if experiment.workers and experiment.workers < len(experiment.zones):
            yield ConfigIssue(f"{NAMESPACE}:experiments[{index}].zones",
                              f"{len(experiment.zones)} zones but only {experiment.workers} workers",
                              "list at most as many zones as workers")


def inventory_issues(config: HomelabConfig, stack: str) -> list[ConfigIssue]:
    """Every cross-field problem of the nodes, the cluster and the guest clusters."""
    return [*_check_nodes(config, stack), *_check_cluster(config), *_check_guests(config)]
