"""The CRDs each cluster will have, taken from upstream wherever one can be had.

In order of preference: the CRDs the cluster's charts render; the CRD YAML of the operators' releases at the
pinned versions (``../shared/schemas/crd-yaml``: what the Cluster API operator, KubeVirt and CDI install); and,
for a kind neither has (Cilium's, which its operator creates at run time), a CRD built from the JSON schema in
``../shared/schemas/crds``, one per group and kind with every version there, without the
``additionalProperties: false`` that catalog adds. A built CRD carries no CEL rule of upstream's.
"""

import json
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from components import versions
from tests.upstream.charts import SHARED

CRD_YAML = SHARED / "schemas" / "crd-yaml"
CRD_JSON = SHARED / "schemas" / "crds"
CRD = ("apiextensions.k8s.io/v1", "CustomResourceDefinition")

# What the infrastructure cluster's operators install, at the versions pinned (a missing folder fails the test).
OPERATOR_RELEASES = (f"capi-{versions.CAPI}", f"capk-{versions.CAPK}", f"cabpt-{versions.CABPT}",
                     f"cacppt-{versions.CACPPT}", f"caaph-{versions.CAAPH}", f"kubevirt-{versions.KUBEVIRT}",
                     f"cdi-{versions.CDI}")
# Releases whose CRDs are byte-identical to a folder kept under another release's name (SOURCES.md: CAAPH's
# v0.3.0, v0.3.1 and v0.3.2 CRD blobs are the same).
SAME_CRDS = {"caaph-v0.3.2": "caaph-v0.3.1"}


def is_crd(obj: Mapping[str, Any]) -> bool:
    return (obj.get("apiVersion"), obj.get("kind")) == CRD


def release_crds(folder: str) -> list[dict[str, Any]]:
    directory = CRD_YAML / SAME_CRDS.get(folder, folder)
    if not directory.is_dir():
        raise FileNotFoundError(f"no CRDs of {folder} in {CRD_YAML}: the pin has no upstream release here")
    return [doc for path in sorted(directory.glob("*.yaml"))
            for doc in yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader)
            if isinstance(doc, dict) and is_crd(doc)]


def _strip_closed_objects(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {key: _strip_closed_objects(value) for key, value in schema.items()
                if not (key == "additionalProperties" and value is False)}
    if isinstance(schema, list):
        return [_strip_closed_objects(item) for item in schema]
    return schema


def _plural(kind: str) -> str:
    lower = kind.lower()
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    return lower + ("es" if lower.endswith(("s", "x", "ch")) else "s")


def schema_crd(group: str, kind: str, namespaced: bool, stored: str) -> dict[str, Any] | None:
    """A CRD for ``group``/``kind`` from the JSON schemas, every version there served, ``stored`` the storage."""
    files = sorted((CRD_JSON / group).glob(f"{kind.lower()}_*.json")) if (CRD_JSON / group).is_dir() else []
    if not files:
        return None
    crd_versions = []
    for path in files:
        version = path.stem.split("_", 1)[1]
        schema = _strip_closed_objects(json.loads(path.read_text()))
        properties = schema.get("properties", {})
        # The API server owns these; a CRD's schema may not constrain them.
        for owned in ("apiVersion", "kind", "metadata"):
            properties.pop(owned, None)
        required = [name for name in schema.pop("required", []) if name in properties]
        if required:
            schema["required"] = required
        crd_versions.append({"name": version, "served": True, "storage": version == stored,
                             "schema": {"openAPIV3Schema": schema}})
    if not any(v["storage"] for v in crd_versions):
        crd_versions[-1]["storage"] = True
    plural = _plural(kind)
    return {"apiVersion": CRD[0], "kind": CRD[1], "metadata": {"name": f"{plural}.{group}"},
            "spec": {"group": group, "scope": "Namespaced" if namespaced else "Cluster",
                     "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": f"{kind}List"},
                     "versions": crd_versions}}


def unique(crds: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first CRD of each name."""
    seen: dict[str, dict[str, Any]] = {}
    for crd in crds:
        seen.setdefault(crd["metadata"]["name"], crd)
    return list(seen.values())


def talos_service_account_crd() -> dict[str, Any]:
    """The CRD Talos installs itself on a cluster with Kubernetes Talos API access (no release or catalog here
    carries it), written from what Talos declares: group talos.dev, kind ServiceAccount (short name tsa),
    namespaced, one served and stored version v1alpha1 whose ``spec.roles`` is a list of role names and
    ``status.failureReason`` a string (internal/app/machined/pkg/controllers/k8s/internal/k8stemplates at
    Talos v1.12.9)."""
    strings = {"type": "array", "items": {"type": "string"}}
    schema = {"type": "object", "properties": {
        "spec": {"type": "object", "properties": {"roles": strings}},
        "status": {"type": "object", "properties": {"failureReason": {"type": "string"}}}}}
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "serviceaccounts.talos.dev"},
            "spec": {"group": "talos.dev", "scope": "Namespaced",
                     "names": {"kind": "ServiceAccount", "listKind": "ServiceAccountList", "plural": "serviceaccounts",
                               "singular": "serviceaccount", "shortNames": ["tsa"]},
                     "versions": [{"name": "v1alpha1", "served": True, "storage": True,
                                   "schema": {"openAPIV3Schema": schema}}]}}
