"""The program's own admission policies on a loopback API server set up as the infrastructure cluster's
control plane (its admission plugins from the machine config Talos validates)."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from components.address_ranges import INFRASTRUCTURE_SERVICES
from labctl.render import manifest
from labctl.synth import SynthResult
from tests.upstream.apiserver import LoopbackCluster, loopback_cluster
from tests.upstream.talos import admission_plugins, infrastructure_machines

POLICY = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy"


def registered_policy(result: SynthResult, name: str) -> list[dict[str, Any]]:
    """The policy named ``name`` and its binding, as the program registered them."""
    policies = [manifest(r) for r in result.registrations
                if r.type.startswith(POLICY) and r.inputs["metadata"]["name"] == name]
    assert [p["kind"] for p in policies] == ["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]
    return policies


@contextmanager
def infrastructure_api_server(result: SynthResult, talos_check: Path, kube_apiserver: Path, etcd: Path,
                              workdir: Path) -> Iterator[LoopbackCluster]:
    (control_plane, *_) = [m for m in infrastructure_machines(result) if m["machineType"] == "controlplane"]
    with loopback_cluster(kube_apiserver, etcd, workdir, str(INFRASTRUCTURE_SERVICES),
                          admission_plugins(talos_check, control_plane)) as cluster:
        yield cluster


def create(cluster: LoopbackCluster, objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        created = cluster.apply(obj, dry_run=False)
        assert created.accepted, created.message
