"""Write a synth result to ``out/<stack>/`` in the fixed layout a person (and the tests) read.

- ``resources.json``: every registered resource, secrets as ``"[secret]"``.
- ``outputs.json``: the stack's exports, secrets redacted.
- ``capacity.json``: the capacity budget the program computed from the values it registered.
- ``manifests/<cluster>/<namespace or _cluster>/<kind>-<name>.yaml``: each Kubernetes object the program
  declares itself, as it would reach the API server.
- ``helm/<cluster>/<release>.values.yaml``: the values of each chart install (charts are not rendered).
- ``talos/<cluster>/<node>.yaml``: every machine-config patch of each node.
"""

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from labctl.engine import Registration, dumps
from labctl.output_dir import check_output_dir, claim_output_dir
from labctl.synth import SynthResult

K8S_PROVIDER = "pulumi:providers:kubernetes"
TALOS_APPLY = "talos:machine/configurationApply:ConfigurationApply"
CHART_TYPES = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart")
_NOT_OBJECTS = ("kubernetes:helm.sh/", "kubernetes:yaml/", "kubernetes:kustomize/")
_MANIFEST_FIELDS = ("apiVersion", "kind", "metadata")


@dataclass(frozen=True)
class RenderedFile:
    path: str
    content: str


def _yaml(document: Any) -> str:
    return yaml.safe_dump(document, sort_keys=False, default_flow_style=False)


def _name_of(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _cluster_names(result: SynthResult) -> dict[str, str]:
    """Provider URN → the cluster it targets (its ``clusterIdentifier``, else its resource name)."""
    return {
        registration.urn: str(registration.inputs.get("clusterIdentifier") or registration.name)
        for registration in result.by_type(K8S_PROVIDER)
    }


def is_manifest(registration: Registration) -> bool:
    """A Kubernetes object the program declares itself (not a chart, a manifest file, a provider, or an
    existing object it only reads)."""
    return (registration.type.startswith("kubernetes:") and not registration.type.startswith(_NOT_OBJECTS)
            and not registration.read)


def kubernetes_objects(result: SynthResult) -> Iterator[tuple[str, Registration]]:
    """Every declared Kubernetes object with the cluster its provider targets."""
    clusters = _cluster_names(result)
    for registration in result.registrations:
        if is_manifest(registration):
            provider = registration.provider.rsplit("::", 1)[0]
            yield clusters.get(provider, "_unknown"), registration


def manifest(registration: Registration) -> dict[str, Any]:
    """The object as the API server would receive it: apiVersion, kind and metadata first."""
    inputs = registration.inputs
    ordered = {key: inputs[key] for key in _MANIFEST_FIELDS if key in inputs}
    ordered.update({key: value for key, value in inputs.items() if key not in _MANIFEST_FIELDS})
    return ordered


def _manifest_files(result: SynthResult) -> Iterator[RenderedFile]:
    for cluster, registration in kubernetes_objects(result):
        document = manifest(registration)
        metadata = document.get("metadata", {})
        namespace = metadata.get("namespace") or "_cluster"
        name = metadata.get("name", registration.name)
        yield RenderedFile(f"manifests/{cluster}/{namespace}/{document['kind'].lower()}-{name}.yaml", _yaml(document))


def _helm_files(result: SynthResult) -> Iterator[RenderedFile]:
    clusters = _cluster_names(result)
    for registration in result.registrations:
        if registration.type in CHART_TYPES:
            cluster = clusters.get(registration.provider.rsplit("::", 1)[0], "_unknown")
            release = registration.inputs.get("name", registration.name)
            yield RenderedFile(f"helm/{cluster}/{release}.values.yaml", _yaml(registration.inputs.get("values", {})))


def _talos_files(result: SynthResult) -> Iterator[RenderedFile]:
    for registration in result.by_type(TALOS_APPLY):
        cluster = _name_of(registration.parent)
        node = registration.name.removeprefix(f"{cluster}-")
        patches = registration.inputs.get("configPatches", [])
        content = "---\n".join(patch if isinstance(patch, str) else _yaml(patch) for patch in patches)
        yield RenderedFile(f"talos/{cluster}/{node}.yaml", content)


def rendered_files(result: SynthResult) -> list[RenderedFile]:
    """Every file of the synth layout, in a deterministic order."""
    files = [
        RenderedFile("resources.json", dumps([r.as_json() for r in result.registrations])),
        RenderedFile("outputs.json", dumps(result.outputs)),
        *([RenderedFile("capacity.json", dumps(result.outputs["capacity"]))] if "capacity" in result.outputs else []),
        *_manifest_files(result),
        *_helm_files(result),
        *_talos_files(result),
    ]
    return sorted(files, key=lambda file: file.path)


def write(result: SynthResult, out_dir: Path) -> list[Path]:
    """Replace ``out_dir`` (new, empty, or made by labctl before) with the layout."""
    check_output_dir(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    claim_output_dir(out_dir)
    written = []
    for file in rendered_files(result):
        path = out_dir / file.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(file.content)
        written.append(path)
    return written
