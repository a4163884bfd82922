"""The benchmark's cases and one timed run of each, program or floor, in the current process.

The floor replays exactly the registrations the program made (types, names, parents, inputs) with no logic
of ours, under the same mock engine, through the same provider SDK classes, in a process of its own that
starts as cold as the program's: what the Pulumi SDK itself costs for those resources. The lab cases read a
prod whose free capacity is made large, so 50 experiments measure the program, not the refusal.
"""

import importlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import stacks
from components.cloud.seams import qualified_stack
from labctl import engine
from labctl.engine import Registration
from labctl.mocks import HomelabMocks
from labctl.synth import PROJECT_DIR, read_stack_file, runtime_config, stack_reference_outputs, synthesize

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


_SDK_PACKAGES = {"kubernetes": "pulumi_kubernetes", "aws": "pulumi_aws", "cloudflare": "pulumi_cloudflare",
                 "tailscale": "pulumi_tailscale", "talos": "pulumiverse_talos"}


def _kubernetes_class(group_version: str, kind: str) -> Any | None:
    """A built-in kind's class (``apps/v1``, ``Deployment`` → ``k8s.apps.v1.Deployment``)."""
    group, _, version = group_version.rpartition("/")
    module_name = {"core": "core", "helm.sh": "helm"}.get(group, group.split(".")[0])
    module = getattr(getattr(k8s, module_name, None), version, None)
    return getattr(module, kind, None) if module is not None else None


def sdk_class(type_: str) -> Any | None:
    """The provider SDK class the program registers a type token with, or None for custom resources,
    component resources and Pulumi's own types. Importing it is part of what the floor pays, as the
    program does: the SDKs load their modules lazily, on first use."""
    package, module_path, name = type_.split(":")
    if package == "pulumi":
        return importlib.import_module(_SDK_PACKAGES[name]).Provider if module_path == "providers" else None
    if package not in _SDK_PACKAGES:
        return None
    if package == "kubernetes":
        return _kubernetes_class(module_path, name)
    root = importlib.import_module(_SDK_PACKAGES[package])
    module_name = module_path.split("/")[0]
    module = root if module_name == "index" else getattr(root, module_name.lower(), None)
    return getattr(module, name, None)


def _sdk_value(value: Any) -> Any:
    """A provider's configuration travels JSON-encoded (``"true"``); its SDK class takes the value itself."""
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        return value if isinstance(decoded, str) else decoded
    return value


def _register(registration: Registration, cls: Any | None, opts: pulumi.ResourceOptions) -> pulumi.Resource:
    """One recorded registration, through the same SDK class the program used where one exists."""
    inputs = dict(registration.inputs)
    if registration.type.startswith("pulumi:providers:"):
        inputs = {key: _sdk_value(value) for key, value in inputs.items()}
    if cls is not None:
        kwargs = {_snake(key): value for key, value in inputs.items() if key not in ("apiVersion", "kind")}
        return cls(registration.name, opts=opts, **kwargs)  # type: ignore[no-any-return]
    if registration.type.startswith("kubernetes:") and "apiVersion" in inputs:
        kwargs = {_snake(key): value for key, value in inputs.items() if key not in ("apiVersion", "kind")}
        custom = (k8s.apiextensions.CustomResourcePatch if registration.type.endswith("Patch")
                  else k8s.apiextensions.CustomResource)
        return custom(registration.name, api_version=inputs["apiVersion"], kind=inputs["kind"], opts=opts, **kwargs)
    return pulumi.CustomResource(registration.type, registration.name, inputs, opts)


def _read(registration: Registration, cls: Any | None, opts: pulumi.ResourceOptions) -> pulumi.Resource:
    if cls is None:
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=registration.id))
        return pulumi.CustomResource(registration.type, registration.name, {}, opts)
    return cls.get(registration.name, registration.id, opts=opts)  # type: ignore[no-any-return]


def _urn(provider_reference: str) -> str:
    """A provider reference is ``URN::ID``."""
    return provider_reference.rsplit("::", 1)[0]


def _parents_and_dependencies_first(registrations: list[Registration]) -> list[Registration]:
    """The registrations ordered so every resource comes after its parent, provider and dependencies."""
    by_urn = {registration.urn: registration for registration in registrations}
    ordered: dict[str, Registration] = {}

    def visit(registration: Registration) -> None:
        if registration.urn in ordered:
            return
        for urn in (registration.parent, _urn(registration.provider), *registration.dependencies):
            if urn in by_urn:
                visit(by_urn[urn])
        ordered[registration.urn] = registration

    for registration in registrations:
        visit(registration)
    return list(ordered.values())


def replay_program(registrations: list[Registration]) -> Callable[[], None]:
    """A program that registers the recorded resources again with nothing else: each after its parent,
    provider and dependencies, with those as options; every provider's resources and Pulumi's remote
    components (ConfigFile) through the SDK classes the program uses (their typed input handling and lazy
    imports are the SDK's own cost); the stack reference and every read made again; our components as
    plain components."""
    ordered = _parents_and_dependencies_first(registrations)

    def program() -> None:
        made: dict[str, pulumi.Resource] = {}
        for registration in ordered:
            # Resolved here, in the timed run: it imports the SDK module lazily, as the program's first use does.
            cls = sdk_class(registration.type)
            provider = made.get(_urn(registration.provider))
            opts = pulumi.ResourceOptions(parent=made.get(registration.parent),
                                          provider=provider if isinstance(provider, pulumi.ProviderResource) else None,
                                          depends_on=[made[urn] for urn in registration.dependencies],
                                          protect=registration.protect,
                                          aliases=[pulumi.Alias(name=name) for name in registration.aliases] or None)
            if registration.type == "pulumi:pulumi:StackReference":
                made[registration.urn] = pulumi.StackReference(registration.name, registration.inputs.get("name"))
            elif registration.read:
                made[registration.urn] = _read(registration, cls, opts)
            elif registration.custom or cls is not None:
                made[registration.urn] = _register(registration, cls, opts)
            else:
                made[registration.urn] = pulumi.ComponentResource(registration.type, registration.name, None, opts)
    return program


def record(name: str, path: Path) -> None:
    """Synthesize the case once and keep its registrations for the floor, which then runs in a process
    that never ran the program (no module, cache or heap warmed by it)."""
    chosen = case(name)
    result = synthesize(chosen.stack, config_overrides=chosen.overrides, prod_outputs=chosen.prod_outputs)
    path.write_text(json.dumps([registration.as_json() for registration in result.registrations]))


def recorded(path: Path) -> list[Registration]:
    return [Registration(**{**item, "dependencies": tuple(item["dependencies"])})
            for item in json.loads(path.read_text())]


def timed(name: str, floor: Path | None = None) -> tuple[float, int]:
    """Seconds for one run of the case — the program, or the floor replaying the registrations recorded in
    ``floor`` — and how many resources it registered."""
    chosen = case(name)
    config_map = {**read_stack_file(chosen.stack), **chosen.overrides}
    config, secret_keys = runtime_config(config_map)
    references = {} if chosen.prod_outputs is None else {
        qualified_stack(str(config_map.get("homelab:prodStack", "prod")), "organization", "homelab"):
            chosen.prod_outputs}
    program: Callable[[], None] = stacks.main
    if floor is not None:
        program = replay_program(recorded(floor))
    start = time.perf_counter()
    monitor = engine.run_program(program, mocks=HomelabMocks(references), stack=chosen.stack, config=config,
                                 secret_keys=secret_keys, project_dir=PROJECT_DIR)
    return time.perf_counter() - start, len(monitor.registrations)
