"""Field types of the stack config: each value's own rule, and the fix its error names."""

import ipaddress
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

import pulumi
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    GetCoreSchemaHandler,
    Strict,
)
from pydantic_core import core_schema

from components.boards import BOARDS
from components.quantities import cpu_millicores, memory_mib

NAMESPACE = "homelab"
Role = Literal["platform", "lab"]


class Secret:
    """A secret config value. It never prints, and it only ever leaves as a secret ``pulumi.Output``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "Secret('[secret]')"

    __str__ = __repr__

    def output(self) -> pulumi.Output[str]:
        return pulumi.Output.secret(self._value)

    def __len__(self) -> int:
        """Its length, which rules may judge without the value leaving the object."""
        return len(self._value)

    def satisfies(self, check: Callable[[str], bool]) -> bool:
        """Whether the value passes ``check``: only the verdict leaves the object."""
        return bool(check(self._value))

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            cls,
            core_schema.str_schema(min_length=1),
            serialization=core_schema.plain_serializer_function_ser_schema(repr),
        )


def _fixable(problem: str, fix: str) -> ValueError:
    return ValueError(f"{problem} — fix: {fix}")


def _dns_label(value: str) -> str:
    if not re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", value):
        raise _fixable(f"{value!r} is not a DNS label", "use 1-63 lowercase letters, digits and '-'")
    return value


def _semver(value: str) -> str:
    if not re.fullmatch(r"v\d+\.\d+\.\d+", value):
        raise _fixable(f"{value!r} is not a pinned version", "write it as vMAJOR.MINOR.PATCH, e.g. v1.12.11")
    return value


def _positive(value: str, parse: Callable[[str], int], what: str, examples: str) -> str:
    """``value`` if ``parse`` reads it as a positive quantity of ``what``."""
    try:
        amount = parse(value)
    except ValueError as error:
        raise _fixable(str(error), f"write {what} like {examples}") from None
    if amount <= 0:
        raise _fixable(f"{value!r} is no {what} at all", f"give a positive quantity, like {examples}")
    return value


def _cpu(value: str) -> str:
    return _positive(value, cpu_millicores, "CPU", "1, 0.5 or 250m")


def _memory(value: str) -> str:
    return _positive(value, memory_mib, "memory", "512Mi or 2Gi")


# Each cron field's range (minute, hour, day of month, month, day of week; 7 is Sunday too).
_CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7))


def _cron_part_ok(part: str, low: int, high: int) -> bool:
    base, _, step = part.partition("/")
    if step and not (step.isdigit() and int(step) > 0):
        return False
    if base == "*":
        return True
    start, _, stop = base.partition("-")
    numbers = [start, stop] if stop else [start]
    return all(n.isdigit() and low <= int(n) <= high for n in numbers) and (not stop or int(start) <= int(stop))


def _cron(value: str) -> str:
    """A five-field cron schedule as Kubernetes and Velero read it, every number inside its field's range."""
    fields = value.split()
    if len(fields) != len(_CRON_FIELDS):
        raise _fixable(f"{value!r} is not a five-field cron schedule", "write minute hour day month weekday, "
                       "e.g. '0 3 * * *' (daily at 03:00)")
    for text, (name, low, high) in zip(fields, _CRON_FIELDS, strict=True):
        if not all(_cron_part_ok(part, low, high) for part in text.split(",")):
            raise _fixable(f"{value!r}: {text!r} is not a valid {name} ({low}-{high}, *, a-b or */n)",
                           "e.g. '0 3 * * *' (daily at 03:00)")
    return value


# The longest time to live an experiment may ask for; expiry is computed from it.
MAX_TTL_HOURS = 90 * 24


def _ttl(value: str) -> str:
    match = re.fullmatch(r"([1-9][0-9]{0,4})([hd])", value)
    if match is None:
        raise _fixable(f"{value!r} is not a time to live", "write hours or days, e.g. 8h or 7d")
    hours = int(match[1]) * (24 if match[2] == "d" else 1)
    if hours > MAX_TTL_HOURS:
        raise _fixable(f"{value!r} is longer than an experiment may live", f"ask for at most {MAX_TTL_HOURS // 24}d")
    return value


