"""KubeVirt v1.6.2's launcher overhead, term by term, against worked examples."""

from components.clusters.classes import EXPERIMENT_CLASS, PRODUCTION_CLASS
from components.clusters.launcher import MIB, launcher_overhead
from components.config import VmSize


def _vmi(cpu: int, memory: str, cpu_request: str, **devices: bool) -> dict:
    return {"cpu": {"cores": cpu}, "memory": {"guest": memory}, "devices": devices,
            "resources": {"requests": {"cpu": cpu_request, "memory": memory},
                          "limits": {"cpu": f"{cpu * 1000}m", "memory": memory}}}


def test_a_guaranteed_two_vcpu_vm_with_kubevirts_defaults():
    # 4 (2Gi / 512) + 220 fixed + 2 × 8 + 8 I/O thread + 32 video + 128 arm64 flash + 100 Guaranteed.
    overhead = launcher_overhead(_vmi(2, "2Gi", "2000m"))
    assert overhead.memory == 508 * MIB == 532_676_608
    assert (overhead.sidecar_cpu_m, overhead.sidecar_memory) == (15, 60_000_000)


def test_a_burstable_one_vcpu_vm_with_kubevirts_defaults():
    overhead = launcher_overhead(_vmi(1, "2Gi", "250m"))
    assert overhead.memory == 400 * MIB
    assert "Guaranteed QoS" not in overhead.terms
    assert (overhead.sidecar_cpu_m, overhead.sidecar_memory) == (5, 35_000_000)


def test_page_tables_follow_guest_memory_and_amd64_has_no_flash():
    overhead = launcher_overhead(_vmi(4, "3Gi", "1000m", autoattachGraphicsDevice=False), arch="amd64")
    assert overhead.terms["page tables"] == 6 * MIB
    assert "video" not in overhead.terms and "UEFI flash" not in overhead.terms
    assert overhead.terms["vCPUs"] == 32 * MIB


def test_dedicated_cpus_count_as_guaranteed():
    domain = _vmi(1, "1Gi", "250m")
    domain["cpu"]["dedicatedCpuPlacement"] = True
    assert "Guaranteed QoS" in launcher_overhead(domain).terms


def test_the_classes_vms_drop_graphics_and_the_console_log_and_the_demand_counts_the_rest():
    size = VmSize(cpu=2, memory="2Gi")
    production = PRODUCTION_CLASS.vm_demand("production", "workers", size, 1).amount
    assert (production.cpu_m, production.memory_mib) == (2000, 2048 + 476)
    experiment = EXPERIMENT_CLASS.vm_demand("sandbox", "workers", VmSize(cpu=1, memory="2Gi"), 1).amount
    assert (experiment.cpu_m, experiment.memory_mib) == (250, 2048 + 368)


def test_vcpus_come_from_sockets_cores_and_threads_or_else_the_cpu_limit_then_request():
    topology = {"cpu": {"sockets": 2, "cores": 2, "threads": 2}, "memory": {"guest": "1Gi"}}
    assert launcher_overhead(topology).terms["vCPUs"] == 8 * 8 * MIB
    by_limit = {"memory": {"guest": "1Gi"}, "resources": {"limits": {"cpu": "2500m"}, "requests": {"cpu": "1"}}}
    assert launcher_overhead(by_limit).terms["vCPUs"] == 3 * 8 * MIB, "a part of a core counts as a whole vCPU"
    by_request = {"memory": {"guest": "1Gi"}, "resources": {"requests": {"cpu": "2", "memory": "1Gi"}}}
    assert launcher_overhead(by_request).terms["vCPUs"] == 2 * 8 * MIB
    bare = {"resources": {"requests": {"memory": "1Gi"}}}
    overhead = launcher_overhead(bare)
    assert overhead.terms["vCPUs"] == 8 * MIB and overhead.terms["page tables"] == 2 * MIB


def test_guaranteed_needs_both_cpu_and_memory_equal():
    only_memory = _vmi(1, "1Gi", "250m")
    assert "Guaranteed QoS" not in launcher_overhead(only_memory).terms
    missing_cpu_limit = {"cpu": {"cores": 1}, "memory": {"guest": "1Gi"},
                         "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}}
    assert "Guaranteed QoS" not in launcher_overhead(missing_cpu_limit).terms


def test_the_pod_counts_the_sidecar_beside_the_compute_overhead():
    overhead = launcher_overhead(_vmi(1, "2Gi", "250m"))
    assert overhead.pod_memory == overhead.memory + 35_000_000
    assert launcher_overhead(_vmi(1, "2Gi", "250m", logSerialConsole=False)).pod_memory == \
        launcher_overhead(_vmi(1, "2Gi", "250m", logSerialConsole=False)).memory
