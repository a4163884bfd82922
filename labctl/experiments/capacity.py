"""Whether one more experiment fits: prod's free capacity against every experiment stack's quotas.

Prod's ``freeCapacity`` output is what Kubernetes, the platform and production leave; it does not know the
experiments in the lab stack and the other ``exp-*`` stacks. Each of those exports ``experimentQuotas``, so the check
adds them all to the new request before a stack is created.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from components.capacity import Amount
from components.clusters.experiments import check_fits, quotas
from components.config import ExperimentSettings, Versions


def quotas_of(outputs: Mapping[str, Any]) -> dict[str, Amount]:
    """The experiment quotas one lab or experiment stack exported."""
    return {name: Amount(int(q["cpu_m"]), int(q["memory_mib"]))
            for name, q in (outputs.get("experimentQuotas") or {}).items()}


def request_fits(prod_outputs: Mapping[str, Any], others: Iterable[Mapping[str, Any]],
                 experiment: Mapping[str, Any], versions: Versions) -> Amount:
    """What stays free after the new experiment; ExperimentCapacityError (with the numbers) if it does not fit."""
    asked: dict[str, Amount] = {}
    for outputs in others:
        asked.update(quotas_of(outputs))
    asked.update(quotas([ExperimentSettings.model_validate(experiment)], versions))
    return check_fits(prod_outputs["freeCapacity"], asked)
