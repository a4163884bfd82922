"""What each cluster class asks of the boards, the fences around a guest's namespace, and the quantity units."""

import ipaddress

import pytest

from components.capacity import Amount, Demand
from components.clusters import fences
from components.clusters.classes import CONTROL_PLANE_EVICTION, EXPERIMENT_CLASS, PRODUCTION_CLASS
from components.config import VmSize
from components.quantities import (
    cpu_millicores,
    disk_mib,
    disk_quantity,
    format_mib,
    memory_bytes,
    memory_mib,
    mib_rounded_up,
    resources,
)

SIZE = VmSize(cpu=2, memory="2Gi")


def test_production_is_guaranteed_zone_bound_and_handed_to_cluster_api_on_a_drain():
    assert (PRODUCTION_CLASS.name, PRODUCTION_CLASS.priority.name, PRODUCTION_CLASS.layer) == (
        "production", "homelab-production", "production")
    assert PRODUCTION_CLASS.cpu_request_m(SIZE) == 2000 and PRODUCTION_CLASS.zone_bound
    assert not PRODUCTION_CLASS.local_volumes and PRODUCTION_CLASS.eviction == "External"
    assert CONTROL_PLANE_EVICTION == "None"


def test_experiments_ask_a_quarter_of_each_vcpu_and_keep_scratch_volumes():
    assert (EXPERIMENT_CLASS.name, EXPERIMENT_CLASS.priority.name, EXPERIMENT_CLASS.layer) == (
        "experiment", "homelab-experiment", "experiment")
    assert EXPERIMENT_CLASS.cpu_request_m(SIZE) == 500 and EXPERIMENT_CLASS.cpu_request_m(VmSize(cpu=1)) == 250
    assert EXPERIMENT_CLASS.local_volumes and not EXPERIMENT_CLASS.zone_bound


def test_argo_cd_names_experiments_apart_from_production():
    assert PRODUCTION_CLASS.argocd_name("production") == "production"
    assert EXPERIMENT_CLASS.argocd_name("sandbox") == "exp-sandbox"


def test_the_domain_requests_the_class_share_and_limits_the_whole_vm():
    assert EXPERIMENT_CLASS.domain(SIZE) == {
        "cpu": {"cores": 2},
        "memory": {"guest": "2Gi"},
        "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}, "limits": {"cpu": "2000m", "memory": "2Gi"}},
        "devices": {"disks": [{"name": "boot", "disk": {"bus": "virtio"}}], "networkInterfaceMultiqueue": True,
                    "autoattachGraphicsDevice": False, "logSerialConsole": False},
    }
    production = PRODUCTION_CLASS.domain(SIZE)["resources"]
    assert production["requests"] == production["limits"] == {"cpu": "2000m", "memory": "2Gi"}


def test_a_vms_demand_is_its_guest_plus_the_launcher_overhead_per_vm():
    # Production, 2 vCPU, 2 GiB: 4 Mi page tables + 220 + 16 + 8 + 128 flash + 100 Guaranteed = 476 Mi.
    demand = PRODUCTION_CLASS.vm_demand("production", "workers", SIZE, 3)
    assert demand == Demand("production", "production", "workers", Amount(2000, 2048 + 476), 3, False, vm=True)
    assert demand.amount == Amount(6000, 3 * 2524)
    # Burstable: no Guaranteed term.
    assert EXPERIMENT_CLASS.vm_demand("x", "cp", SIZE, 1).per_pod == Amount(500, 2048 + 376)


def test_the_overhead_shown_names_the_guest_the_total_and_every_term():
    shown = PRODUCTION_CLASS.vm_overhead(SIZE)
    assert shown["guestMib"] == 2048 and shown["overheadMib"] == 476
    assert shown["terms"] == {"page tables": 4.0, "processes": 220.0, "vCPUs": 16.0, "I/O thread": 8.0,
                              "UEFI flash": 128.0, "Guaranteed QoS": 100.0}


