"""The benchmark's cases and one timed run of each, program or floor, in the current process.

The floor replays exactly the registrations the program made (types, names, parents, inputs) with no logic
of ours, under the same mock engine: what the Pulumi SDK itself costs for that many resources. The lab cases
read a prod whose free capacity is made large, so 50 experiments measure the program, not the refusal.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi

from components import stacks
from labctl import engine
from labctl.mocks import HomelabMocks
from labctl.synth import PROJECT_DIR, SynthResult, read_stack_file, runtime_config, stack_reference_outputs, synthesize

EXPERIMENT_COUNTS = (1, 5, 20, 50)


@dataclass(frozen=True)
class Case:
    name: str
    stack: str
    overrides: dict[str, Any]
    prod_outputs: dict[str, Any] | None


def _roomy_prod() -> dict[str, Any]:
    outputs = stack_reference_outputs(synthesize("prod"))
    outputs["capacity"] = {**outputs["capacity"], "total": {
        **outputs["capacity"]["total"], "free": {"cpu_m": 10**9, "memory_mib": 10**9}}}
    return outputs


def case(name: str) -> Case:
    if name == "prod":
        return Case("prod", "prod", {}, None)
    count = int(name.removeprefix("lab-"))
    experiments = [{"name": f"exp{index}", "workers": 1} for index in range(count)]
    return Case(name, "lab", {"homelab:experiments": experiments}, _roomy_prod())


def case_names() -> list[str]:
    return ["prod", *(f"lab-{count}" for count in EXPERIMENT_COUNTS)]


def _replay(recorded: SynthResult) -> Callable[[], None]:
    """A program that registers the recorded resources again, parents first, with nothing else."""
    def program() -> None:
        made: dict[str, pulumi.Resource] = {}
        # A URN's type part nests its parents' types (``parent$child``): fewer ``$`` registers first.
        for registration in sorted(recorded.registrations, key=lambda r: r.urn.split("::")[2].count("$")):
            if registration.type == "pulumi:pulumi:Stack" or registration.read:
                continue
            parent = made.get(registration.parent)
            opts = pulumi.ResourceOptions(parent=parent)
            if registration.custom:
                made[registration.urn] = pulumi.CustomResource(registration.type, registration.name,
                                                               dict(registration.inputs), opts)
            else:
                made[registration.urn] = pulumi.ComponentResource(registration.type, registration.name, None, opts)
    return program


def timed(name: str, floor: bool) -> tuple[float, int]:
    """Seconds for one run of the case (the program, or its floor) and how many resources it registered."""
    chosen = case(name)
    config_map = {**read_stack_file(chosen.stack), **chosen.overrides}
    config, secret_keys = runtime_config(config_map)
    references = {} if chosen.prod_outputs is None else {
        str(config_map.get("homelab:prodStack", "organization/homelab/prod")): chosen.prod_outputs}
    program: Callable[[], None] = stacks.main
    if floor:
        program = _replay(synthesize(chosen.stack, config_overrides=chosen.overrides, prod_outputs=chosen.prod_outputs))
    start = time.perf_counter()
    monitor = engine.run_program(program, mocks=HomelabMocks(references), stack=chosen.stack, config=config,
                                 secret_keys=secret_keys, project_dir=PROJECT_DIR)
    return time.perf_counter() - start, len(monitor.registrations)
