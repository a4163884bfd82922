"""No deployed resource is replaced by a refactor: every URN of the committed baseline (prod, lab and an exp-*
stack, as the real engine builds them) is still registered, or is the alias of exactly one resource.

The baseline was taken before issue 19's refactor. It is built at the versions recorded with it, so a version
bump (which renames the guests' versioned templates on purpose) does not move it. Adding resources is fine;
dropping one on purpose means taking the baseline again: ``HOMELAB_UPDATE_URN_BASELINE=1 pytest`` this file,
and the diff shows what goes."""

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from components.versions import KUBERNETES, TALOS
from labctl.experiments.request import ExperimentRequest, stack_config
from labctl.synth import SynthResult, read_stack_file, stack_reference_outputs, synthesize

BASELINE = Path(__file__).parent / "golden" / "urns"


def _synth_all(versions: dict[str, str]) -> dict[str, SynthResult]:
    pinned = {"homelab:versions": versions}
    prod = synthesize("prod", config_overrides=pinned)
    reference = stack_reference_outputs(prod)
    lab = synthesize("lab", config_overrides=pinned, prod_outputs=reference)
    request = ExperimentRequest(name="demo", workers=2, zones=2, chaos=True, like="production")
    experiment = synthesize("exp-demo", config_overrides={**stack_config(read_stack_file("lab"), request), **pinned},
                            prod_outputs=reference)
    return {"prod": prod, "lab": lab, "exp-demo": experiment}


def _read(stack: str) -> dict[str, Any]:
    return dict(json.loads((BASELINE / f"{stack}.json").read_text()))


STACKS = ("prod", "lab", "exp-demo")


@pytest.fixture(scope="module")
def now() -> dict[str, SynthResult]:
    versions = {"talos": TALOS, "kubernetes": KUBERNETES}
    if not os.environ.get("HOMELAB_UPDATE_URN_BASELINE"):
        versions = _read("prod")["versions"]
    results = _synth_all(versions)
    if os.environ.get("HOMELAB_UPDATE_URN_BASELINE"):
        BASELINE.mkdir(parents=True, exist_ok=True)
        for stack, result in results.items():
            urns = sorted(r.engine_urn for r in result.registrations if not r.read)
            (BASELINE / f"{stack}.json").write_text(json.dumps({"versions": versions, "urns": urns}, indent=1) + "\n")
    return results


@pytest.mark.parametrize("stack", STACKS)
def test_every_baseline_urn_is_kept_or_the_alias_of_exactly_one_resource(now, stack):
    baseline = _read(stack)["urns"]
    registered = [r for r in now[stack].registrations if not r.read]
    urns = {r.engine_urn for r in registered}
    aliased = Counter(alias for r in registered for alias in set(r.alias_urns) if alias not in urns)
    lost = [urn for urn in baseline if urn not in urns and aliased[urn] != 1]
    assert lost == [], f"{len(lost)} deployed resources would be replaced or dropped: {lost[:5]}"


def test_the_baseline_is_not_empty_and_names_the_engines_urns():
    for stack in STACKS:
        urns = _read(stack)["urns"]
        assert len(urns) > 20 and all(urn.startswith(f"urn:pulumi:{stack}::homelab::") for urn in urns)
    # Nested components carry their whole parent chain, as the engine builds it.
    assert any("homelab:clusters:Production$homelab:apps:ProductionApps$" in urn for urn in _read("prod")["urns"])