def test_an_experiment_quota_is_what_its_pods_ask_plus_room_for_disk_imports():
    demands = [Demand("experiment", "x", "vm", Amount(250, 1000), 2, False),
               Demand("experiment", "x", "ccm", Amount(10, 20), 1, False)]
    assert fences.quota(demands) == Amount(510 + 500, 2020 + 512)
    assert fences.quota([]) == fences.IMPORT_HEADROOM == Amount(500, 512)


def test_containers_in_an_experiment_get_requests_and_limits_by_default():
    assert fences.CONTAINER_DEFAULTS == {"defaultRequest": {"cpu": "100m", "memory": "128Mi"},
                                         "default": {"cpu": "500m", "memory": "512Mi"}}


def test_experiments_reach_their_namespace_dns_the_world_and_only_the_lans_api_server():
    assert fences.experiment_egress("192.168.10.0/24") == [
        {"to": [{"podSelector": {}}]},
        {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                 "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
         "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
        {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["192.168.10.0/24", "10.244.0.0/16"]}}]},
        {"to": [{"ipBlock": {"cidr": "192.168.10.0/24"}}], "ports": [{"protocol": "TCP", "port": 6443}]},
    ]


def _selects(selector, labels):
    expressions = selector.get("matchExpressions", [])
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items()) and all(
        (labels.get(e["key"]) in e["values"]) == (e["operator"] == "In") for e in expressions)


def _peer_admits(peer, source_namespace, destination):
    """NetworkPolicy peer semantics as Cilium applies them (an ipBlock never matches a pod)."""
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        address = ipaddress.ip_address(destination["ip"])
        return destination.get("pod") is None and address in ipaddress.ip_network(block["cidr"]) and not any(
            address in ipaddress.ip_network(cidr) for cidr in block.get("except", []))
    if destination.get("pod") is None:
        return False
    namespace = destination["namespace"]
    if "namespaceSelector" in peer:
        same_namespace = _selects(peer["namespaceSelector"], {**namespace["labels"],
                                                              "kubernetes.io/metadata.name": namespace["name"]})
    else:
        same_namespace = namespace["name"] == source_namespace
    return same_namespace and _selects(peer.get("podSelector", {}), destination["pod"])


def _egress_allows(rules, source_namespace, destination):
    return any(any(_peer_admits(peer, source_namespace, destination) for peer in rule["to"]) and (
        "ports" not in rule or {"protocol": destination["protocol"], "port": destination["port"]} in rule["ports"])
        for rule in rules)


def _pod(namespace, labels=None, port=443, protocol="TCP", cls=None):
    ns_labels = {"homelab.dev/cluster-class": cls} if cls else {}
    return {"namespace": {"name": namespace, "labels": ns_labels}, "pod": labels or {}, "ip": "10.244.1.9",
            "port": port, "protocol": protocol}


def _host(ip, port, protocol="TCP"):
    return {"ip": ip, "port": port, "protocol": protocol}


DNS_POD = {"k8s-app": "kube-dns"}
REACHABLE = {
    "its own control plane": _pod("experiment-demo", {"cluster.x-k8s.io/role": "control-plane"}, 6443,
                                  cls="experiment"),
    "DNS over UDP": _pod("kube-system", DNS_POD, 53, "UDP"), "DNS over TCP": _pod("kube-system", DNS_POD, 53),
    "the infrastructure API on a Pi": _host("192.168.10.11", 6443), "an image registry": _host("104.18.0.1", 443),
    "the off-site bucket": _host("52.95.150.2", 443),
}
UNREACHABLE = {
    "CoreDNS metrics": _pod("kube-system", DNS_POD, 9153), "another kube-system pod": _pod("kube-system", {}, 53),
    "Loki": _pod("monitoring", {"app.kubernetes.io/name": "loki"}, 3100),
    "Mimir": _pod("monitoring", {"app.kubernetes.io/name": "mimir"}, 8080),
    "Argo CD's repo server": _pod("argocd", {"app.kubernetes.io/name": "argocd-repo-server"}, 8081),
    "MinIO": _pod("storage", {"app": "minio"}, 9000), "the metadata etcd": _pod("storage", {}, 2379),
    "production": _pod("production", {}, 80, cls="production"),
    "another experiment": _pod("experiment-other", {}, 6443, cls="experiment"),
    "a Pi's kubelet": _host("192.168.10.11", 10250), "a Pi's Talos API": _host("192.168.10.12", 50000),
    "a node's router address": _host("10.244.2.1", 4240), "a printer on the LAN": _host("192.168.10.50", 80),
}


