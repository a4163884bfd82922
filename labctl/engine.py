"""Run the real homelab program under Pulumi's mock engine and record everything it registers.

``MockMonitor`` keeps only what the mocks return; this monitor also keeps what a reader of ``pulumi up``
cares about — parent, provider, dependencies, protect, and the inputs exactly as the SDK serialized them,
secret markers included, so secrets can be redacted by what Pulumi knows rather than by guessing.
"""

import gc
import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.settings import ROOT, SETTINGS
from pulumi.runtime.stack import run_in_stack, run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

SECRET = "[secret]"
UNKNOWN = "[unknown]"
_SIG = rpc._special_sig_key
_SIGNATURES = {
    rpc._special_secret_sig: "secret",
    rpc._special_resource_sig: "resource",
    rpc._special_asset_sig: "asset",
    rpc._special_archive_sig: "archive",
    rpc._special_output_value_sig: "output",
}


def redact(value: Any) -> Any:
    """A secret's shape without its content: keys stay (schemas can still check them), every leaf goes."""
    if isinstance(value, dict):
        if _SIGNATURES.get(value.get(_SIG, "")) == "secret":
            return redact(value.get("value"))
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return SECRET


def plain(value: Any) -> Any:
    """Wire values → readable JSON: secrets redacted, unknowns marked, whole floats back to ints."""
    if isinstance(value, dict):
        kind = _SIGNATURES.get(value.get(_SIG, ""))
        if kind == "secret":
            return redact(value.get("value"))
        if kind == "resource":
            return {"resource": value.get("urn")}
        if kind == "output":
            return redact(value.get("value")) if value.get("secret") else plain(value.get("value", UNKNOWN))
        if kind in ("asset", "archive"):
            return {kind: value.get("path") or value.get("uri") or "[inline]"}
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value == rpc.UNKNOWN:
        return UNKNOWN
    return value


def _struct(message: Any) -> dict[str, Any]:
    return json_format.MessageToDict(message) if message is not None else {}


@dataclass(frozen=True)
class Registration:
    """One resource as the engine would receive it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    provider: str
    dependencies: tuple[str, ...]
    protect: bool
    inputs: dict[str, Any]
    read: bool = False
    id: str = ""  # what a read looks up; registrations have none yet
    # Earlier names the resource answers to (its aliases' names), so a rename keeps the deployed object.
    aliases: tuple[str, ...] = ()
    # The URN the real engine gives it, and the ones its aliases stand for, which the engine matches against the
    # deployed state. Pulumi's mock monitor qualifies a child's type with its parent's last type only
    # (pulumi/runtime/mocks.py make_urn); the engine uses the parent's whole chain.
    engine_urn: str = ""
    alias_urns: tuple[str, ...] = ()
    # `pulumi destroy` leaves the object to whoever else removes it.
    retain_on_delete: bool = False
    # The inputs as the SDK sent them (secret and output-value signatures, unknown sentinels), for what must
    # see them as the engine does: the policy pack's analyzer.
    wire: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # What the provider answered (the state after the step): what AnalyzeStack sees. Kept as the message and
    # read only when asked for (``wire_outputs``), so a synth that never needs it does not pay for it.
    outputs_message: Any = field(default=None, compare=False, repr=False)
    # A component its provider builds (``Construct``): the engine records it as the provider registers it.
    remote: bool = False

    @property
    def wire_outputs(self) -> dict[str, Any]:
        return _struct(self.outputs_message)

    def as_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "custom": self.custom,
            "parent": self.parent,
            "provider": self.provider,
            "dependencies": list(self.dependencies),
            "protect": self.protect,
            "read": self.read,
            "id": self.id,
            "aliases": list(self.aliases),
            "retainOnDelete": self.retain_on_delete,
            "inputs": self.inputs,
        }


@dataclass(frozen=True)
class Invocation:
    token: str
    args: dict[str, Any]


def engine_urn(stack: str, project: str, parent_type: str | None, type_: str, name: str) -> str:
    """A URN as the engine builds it: ``parent_type`` is the parent's whole qualified type (None at the root)."""
    qualified = f"{parent_type}${type_}" if parent_type else type_
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def _urn_parts(urn: str) -> tuple[str, str, str, str]:
    head, project, qualified, name = urn.split("::", 3)
    return head.removeprefix("urn:pulumi:"), project, qualified, name


class DuplicateUrnError(Exception):
    """The engine refuses a second resource with the same URN (type and name, parents' types aside)."""

    def __init__(self, urn: str) -> None:
        self.urn = urn
        kind, name = urn.split("::")[2].rsplit("$", 1)[-1], urn.split("::")[3]
        super().__init__(f"two resources of type {kind} are named {name!r} in one stack ({urn}); `pulumi up` "
                         f"would fail with a duplicate URN — give each a name unique in the stack")


