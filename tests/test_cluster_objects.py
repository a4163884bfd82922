"""No two resources of a stack write the same Kubernetes object into the same cluster.

Pulumi would create the first and fail on the second ("already exists"), or, with server-side apply, let two
resources fight over one object; the mock engine accepts both, so this is checked over what was registered.
"""

from collections import defaultdict
from dataclasses import replace

import pytest

from labctl.engine import Registration
from labctl.synth import SynthResult


def _object(registration: Registration) -> tuple[str, str, str, str] | None:
    """(group, kind, namespace, name) of the object a Kubernetes resource creates; None for patches and reads."""
    if not registration.type.startswith("kubernetes:") or registration.read or not registration.custom:
        return None
    group_version, kind = registration.type.removeprefix("kubernetes:").rsplit(":", 1)
    if kind.endswith("Patch"):
        return None
    inputs = registration.inputs
    metadata = inputs.get("metadata") if kind != "Release" else inputs
    assert isinstance(metadata, dict) and metadata.get("name"), f"{registration.urn} has no object name"
    return group_version.rsplit("/", 1)[0], kind, str(metadata.get("namespace") or ""), str(metadata["name"])


def _clusters(result: SynthResult | list[Registration]) -> dict[tuple[str, tuple[str, str, str, str]], list[str]]:
    """Every object, keyed by the provider (the cluster) it is written through."""
    writers: dict[tuple[str, tuple[str, str, str, str]], list[str]] = defaultdict(list)
    for registration in result if isinstance(result, list) else result.registrations:
        key = _object(registration)
        if key is not None:
            writers[(registration.provider.rsplit("::", 1)[0], key)].append(registration.urn)
    return writers


@pytest.mark.parametrize("stack", ["prod", "crowded_lab", "experiment"])
def test_each_kubernetes_object_has_one_writer_per_cluster(stack, request):
    writers = _clusters(request.getfixturevalue(stack))
    assert len({cluster for cluster, _ in writers}) >= 2, "objects go to more than one cluster"
    shared = {key: urns for key, urns in writers.items() if len(urns) > 1}
    assert not shared


def test_a_second_writer_of_the_same_object_is_caught(prod):
    secret = prod.one("kubernetes:core/v1:Secret", "grafana-admin")
    twin = replace(secret, urn=f"{secret.urn}-again")
    shared = [urns for urns in _clusters([*prod.registrations, twin]).values() if len(urns) > 1]
    assert shared == [[secret.urn, twin.urn]]