@pytest.mark.parametrize("where", sorted(REACHABLE))
def test_an_experiment_reaches_what_it_needs(where):
    assert _egress_allows(fences.experiment_egress("192.168.10.0/24"), "experiment-demo", REACHABLE[where])


@pytest.mark.parametrize("where", sorted(UNREACHABLE))
def test_an_experiment_reaches_nothing_else(where):
    assert not _egress_allows(fences.experiment_egress("192.168.10.0/24"), "experiment-demo", UNREACHABLE[where])


def test_production_takes_traffic_from_anything_but_an_experiment():
    assert fences.production_ingress() == [
        {"from": [{"namespaceSelector": {"matchExpressions": [
            {"key": "homelab.dev/cluster-class", "operator": "NotIn", "values": ["experiment"]}]}}]},
        {"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]},
    ]


@pytest.mark.parametrize(("text", "millicores"), [("250m", 250), ("2", 2000), ("1.5", 1500), (3, 3000),
                                                  (" 500m ", 500), ("0.0005", 0)])
def test_cpu_quantities_become_millicores(text, millicores):
    assert cpu_millicores(text) == millicores


@pytest.mark.parametrize("text", ["2Gi", "1k", "lots", "", "-1", "1.5.2"])
def test_what_is_no_cpu_quantity_is_refused(text):
    with pytest.raises(ValueError, match="is not a"):
        cpu_millicores(text)


def test_the_cpu_and_memory_refusals_name_the_value_and_examples():
    with pytest.raises(ValueError) as caught:
        cpu_millicores("1Gi")
    assert str(caught.value) == "'1Gi' is not a CPU quantity (examples: 250m, 1, 1.5)"
    with pytest.raises(ValueError) as caught:
        memory_bytes("100m")
    assert str(caught.value) == "'100m' is not a memory quantity (examples: 512Mi, 1Gi)"
    with pytest.raises(ValueError) as caught:
        memory_bytes("2GB")
    assert str(caught.value) == "'2GB' is not a Kubernetes quantity (examples: 250m, 2, 512Mi, 1Gi)"


@pytest.mark.parametrize(("text", "size"), [("1", 1), ("1Ki", 1024), ("1k", 1000), ("35M", 35_000_000),
                                            ("2G", 2 * 10**9), ("1T", 10**12), ("1Mi", 2**20), ("1Gi", 2**30),
                                            ("1Ti", 2**40), ("1.5Ki", 1536), ("0.5", 1), (512, 512)])
def test_memory_quantities_become_bytes_rounded_up(text, size):
    assert memory_bytes(text) == size


def test_mebibytes_round_up_and_print_whole_gibibytes_short():
    assert mib_rounded_up(0) == 0 and mib_rounded_up(1) == 1 and mib_rounded_up(2**20) == 1
    assert mib_rounded_up(2**20 + 1) == 2
    assert memory_mib("1G") == 954 and memory_mib("512Mi") == 512
    assert (format_mib(512), format_mib(1024), format_mib(3072), format_mib(1536), format_mib(0)) == (
        "512Mi", "1Gi", "3Gi", "1536Mi", "0Mi")
    assert disk_quantity("10GiB") == "10Gi" and disk_quantity("500GB") == "500G" and disk_mib("4GiB") == 4096


def test_a_resources_block_limits_memory_to_the_request_unless_told():
    assert resources("100m", "64Mi") == {"requests": {"cpu": "100m", "memory": "64Mi"},
                                         "limits": {"memory": "64Mi"}}
    assert resources("100m", "64Mi", cpu_limit="1", memory_limit="128Mi") == {
        "requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "128Mi", "cpu": "1"}}
