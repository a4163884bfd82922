"""Every object synth writes passes the upstream schemas, strictly; kinds without a schema are reported."""

import warnings

import pytest
import yaml

from components import versions
from labctl import render
from labctl.synth import SynthResult
from tests import schema_validation as schemas

needs_shared = pytest.mark.skipif(
    not schemas.SCHEMAS.is_dir(),
    reason=f"{schemas.SCHEMAS} not present: CRD, Talos and Helm values schemas cannot be checked",
)


def _validate_objects(result: SynthResult) -> tuple[dict[str, list[str]], set[str], int]:
    errors: dict[str, list[str]] = {}
    unknown: set[str] = set()
    checked = 0
    for cluster, registration in render.kubernetes_objects(result):
        document = render.manifest(registration)
        try:
            problems = schemas.validate_manifest(document, versions.KUBERNETES)
        except schemas.NoSchemaError as missing:
            unknown.add(str(missing))
            continue
        checked += 1
        if registration.type.endswith("Patch"):
            # A patch is merged onto the object the API server already holds: only its own fields must be right.
            problems = [problem for problem in problems if "is a required property" not in problem]
        if problems:
            errors[f"{cluster}/{document['kind']}/{document['metadata'].get('name')}"] = problems
    return errors, unknown, checked


def _report(unknown: set[str]) -> None:
    for kind in sorted(unknown):
        warnings.warn(f"no schema available for {kind}: not validated", stacklevel=2)


@needs_shared
@pytest.mark.parametrize("stack", ["prod", "lab", "experiment"])
def test_kubernetes_objects_pass_strict_schemas(stack, request):
    result: SynthResult = request.getfixturevalue(stack)
    errors, unknown, _ = _validate_objects(result)
    _report(unknown)
    assert errors == {}


@needs_shared
def test_talos_patches_pass_the_talos_schema(prod):
    documents = 0
    for registration in prod.by_type(render.TALOS_APPLY):
        for patch in registration.inputs["configPatches"]:
            for document in schemas.walk_yaml_documents(patch):
                assert schemas.validate_talos_document(document, versions.TALOS) == [], registration.name
                documents += 1
    # machine patch, hostname, DHCP, resolvers, EPHEMERAL cap, user volume (+ VIP on the three control planes)
    assert documents == 6 * len(prod.by_type(render.TALOS_APPLY)) + 3


@needs_shared
@pytest.mark.parametrize("stack", ["prod", "lab", "experiment"])
def test_chart_values_pass_their_values_schema(stack, request):
    result: SynthResult = request.getfixturevalue(stack)
    unknown = set()
    for registration in result.registrations:
        if registration.type in render.CHART_TYPES:
            chart, version = registration.inputs["chart"], registration.inputs["version"]
            try:
                assert schemas.validate_helm_values(chart, version, registration.inputs.get("values", {})) == []
            except schemas.NoSchemaError as missing:
                unknown.add(str(missing))
    _report(unknown)


# The validators themselves must catch what the API server or Talos would reject.

def test_unknown_field_in_a_built_in_kind_is_an_error():
    deployment = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {}, "spce": {}}
    assert schemas.validate_manifest(deployment, versions.KUBERNETES)


@needs_shared
def test_unknown_field_in_a_custom_resource_is_an_error():
    schedule = {"apiVersion": "velero.io/v1", "kind": "Schedule", "metadata": {"name": "daily"},
                "spec": {"schedule": "0 3 * * *", "template": {"ttl": "720h0m0s"}}}
    assert schemas.validate_manifest(schedule, versions.KUBERNETES) == []
    schedule["spec"]["template"]["tll"] = "1h"
    assert any("tll" in problem for problem in schemas.validate_manifest(schedule, versions.KUBERNETES))


@needs_shared
def test_unknown_talos_fields_are_errors():
    assert schemas.validate_talos_document({"machine": {"kubelet": {"extraConfg": {}}}}, versions.TALOS)
    volume = yaml.safe_load("apiVersion: v1alpha1\nkind: UserVolumeConfig\nname: s\nprovisioning: {minSize: 1GiB}\n")
    assert schemas.validate_talos_document(volume, versions.TALOS) == []
    volume["provisioning"]["minSise"] = "1GiB"
    assert schemas.validate_talos_document(volume, versions.TALOS)


def test_a_kind_without_schema_is_reported_not_failed():
    with pytest.raises(schemas.NoSchemaError, match=r"chaos-mesh\.org/v1alpha1/PodChaos"):
        schemas.validate_manifest({"apiVersion": "chaos-mesh.org/v1alpha1", "kind": "PodChaos",
                                   "metadata": {"name": "x"}}, versions.KUBERNETES)


@needs_shared
def test_chart_values_are_checked_coalesced_with_the_charts_defaults_like_helm_does():
    from components.platform.telemetry import agent_values

    values = agent_values()
    assert schemas.validate_helm_values("opentelemetry-collector", "0.170.0", values) == []
    assert schemas.validate_helm_values("opentelemetry-collector", "0.170.0", {**values, "mode": "sidecar"}) != []
    typo = {**values, "presets": {"logsCollection": {"enabld": True}}}
    assert "'enabld' was unexpected" in str(schemas.validate_helm_values("opentelemetry-collector", "0.170.0", typo))
    # Deleting a default the schema requires is an error only because the defaults were coalesced first.
    assert schemas.validate_helm_values("opentelemetry-collector", "0.170.0", {"apiVersion": None}) != []


def test_values_coalesce_like_helm():
    defaults = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    assert schemas.merge_values(defaults, {"a": {"c": [3]}, "d": None, "e": 2}) == {"a": {"b": 1, "c": [3]}, "e": 2}


@needs_shared
@pytest.mark.parametrize("stack", ["prod", "experiment"])
def test_guest_talos_patches_pass_the_talos_schema(stack, request):
    result: SynthResult = request.getfixturevalue(stack)
    patched = 0
    for registration in result.registrations:
        kind = registration.inputs.get("kind")
        spec = registration.inputs.get("spec") or {}
        if kind == "TalosControlPlane":
            patches = spec["controlPlaneConfig"]["controlplane"]["strategicPatches"]
        elif kind == "TalosConfigTemplate":
            patches = spec["template"]["spec"]["strategicPatches"]
        else:
            continue
        for patch in patches:
            assert schemas.validate_talos_document(yaml.safe_load(patch), versions.TALOS) == [], registration.name
            patched += 1
    assert patched >= 3