@dataclass
class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A MockMonitor that remembers the whole registration request, not only the mocked state."""

    mocks: pulumi_mocks.Mocks
    registrations: list[Registration] = field(default_factory=list)
    invocations: list[Invocation] = field(default_factory=list)
    stack_outputs: dict[str, Any] = field(default_factory=dict)
    raw_stack_outputs: dict[str, Any] = field(default_factory=dict)
    _urns: set[str] = field(default_factory=set)
    # Mock URN → the engine's qualified type of that resource (components nest).
    _qualified: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.mocks)

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            if response.urn in self._urns:
                raise DuplicateUrnError(response.urn)
            self._urns.add(response.urn)
            stack, project, _, _ = _urn_parts(response.urn)
            own = engine_urn(stack, project, self._qualified.get(request.parent), request.type, request.name)
            self._qualified[response.urn] = _urn_parts(own)[2]
            self.registrations.append(Registration(
                urn=response.urn, type=request.type, name=request.name, custom=bool(request.custom),
                parent=request.parent, provider=request.provider, dependencies=tuple(sorted(request.dependencies)),
                protect=bool(request.protect), inputs=plain(wire := _struct(request.object)), wire=wire,
                aliases=tuple(alias.spec.name for alias in request.aliases
                              if alias.HasField("spec") and alias.spec.name),
                engine_urn=own,
                alias_urns=tuple(self._alias_urn(alias, request, own) for alias in request.aliases),
                retain_on_delete=bool(request.retainOnDelete),
                outputs_message=response.object, remote=bool(request.remote),
            ))
        return response

    def _alias_urn(self, alias: Any, request: Any, own: str) -> str:
        """The URN an ``Alias`` names: given whole, or built from its spec, each part the resource's own unless
        the spec sets it (the engine's rule)."""
        if alias.WhichOneof("alias") == "urn":
            return str(alias.urn)
        spec = alias.spec
        stack, project, _, _ = _urn_parts(own)
        parent = "" if spec.noParent else (spec.parentUrn or request.parent)
        return engine_urn(spec.stack or stack, spec.project or project, self._qualified.get(parent),
                          spec.type or request.type, spec.name or request.name)

    def ReadResource(self, request: Any) -> Any:  # noqa: N802
        response = super().ReadResource(request)  # type: ignore[no-untyped-call]
        self.registrations.append(Registration(
            urn=response.urn, type=request.type, name=request.name, custom=True, parent=request.parent,
            provider=request.provider, dependencies=tuple(sorted(request.dependencies)), protect=False,
            inputs=plain(wire := _struct(request.properties)), wire=wire, read=True, id=request.id,
        ))
        return response

    def Invoke(self, request: Any) -> Any:  # noqa: N802
        self.invocations.append(Invocation(request.tok, _struct(request.args)))
        return super().Invoke(request)  # type: ignore[no-untyped-call]

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802
        if "::pulumi:pulumi:Stack::" in request.urn:
            self.raw_stack_outputs = _struct(request.outputs)
            self.stack_outputs = plain(self.raw_stack_outputs)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


@contextmanager
def _project_root(directory: Path) -> Iterator[None]:
    """Pulumi runs programs from the project directory; relative paths in the program rely on it."""
    previous = Path.cwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(previous)


class ProgramError(Exception):
    """The program failed under the mock engine; ``monitor`` holds whatever it registered first."""

    def __init__(self, monitor: RecordingMonitor) -> None:
        super().__init__("the program failed under the mock engine")
        self.monitor = monitor


def _freeze_import_time_heap() -> None:
    """Keep the cyclic garbage collector off the objects the imports made, once per process.

    The provider SDKs import ~460,000 long-lived objects (pulumi-aws alone most of them); a run allocates
    enough to trigger a full collection, which walked all of them: 0.25 s of a 0.6 s prod synth. Frozen
    before the first run, they are never walked again. Later runs do not freeze, so a previous run's
    garbage is still collected.
    """
    if gc.get_freeze_count() == 0:
        gc.freeze()


def run_program(
    program: Callable[[], None],
    *,
    mocks: pulumi_mocks.Mocks,
    stack: str,
    config: Mapping[str, str],
    secret_keys: list[str],
    project_dir: Path,
    project: str = "homelab",
    preview: bool = False,
) -> RecordingMonitor:
    """Run ``program`` once, in a fresh mock runtime, the way the Python language host runs ``__main__``."""
    _freeze_import_time_heap()
    monitor = RecordingMonitor(mocks)
    # The file and S3 backends' organization, which `pulumi up` gives the program there.
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor,
                             organization="organization")
    pulumi.runtime.set_all_config(dict(config), secret_keys)
    SETTINGS.outputs.clear()
    # set_mocks starts a root stack of its own; the program's stack, as in `pulumi up`, replaces it.
    ROOT.set(None)
    with _project_root(project_dir):
        try:
            _sync_await(run_pulumi_func(lambda: run_in_stack(program)))
        except Exception as error:
            raise ProgramError(monitor) from error
    return monitor


def dumps(data: Any) -> str:
    """Deterministic JSON for files a person diffs."""
    return json.dumps(data, indent=2, sort_keys=True) + "\n"
