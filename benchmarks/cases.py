"""The benchmark's cases and one timed run of each, program or floor, in the current process.

The floor replays exactly the registrations the program made (types, names, parents, inputs) with no logic
of ours, under the same mock engine, through the same Kubernetes SDK classes: what the Pulumi SDK itself
costs for those resources. The lab cases
read a prod whose free capacity is made large, so 50 experiments measure the program, not the refusal.
"""

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import stacks
from labctl import engine
from labctl.engine import Registration
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
    outputs["freeCapacity"] = {"cpu_m": 10**9, "memory_mib": 10**9}
    return outputs


def case(name: str) -> Case:
    if name == "prod":
        return Case("prod", "prod", {}, None)
    count = int(name.removeprefix("lab-"))
    experiments = [{"name": f"exp{index}", "workers": 1} for index in range(count)]
    return Case(name, "lab", {"homelab:experiments": experiments}, _roomy_prod())


def case_names() -> list[str]:
    return ["prod", *(f"lab-{count}" for count in EXPERIMENT_COUNTS)]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _kubernetes_class(type_: str) -> Any | None:
    """The pulumi-kubernetes class of a built-in kind (``kubernetes:apps/v1:Deployment`` → ``k8s.apps.v1``)."""
    group_version, kind = type_.removeprefix("kubernetes:").rsplit(":", 1)
    group, _, version = group_version.rpartition("/")
    module_name = {"core": "core", "helm.sh": "helm"}.get(group, group.split(".")[0])
    module = getattr(getattr(k8s, module_name, None), version, None)
    return getattr(module, kind, None) if module is not None else None


def _register(registration: Registration, opts: pulumi.ResourceOptions) -> pulumi.Resource:
    """One recorded registration, through the same SDK class the program used where one exists."""
    inputs = dict(registration.inputs)
    if registration.type.startswith("kubernetes:") and not registration.type.startswith("kubernetes:yaml/"):
        kwargs = {_snake(key): value for key, value in inputs.items() if key not in ("apiVersion", "kind")}
        cls = _kubernetes_class(registration.type)
        if cls is not None and registration.type != "kubernetes:helm.sh/v3:Release":
            return cls(registration.name, opts=opts, **kwargs)  # type: ignore[no-any-return]
        if "apiVersion" in inputs:
            return k8s.apiextensions.CustomResource(registration.name, api_version=inputs["apiVersion"],
                                                    kind=inputs["kind"], opts=opts, **kwargs)
    return pulumi.CustomResource(registration.type, registration.name, inputs, opts)


def _replay(recorded: SynthResult) -> Callable[[], None]:
    """A program that registers the recorded resources again, parents first, with nothing else: built-in
    Kubernetes kinds and custom resources through the same SDK classes the program uses (their typed input
    handling is the SDK's own cost), everything else as plain custom resources."""
    def program() -> None:
        made: dict[str, pulumi.Resource] = {}
        # A URN's type part nests its parents' types (``parent$child``): fewer ``$`` registers first.
        for registration in sorted(recorded.registrations, key=lambda r: r.urn.split("::")[2].count("$")):
            if registration.type == "pulumi:pulumi:Stack" or registration.read:
                continue
            parent = made.get(registration.parent)
            opts = pulumi.ResourceOptions(parent=parent)
            if registration.custom:
                made[registration.urn] = _register(registration, opts)
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
