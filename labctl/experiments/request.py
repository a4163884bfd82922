"""What an experiment request becomes: its stack name, its stack config, its expiry — decided before any call.

Every experiment is a stack ``exp-NAME`` of this project whose config is ``Pulumi.lab.yaml`` (the template)
with exactly one experiment in ``homelab:experiments``, built from the command's flags and validated by the
same config model the program uses, so a bad flag is refused before a stack exists.
"""

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from components.config import RESERVED_CLUSTER_NAMES, ConfigError, parse_config
from labctl.exit_codes import ExitCode

STACK_PREFIX = "exp-"
EXPIRES_TAG = "homelab:expires-at"
TTL_TAG = "homelab:ttl"
# Named VM sizes for `--size`.
SIZES: dict[str, dict[str, Any]] = {
    "small": {"cpu": 1, "memory": "2Gi"},
    "medium": {"cpu": 2, "memory": "3Gi"},
    "large": {"cpu": 2, "memory": "4Gi"},
}
_TTL = re.compile(r"^([1-9][0-9]*)([hd])$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1)}


class RequestError(ValueError):
    """A request's arguments refused before anything is created; says what is wrong and how to fix it."""

    exit_code = ExitCode.USAGE

    def __init__(self, problem: str, fix: str) -> None:
        self.problem, self.fix = problem, fix
        super().__init__(f"{problem} — fix: {fix}")


class ConflictError(RequestError):
    """A well-formed request that the stacks as they are refuse (the name is taken)."""

    exit_code = ExitCode.REFUSED


@dataclass(frozen=True)
class ExperimentRequest:
    name: str
    workers: int = 1
    control_planes: int = 1
    size: str = "small"
    zones: int = 1
    chaos: bool = False
    like: str | None = None
    ttl: str = "8h"
    restore_from: str | None = None


def stack_name(name: str) -> str:
    return f"{STACK_PREFIX}{name}"


def is_experiment_stack(stack: str) -> bool:
    return stack.startswith(STACK_PREFIX) and len(stack) > len(STACK_PREFIX)


def experiment_name(stack: str) -> str:
    if not is_experiment_stack(stack):
        raise RequestError(f"{stack!r} is not an experiment stack", f"experiment stacks are named {STACK_PREFIX}NAME")
    return stack.removeprefix(STACK_PREFIX)


def check_name(name: str, existing_stacks: set[str]) -> None:
    if not re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?", name):
        raise RequestError(f"{name!r} is not a DNS-safe name",
                           "use up to 42 lowercase letters, digits and '-', starting and ending alphanumeric")
    if name in RESERVED_CLUSTER_NAMES or name.startswith(STACK_PREFIX):
        raise RequestError(f"{name!r} is reserved", "pick another name (not prod, lab, production or exp-…)")
    if stack_name(name) in existing_stacks:
        raise ConflictError(f"experiment {name!r} already exists",
                           f"pick another name, or `labctl experiment destroy {name}` first")


def ttl_delta(ttl: str) -> timedelta:
    match = _TTL.fullmatch(ttl)
    if match is None:
        raise RequestError(f"{ttl!r} is not a TTL", "write hours or days, e.g. 8h or 2d")
    return int(match.group(1)) * _UNITS[match.group(2)]


def expires_at(ttl: str, now: datetime) -> datetime:
    return now + ttl_delta(ttl)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def is_expired(tags: dict[str, str], now: datetime) -> bool:
    """An experiment whose expiry tag has passed; one without the tag is never collected."""
    return EXPIRES_TAG in tags and parse_time(tags[EXPIRES_TAG]) <= now


def experiment_entry(request: ExperimentRequest) -> dict[str, Any]:
    if request.size not in SIZES:
        raise RequestError(f"unknown size {request.size!r}", f"use one of {', '.join(SIZES)}")
    if not 1 <= request.zones <= 3:
        raise RequestError(f"{request.zones} zones", "simulate 1 to 3 zones")
    ttl_delta(request.ttl)
    entry: dict[str, Any] = {
        "name": request.name, "controlPlanes": request.control_planes, "workers": request.workers,
        "size": SIZES[request.size], "zones": [f"zone-{chr(ord('a') + i)}" for i in range(request.zones)],
        "ttl": request.ttl, "chaos": request.chaos,
    }
    if request.like:
        entry["like"] = request.like
    if request.restore_from:
        entry["restoreFrom"] = request.restore_from
    return entry


def stack_config(template: dict[str, Any], request: ExperimentRequest) -> dict[str, Any]:
    """The experiment stack's config: the lab template with this one experiment, validated like the program."""
    config = {key: value for key, value in template.items() if key != "homelab:experiments"}
    config["homelab:experiments"] = [experiment_entry(request)]
    raw = {key.split(":", 1)[1]: value for key, value in config.items() if key.startswith("homelab:")}
    try:
        parse_config(raw, stack_name(request.name))
    except ConfigError as error:
        issue = error.issues[0]
        raise RequestError(f"{issue.key}: {issue.problem}", issue.fix) from None
    return config


def as_pulumi_config(config: dict[str, Any]) -> dict[str, str]:
    """Config as `pulumi config set` takes it: strings, structured values as JSON text."""
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}