def _a_list(value: Any) -> Any:
    if isinstance(value, str):
        raise _fixable(f"{value!r} is a single value where a list belongs", f"write it as a list: [{value}]")
    return value


def _chart_version(value: str) -> str:
    if not re.fullmatch(r"v?\d+\.\d+\.\d+", value):
        raise _fixable(f"{value!r} is not an exact chart version", "write the chart's own version, e.g. 1.20.0")
    return value


def _known_board(board: str) -> str:
    if board not in BOARDS:
        raise _fixable(f"unknown board {board!r}", f"use one of {', '.join(sorted(BOARDS))}")
    return board


def _pinned(image: str) -> str:
    # The field's pattern already demands a tag or a digest; `latest` is a tag that pins nothing.
    if image.endswith(":latest"):
        raise _fixable(f"{image!r} is not pinned", "name an exact release tag or a digest")
    return image


def _odd(count: int) -> int:
    if count % 2 == 0:
        raise _fixable(f"{count} control planes cannot keep etcd quorum through a failure",
                       "use an odd number (1, 3 or 5)")
    return count


def _distinct_zones(zones: tuple[str, ...]) -> tuple[str, ...]:
    # Each zone becomes a machine template named after it, beside the control plane's.
    if "control-plane" in zones:
        raise _fixable("'control-plane' is the control plane's own machine template, not a zone",
                       "name the zone something else, e.g. zone-c")
    repeated = sorted({zone for zone in zones if zones.count(zone) > 1})
    if repeated:
        raise _fixable(f"zone {', '.join(repeated)} is listed more than once", "list each zone once")
    return zones


def _check_record_target(kind: str, target: str, proxied: bool) -> None:
    if kind not in ("A", "AAAA"):
        return
    try:
        address = ipaddress.ip_address(target)
    except ValueError:
        raise _fixable(f"{target!r} is not an IP address for an {kind} record",
                       "put an address in `target`, or use type CNAME for a host name") from None
    if proxied and address.is_private:
        raise _fixable(f"{target} is a private address and cannot be proxied by Cloudflare",
                       "set `proxied: false` (private and tailnet addresses are served as DNS only)")


def _check_limit_holds_the_request(request: str, limit: str) -> None:
    if memory_mib(limit) < memory_mib(request):
        raise _fixable(f"memoryLimit {limit} is below the request memory {request}",
                       "raise memoryLimit to at least the request (the container could never start)")


DnsLabel = Annotated[str, AfterValidator(_dns_label)]
Board = Annotated[str, AfterValidator(_known_board)]
PinnedImage = Annotated[str, AfterValidator(_pinned)]
Zones = Annotated[tuple[DnsLabel, ...], BeforeValidator(_a_list), AfterValidator(_distinct_zones)]
ChartVersion = Annotated[str, AfterValidator(_chart_version)]
Version = Annotated[str, AfterValidator(_semver)]
CpuQuantity = Annotated[str, AfterValidator(_cpu)]
MemoryQuantity = Annotated[str, AfterValidator(_memory)]
DiskSize = Annotated[str, Field(pattern=r"^[1-9][0-9]*(MiB|GiB|TiB|MB|GB|TB)$")]
# Whole numbers as YAML writes them: `true` is not 1.
Count = Annotated[int, Strict()]
CronSchedule = Annotated[str, AfterValidator(_cron)]
Ttl = Annotated[str, AfterValidator(_ttl)]
# A century of days: retention and lock periods past it are typing mistakes (and overflow date arithmetic).
MAX_DAYS = 36_500
# S3 bucket naming rules: 3-63 lowercase letters, digits, dots and hyphens, starting and ending alphanumeric.
BucketName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
