"""What a KubeVirt VM's virt-launcher pod asks of its node beyond the guest, term by term.

KubeVirt adds a memory overhead to the compute container's request (and to its limit, when the VMI has one):
``GetMemoryOverhead`` in pkg/virt-controller/services/renderresources.go at v1.6.2, with the per-process
figures in template.go there. The serial-console log is a separate native sidecar (``guest-console-log``,
serialconsolelog.go), on unless the VM or the cluster turns it off. CPU gets no overhead: the compute
container requests the VM's own CPU. Everything here reads the VMI's ``domain`` as the templates write it,
so the budget cannot drift from the VMs.
"""

from dataclasses import dataclass
from typing import Any

from components.quantities import cpu_millicores, memory_bytes

MIB = 2**20
# template.go at v1.6.2: the processes every launcher runs.
FIXED_MIB = {"monitor": 25, "virt-launcher": 100, "virtlogd": 25, "virtqemud": 40, "qemu": 30}
PER_VCPU_MIB = 8
IO_THREAD_MIB = 8
VIDEO_MIB = 32
# The UEFI flash every arm64 VM carries (arm64 VMs always boot EFI: pkg/defaults/arm64.go).
ARM64_FLASH_MIB = 128
# Added when the VMI asks for Guaranteed QoS (requests = limits) or dedicated CPUs.
GUARANTEED_MIB = 100
# The console-log sidecar's request and limit (serialconsolelog.go); Guaranteed VMs request the limit.
CONSOLE_LOG_REQUEST = {"cpu": "5m", "memory": "35M"}
CONSOLE_LOG_LIMIT = {"cpu": "15m", "memory": "60M"}


@dataclass(frozen=True)
class LauncherOverhead:
    """Bytes of each term, and the sidecar's request, for one VM."""

    terms: dict[str, int]
    sidecar_cpu_m: int
    sidecar_memory: int

    @property
    def memory(self) -> int:
        return sum(self.terms.values())

    @property
    def pod_memory(self) -> int:
        """What the scheduler counts beyond the guest: the compute container's overhead plus the sidecar."""
        return self.memory + self.sidecar_memory


def _vcpus(domain: dict[str, Any]) -> int:
    cpu = domain.get("cpu") or {}
    if cpu:
        return int(cpu.get("sockets", 1)) * int(cpu.get("cores", 1)) * int(cpu.get("threads", 1))
    resources = domain.get("resources") or {}
    quantity = (resources.get("limits") or {}).get("cpu") or (resources.get("requests") or {}).get("cpu") or "1"
    return max(1, -(-cpu_millicores(quantity) // 1000))


def _guaranteed(domain: dict[str, Any]) -> bool:
    resources = domain.get("resources") or {}
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    same = all(key in requests and key in limits and requests[key] == limits[key] for key in ("cpu", "memory"))
    return same or bool((domain.get("cpu") or {}).get("dedicatedCpuPlacement"))


def launcher_overhead(domain: dict[str, Any], arch: str = "arm64") -> LauncherOverhead:
    """KubeVirt v1.6.2's overhead for a VMI with this ``domain`` on an ``arch`` node."""
    devices = domain.get("devices") or {}
    guest = memory_bytes((domain.get("memory") or {}).get("guest")
                         or ((domain.get("resources") or {}).get("requests") or {})["memory"])
    terms = {
        # Page tables: the guest's memory in whole KiB (rounded up), divided by 512.
        "page tables": -(-guest // 1024) * 1024 // 512,
        "processes": sum(FIXED_MIB.values()) * MIB,
        "vCPUs": PER_VCPU_MIB * _vcpus(domain) * MIB,
        "I/O thread": IO_THREAD_MIB * MIB,
    }
    if devices.get("autoattachGraphicsDevice", True) is not False:
        terms["video"] = VIDEO_MIB * MIB
    if arch == "arm64":
        terms["UEFI flash"] = ARM64_FLASH_MIB * MIB
    guaranteed = _guaranteed(domain)
    if guaranteed:
        terms["Guaranteed QoS"] = GUARANTEED_MIB * MIB
    if devices.get("logSerialConsole", True) is False:
        return LauncherOverhead(terms, 0, 0)
    sidecar = CONSOLE_LOG_LIMIT if guaranteed else CONSOLE_LOG_REQUEST
    return LauncherOverhead(terms, cpu_millicores(sidecar["cpu"]), memory_bytes(sidecar["memory"]))
