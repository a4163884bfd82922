"""Whether one more experiment fits: prod's free capacity against every experiment stack's quotas.

Prod's ``freeCapacity`` output is what Kubernetes, the platform and production leave; it does not know the
experiments in the lab stack and the other ``exp-*`` stacks. Each of those exports ``experimentQuotas``, so the check
adds them all to the new request before a stack is created.
"""

import fcntl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from components.capacity import Amount
from components.clusters.experiments import check_fits, quotas
from components.config import ExperimentSettings, Versions
from labctl.experiments.request import ConflictError

LOCK_NAME = "labctl-create.lock"


def lock_path(home: Path) -> Path:
    """Beside the default file backend: one lock per machine that runs labctl."""
    return home / ".pulumi-homelab" / LOCK_NAME


@contextmanager
def creation_lock(path: Path) -> Iterator[None]:
    """Held from the capacity check until the new stack has exported its quota (its `up` ended), so two
    creates on this machine cannot both fit in the same free room. Another create holding it is a refusal,
    not a wait: an update takes minutes. The lock is the kernel's (flock), so a crashed labctl leaves none.
    Two machines creating experiments against one S3 backend are not covered (README)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConflictError(f"another `labctl experiment create` is running on this machine (it holds {path})",
                                "wait for it to end, then try again: it may take the room this one would") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def quotas_of(outputs: Mapping[str, Any]) -> dict[str, Amount]:
    """The experiment quotas one lab or experiment stack exported."""
    return {name: Amount(int(q["cpu_m"]), int(q["memory_mib"]))
            for name, q in (outputs.get("experimentQuotas") or {}).items()}


def check_name_is_free(name: str, others: Mapping[str, Mapping[str, Any]]) -> None:
    """An experiment of the lab stack (or of any other stack) already owns the name's namespace and cluster."""
    for stack, outputs in sorted(others.items()):
        if name in quotas_of(outputs):
            raise ConflictError(f"experiment {name!r} already runs in the {stack} stack (its namespace and "
                               f"Cluster would be shared)", "pick another name")


def request_fits(prod_outputs: Mapping[str, Any], others: Mapping[str, Mapping[str, Any]],
                 experiment: Mapping[str, Any], versions: Versions) -> Amount:
    """What stays free after the new experiment, counting every other stack's quotas (by stack, so equal
    names in two stacks both count); ExperimentCapacityError (with the numbers) if it does not fit."""
    asked: dict[str, Amount] = {}
    for stack, outputs in sorted(others.items()):
        asked.update({f"{name} ({stack})": amount for name, amount in quotas_of(outputs).items()})
    asked.update(quotas([ExperimentSettings.model_validate(experiment)], versions))
    return check_fits(prod_outputs["freeCapacity"], asked)
