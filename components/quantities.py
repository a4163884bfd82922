"""Kubernetes resource quantities (``250m``, ``1.5``, ``512Mi``, ``2G``) as plain integers.

CPU becomes millicores and memory becomes MiB: the units the capacity budget adds up.
"""

import math
import re
from decimal import Decimal
from typing import Any

_QUANTITY = re.compile(r"^(?P<number>[0-9]+(\.[0-9]+)?)(?P<suffix>m|k|M|G|T|Ki|Mi|Gi|Ti)?$")
_MEMORY_FACTORS = {
    None: Decimal(1), "k": Decimal(10**3), "M": Decimal(10**6), "G": Decimal(10**9), "T": Decimal(10**12),
    "Ki": Decimal(2**10), "Mi": Decimal(2**20), "Gi": Decimal(2**30), "Ti": Decimal(2**40),
}
_MIB = Decimal(2**20)


def _match(text: str) -> re.Match[str]:
    match = _QUANTITY.match(str(text).strip())
    if match is None:
        raise ValueError(f"{text!r} is not a Kubernetes quantity (examples: 250m, 2, 512Mi, 1Gi)")
    return match


def cpu_millicores(text: str | int | float) -> int:
    """``"250m"`` → 250, ``"2"`` → 2000."""
    match = _match(str(text))
    number, suffix = Decimal(match["number"]), match["suffix"]
    if suffix == "m":
        return int(number)
    if suffix is not None:
        raise ValueError(f"{text!r} is not a CPU quantity (examples: 250m, 1, 1.5)")
    return int(number * 1000)


def memory_bytes(text: str | int | float) -> int:
    """``"1Ki"`` → 1024, ``"35M"`` → 35000000 (a fraction of a byte rounded up)."""
    match = _match(str(text))
    if match["suffix"] == "m":
        raise ValueError(f"{text!r} is not a memory quantity (examples: 512Mi, 1Gi)")
    return math.ceil(Decimal(match["number"]) * _MEMORY_FACTORS[match["suffix"]])


def mib_rounded_up(size_bytes: int) -> int:
    """Bytes as whole MiB, a part of one counting as one."""
    # math.ceil, not -(-a // b): Decimal's // truncates toward zero, so that idiom rounds a part of a MiB down.
    return math.ceil(size_bytes / _MIB)


def memory_mib(text: str | int | float) -> int:
    """``"512Mi"`` → 512, ``"1Gi"`` → 1024, ``"1G"`` → 954 (rounded up)."""
    return mib_rounded_up(memory_bytes(text))


def disk_quantity(size: str) -> str:
    """Config disk sizes (``10GiB``, ``500GB``) as Kubernetes quantities (``10Gi``, ``500G``)."""
    return size.removesuffix("B")


def disk_mib(size: str) -> int:
    """``"4GiB"`` → 4096."""
    return memory_mib(disk_quantity(size))


def format_mib(mib: int) -> str:
    """512 → ``"512Mi"``; whole GiB as ``"2Gi"``."""
    return f"{mib // 1024}Gi" if mib % 1024 == 0 and mib else f"{mib}Mi"


def resources(cpu: str, memory: str, cpu_limit: str | None = None, memory_limit: str | None = None) -> dict[str, Any]:
    """A container ``resources`` block sized for a Raspberry Pi; memory limit defaults to the request."""
    limits = {"memory": memory_limit or memory}
    if cpu_limit:
        limits["cpu"] = cpu_limit
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": limits}
