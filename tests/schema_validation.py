"""Validate synthesized objects against the upstream schemas, as strictly as the real API server would.

Built-in kinds go through kubernetes-validate (strict: unknown fields are errors). Custom resources go
against the CRD schemas in ``../shared/schemas`` (the upstream CRD first, the catalog copy otherwise),
with undeclared fields made errors unless the schema preserves unknown fields — the API server's strict
field validation. Talos patches go against the Talos machine-config schema of the pinned minor; a
v1alpha1 patch is partial by nature, so only its ``required`` rules are relaxed.
"""

import json
import os
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
from kubernetes_validate.utils import SchemaNotFoundError

PROJECT_DIR = Path(__file__).resolve().parent.parent
SCHEMAS = Path(os.environ.get("HOMELAB_SHARED_DIR", PROJECT_DIR.parent / "shared")) / "schemas"
_PRESERVE = "x-kubernetes-preserve-unknown-fields"


class NoSchemaError(LookupError):
    """No schema is available for this kind: reported, not failed."""


def _strict(schema: Any) -> Any:
    """Copy of a CRD schema where every object with declared properties rejects undeclared ones."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    strict = {key: _strict(value) for key, value in schema.items()}
    if "properties" in schema and not schema.get(_PRESERVE) and "additionalProperties" not in schema:
        strict["additionalProperties"] = False
    return strict


@cache
def crd_schema(api_version: str, kind: str) -> dict[str, Any]:
    if "/" not in api_version:
        raise NoSchemaError(f"{api_version}/{kind}")
    group, version = api_version.split("/", 1)
    for folder in ("crds-upstream", "crds"):
        path = SCHEMAS / folder / group / f"{kind.lower()}_{version}.json"
        if path.is_file():
            return dict(_strict(json.loads(path.read_text())))
    raise NoSchemaError(f"{api_version}/{kind}")


def _messages(validator: jsonschema.protocols.Validator, document: Any) -> list[str]:
    return sorted(
        f"{'.'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in validator.iter_errors(document)
    )


def validate_manifest(document: dict[str, Any], kubernetes_version: str) -> list[str]:
    """Errors for one Kubernetes object; raises NoSchemaError when neither catalog knows its kind."""
    try:
        kubernetes_validate.validate(document, kubernetes_version.lstrip("v"), strict=True)
        return []
    except kubernetes_validate.ValidationError as error:
        return [f"{'.'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"]
    except SchemaNotFoundError:
        pass
    schema = crd_schema(document["apiVersion"], document["kind"])
    return _messages(jsonschema.Draft7Validator(schema), document)


@cache
def talos_schema(talos_version: str) -> dict[str, Any]:
    minor = re.match(r"v?(\d+\.\d+)", talos_version)
    candidates = sorted(SCHEMAS.glob(f"talos/config.schema.v{minor[1] if minor else talos_version}.*.json"))
    if not candidates:
        raise NoSchemaError(f"Talos {talos_version}")
    return dict(json.loads(candidates[-1].read_text()))


_PatchValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, {"required": lambda *_: iter(())}
)


def validate_talos_document(document: dict[str, Any], talos_version: str) -> list[str]:
    """A typed document (``kind:``) against its own definition; a v1alpha1 patch against the Config."""
    schema = talos_schema(talos_version)
    definitions = schema["$defs"]
    if "kind" in document:
        matches = [name for name, spec in definitions.items()
                   if spec.get("properties", {}).get("kind", {}).get("enum") == [document["kind"]]]
        if not matches:
            raise NoSchemaError(f"Talos document {document['kind']}")
        validator = jsonschema.Draft202012Validator({"$defs": definitions, "$ref": f"#/$defs/{matches[0]}"})
        return _messages(validator, document)
    return _messages(_PatchValidator({"$defs": definitions, "$ref": "#/$defs/v1alpha1.Config"}), document)


def _chart_folder(chart: str, version: str) -> Path:
    """The chart's files for ``version``, else the newest of the same minor (patches keep keys)."""
    folder = SCHEMAS / "helm" / chart
    exact = folder / version.lstrip("v")
    minor = ".".join(version.lstrip("v").split(".")[:2])
    same_minor = sorted([*folder.glob(f"{minor}.*/values.schema.json"), *folder.glob(f"v{minor}.*/values.schema.json")])
    if (exact / "values.schema.json").is_file():
        return exact
    if same_minor:
        return same_minor[-1].parent
    raise NoSchemaError(f"Helm chart {chart} {version}")


def helm_values_schema(chart: str, version: str) -> dict[str, Any]:
    return dict(json.loads((_chart_folder(chart, version) / "values.schema.json").read_text()))


def merge_values(defaults: Any, overrides: Any) -> Any:
    """Helm's coalescing: maps merge key by key, anything else replaces, and ``null`` deletes a default."""
    if not (isinstance(defaults, dict) and isinstance(overrides, dict)):
        return overrides
    merged = dict(defaults)
    for key, value in overrides.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_values(defaults.get(key), value)
    return merged


def validate_helm_values(chart: str, version: str, values: dict[str, Any]) -> list[str]:
    """Like ``helm install``: the chart's defaults coalesced with ``values``, checked against its schema."""
    import yaml

    folder = _chart_folder(chart, version)
    defaults_file = folder / "values.yaml"
    defaults = yaml.safe_load(defaults_file.read_text()) if defaults_file.is_file() else {}
    return _messages(jsonschema.Draft7Validator(helm_values_schema(chart, version)), merge_values(defaults, values))


def walk_yaml_documents(text: str) -> Iterator[dict[str, Any]]:
    import yaml

    for document in yaml.safe_load_all(text):
        if document:
            yield document
