"""The policy pack as the Pulumi CLI runs it, and requests shaped as the engine sends them.

``pack_server`` starts ``policy/`` the way the CLI's Python language host does (pulumi-language-python's
``RunPlugin``: the project's virtualenv python, ``-u -m pulumi.policy ENGINE PACK_DIR``, from inside the pack's
directory, no PYTHONPATH) and talks to it over gRPC: the real pulumi-policy servicer, proxies and
deserialization answer.

``engine_properties`` turns inputs as the SDK sent them into what the engine marshals for an analyzer
(sdk/go/common/resource/plugin/analyzer_plugin.go: ``KeepUnknowns``, ``KeepSecrets``, ``SkipInternalKeys``,
no output values, no resource references): an output value becomes its value, a secret when it was one,
or the unknown sentinel when it has none; a resource reference becomes its id, else its URN; internal
``__`` keys are dropped at the top. ``Analyze`` gets a resource's inputs, ``AnalyzeStack`` every resource's
outputs (step_generator.go ``AnalyzeResources``), and a component its provider builds (a remote component,
such as pulumi-kubernetes' yaml/v2 ConfigFile) reaches both as the provider registered it: with no
properties (its ``Construct`` registers the component without them).
"""

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from labctl.engine import Registration
from labctl.synth import PROJECT_DIR

UNKNOWN = rpc.UNKNOWN  # the engine's unknown string sentinel, the one the SDK sends too
_SIG = rpc._special_sig_key
_SECRET, _OUTPUT, _RESOURCE = rpc._special_secret_sig, rpc._special_output_value_sig, rpc._special_resource_sig
MANDATORY = analyzer_pb2.MANDATORY


def secret(value: Any) -> dict[str, Any]:
    return {_SIG: _SECRET, "value": value}


def engine_properties(properties: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _engine_value(item) for key, item in properties.items() if not str(key).startswith("__")}


def _engine_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        kind = value.get(_SIG)
        if kind == _OUTPUT:
            if "value" not in value:
                return UNKNOWN
            inner = _engine_value(value["value"])
            return secret(inner) if value.get("secret") else inner
        if kind == _RESOURCE:
            return value.get("id") or value["urn"]
        if kind == _SECRET:
            return secret(_engine_value(value["value"]))
        return {key: _engine_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_engine_value(item) for item in value]
    return value


def _struct(properties: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    json_format.ParseDict(engine_properties(properties), struct)
    return struct


@dataclass(frozen=True)
class Planned:
    """One resource as the engine plans it: what ``Analyze`` and ``AnalyzeStack`` receive."""

    urn: str
    type: str
    name: str
    properties: Mapping[str, Any]  # the inputs, as the SDK sent them
    protect: bool = False
    outputs: Mapping[str, Any] | None = None  # the state after the step; the inputs when not given

    @classmethod
    def of(cls, registration: Registration) -> "Planned":
        built_by_provider = registration.remote
        return cls(registration.engine_urn or registration.urn, registration.type, registration.name,
                   {} if built_by_provider else registration.wire, registration.protect,
                   {} if built_by_provider else registration.wire_outputs)

    def request(self) -> analyzer_pb2.AnalyzeRequest:
        return analyzer_pb2.AnalyzeRequest(
            urn=self.urn, type=self.type, name=self.name, properties=_struct(self.properties),
            options=analyzer_pb2.AnalyzerResourceOptions(protect=self.protect))

    def stack_resource(self) -> analyzer_pb2.AnalyzerResource:
        outputs = self.properties if self.outputs is None else self.outputs
        return analyzer_pb2.AnalyzerResource(
            urn=self.urn, type=self.type, name=self.name, properties=_struct(outputs),
            options=analyzer_pb2.AnalyzerResourceOptions(protect=self.protect))


@dataclass(frozen=True)
class Diagnostic:
    policy: str
    message: str
    urn: str
    mandatory: bool


class Pack:
    def __init__(self, stub: analyzer_pb2_grpc.AnalyzerStub) -> None:
        self.stub = stub

    def policies(self) -> dict[str, int]:
        """Each policy's name → its enforcement level, as the pack describes itself to the engine."""
        info = self.stub.GetAnalyzerInfo(empty_pb2.Empty())
        return {p.name: p.enforcementLevel for p in info.policies}

    def analyze(self, resource: Planned) -> list[Diagnostic]:
        return _diagnostics(self.stub.Analyze(resource.request()))

    def analyze_stack(self, resources: Sequence[Planned]) -> list[Diagnostic]:
        request = analyzer_pb2.AnalyzeStackRequest(resources=[r.stack_resource() for r in resources])
        return _diagnostics(self.stub.AnalyzeStack(request))


def _diagnostics(response: analyzer_pb2.AnalyzeResponse) -> list[Diagnostic]:
    return [Diagnostic(d.policyName, d.message, d.urn, d.enforcementLevel == MANDATORY) for d in response.diagnostics]


@contextmanager
def pack_server() -> Iterator[Pack]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH" and not key.startswith("PULUMI_")}
    pack = PROJECT_DIR / "policy"
    process = subprocess.Popen([sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", str(pack)],
                               cwd=pack, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdout is not None
        port = process.stdout.readline().decode().strip()
        if not port.isdigit():
            process.kill()
            raise RuntimeError(f"the pack did not start: {process.communicate(timeout=10)[1].decode()[-2000:]}")
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=30)
        yield Pack(analyzer_pb2_grpc.AnalyzerStub(channel))
        channel.close()
    finally:
        process.kill()
        process.wait(timeout=10)
