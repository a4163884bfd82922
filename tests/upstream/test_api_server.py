"""A real API server takes every object: each cluster gets a fresh loopback kube-apiserver at the clusters'
Kubernetes version, with the admission configuration Talos generates for it.

Into it go, for real: the namespaces (labelled as the program labels them), every CRD the cluster will have
(tests/upstream/crds.py), and the objects pods need to exist beside them (ServiceAccounts, PriorityClasses,
ResourceQuotas, LimitRanges). Then every object synth writes for that cluster and every object its charts
render is applied server-side with ``dryRun=All`` and strict field validation, and every pod template is
dry-run created as a Pod, so Pod Security admission enforces on it as the kubelet's API server would. The
result must be zero rejections.

Not applied here: the KubeVirt and CDI operators' release manifests (fetched by URL at deploy time), and the
apps Argo CD installs into production (their charts are not in ../shared/charts).
"""

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from components.address_ranges import GUEST_SERVICES, INFRASTRUCTURE_SERVICES
from components.platform.virtualization import OPERATORS
from components.versions import KUBERNETES
from labctl.render import kubernetes_objects, manifest
from labctl.synth import SynthResult
from tests.upstream.apiserver import LoopbackCluster, loopback_cluster
from tests.upstream.charts import INFRASTRUCTURE, installs, pod_template, render
from tests.upstream.crds import (
    OPERATOR_RELEASES,
    is_crd,
    release_crds,
    schema_crd,
    talos_service_account_crd,
    unique,
)
from tests.upstream.talos import admission_plugins, guest_machines, infrastructure_machines

# Created for real before the dry-run: what other objects' admission looks up.
NAMESPACE = ("v1", "Namespace")
PERSISTED = {("v1", "ServiceAccount"), ("scheduling.k8s.io/v1", "PriorityClass"),
             ("v1", "ResourceQuota"), ("v1", "LimitRange")}
# Which stacks put objects into which cluster (the infrastructure cluster hosts every stack's guest objects).
CLUSTERS = {INFRASTRUCTURE: ("prod", "lab", "experiment", "crowded_lab"), "production": ("prod",),
            "sandbox": ("lab",), "demo": ("experiment",), "a": ("crowded_lab",)}


@dataclass(frozen=True)
class Item:
    source: str
    obj: dict[str, Any]
    namespace: str

    @property
    def label(self) -> str:
        meta = self.obj.get("metadata", {})
        return f"{self.source}: {self.obj.get('kind')} {meta.get('namespace') or self.namespace}/{meta.get('name')}"


@dataclass
class ClusterContent:
    name: str
    items: list[Item] = field(default_factory=list)
    crds: list[dict[str, Any]] = field(default_factory=list)
    namespaces: set[str] = field(default_factory=set)


def content(name: str, results: list[SynthResult], helm: Path) -> ClusterContent:
    cluster = ClusterContent(name)
    for result in results:
        for where, registration in kubernetes_objects(result):
            if where == name:
                cluster.items.append(Item(f"{result.stack} synth", manifest(registration), "default"))
        for install in installs(result):
            if install.cluster != name:
                continue
            if name != INFRASTRUCTURE:
                # The Helm add-on provider creates a release's namespace (HelmChartProxy options.install.
                # createNamespace, true unless set: its CRD at v0.3.1).
                cluster.namespaces.add(install.namespace)
            for obj in render(helm, install, KUBERNETES):
                if "test" in ((obj.get("metadata") or {}).get("annotations") or {}).get("helm.sh/hook", ""):
                    continue
                if is_crd(obj):
                    cluster.crds.append(obj)
                else:
                    cluster.items.append(Item(f"{result.stack} {install.label}", obj, install.namespace))
    if name == INFRASTRUCTURE:
        cluster.crds += [crd for release in OPERATOR_RELEASES for crd in release_crds(release)]
        # Talos serves it on the infrastructure cluster once the control planes grant Talos API access.
        cluster.crds.append(talos_service_account_crd())
        # The operators' release manifests (not applied here) create their own namespaces.
        cluster.namespaces |= {operator.namespace for operator in OPERATORS}
    cluster.crds = unique(cluster.crds)
    return cluster


def _pod_of(item: Item) -> Item | None:
    template = pod_template(item.obj)
    if template is None:
        return None
    metadata = {**template.get("metadata", {}), "name": f"{item.obj['metadata']['name']}-pod"}
    if item.obj["metadata"].get("namespace"):
        metadata["namespace"] = item.obj["metadata"]["namespace"]
    spec = dict(template.get("spec", {}))
    # The StatefulSet controller gives each pod a volume per claim template, claiming `<claim>-<set>-<ordinal>`.
    claims = item.obj["spec"].get("volumeClaimTemplates", []) if item.obj["kind"] == "StatefulSet" else []
    if claims:
        spec["volumes"] = [*spec.get("volumes", []), *(
            {"name": claim["metadata"]["name"],
             "persistentVolumeClaim": {"claimName": f"{claim['metadata']['name']}-{item.obj['metadata']['name']}-0"}}
            for claim in claims)]
    return Item(f"{item.source} (its pod)", {"apiVersion": "v1", "kind": "Pod", "metadata": metadata,
                                             "spec": spec}, item.namespace)


def _kind_key(item: Item) -> tuple[str, str]:
    return str(item.obj.get("apiVersion")), str(item.obj.get("kind"))


# Cilium's operator creates its CRDs at run time, so they are built from the JSON schemas, which carry no scope:
# these are cluster-scoped upstream (kubebuilder scope=Cluster in cilium pkg/k8s/apis/cilium.io), the rest not.
CLUSTER_SCOPED = {"CiliumLoadBalancerIPPool", "CiliumL2AnnouncementPolicy", "CiliumClusterwideNetworkPolicy"}


def built_crds(cluster: LoopbackCluster, items: list[Item]) -> list[dict[str, Any]]:
    """CRDs from the JSON schemas for the kinds no real CRD serves."""
    missing = sorted({_kind_key(item) for item in items
                      if "/" in _kind_key(item)[0] and _kind_key(item) not in cluster.kinds})
    crds = []
    for api_version, kind in missing:
        group, version = api_version.split("/")
        crd = schema_crd(group, kind, namespaced=kind not in CLUSTER_SCOPED, stored=version)
        if crd is not None:
            crds.append(crd)
    return crds


def _apply_all(cluster: LoopbackCluster, items: list[Item], dry_run: bool) -> Iterator[str]:
    for item in items:
        verdict = cluster.apply(item.obj, item.namespace, dry_run=dry_run)
        if not verdict.accepted:
            yield f"{item.label}: {verdict.message}"


def rejections(cluster: LoopbackCluster, content: ClusterContent) -> Iterator[str]:
    """Namespaces and CRDs for real, then what admission looks up for real, then the rest and pods dry-run."""
    namespaces = [item for item in content.items if _kind_key(item) == NAMESPACE]
    persisted = [item for item in content.items if _kind_key(item) in PERSISTED]
    rest = [item for item in content.items if _kind_key(item) not in {NAMESPACE, *PERSISTED}]
    for item in namespaces:
        verdict = cluster.create_namespace(item.obj)
        if not verdict.accepted:
            yield f"{item.label}: {verdict.message}"
    for namespace in sorted(content.namespaces - {item.obj["metadata"]["name"] for item in namespaces}):
        cluster.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    for name, message in cluster.install_crds(content.crds).items():
        yield f"CRD {name}: {message}"
    built = built_crds(cluster, content.items)
    if built:
        warnings.warn(f"{content.name}: CRDs built from JSON schemas (their CEL rules go unchecked): "
                      + ", ".join(sorted(crd["metadata"]["name"] for crd in built)), stacklevel=1)
        for name, message in cluster.install_crds(built).items():
            yield f"CRD {name} (from its JSON schema): {message}"
    yield from _apply_all(cluster, persisted, dry_run=False)
    pods = [pod for pod in map(_pod_of, rest) if pod is not None]
    yield from _apply_all(cluster, rest + pods, dry_run=True)


@pytest.mark.parametrize("name", sorted(CLUSTERS))
def test_every_object_is_taken_by_a_real_api_server(name, request, helm, talos_check, kube_apiserver, etcd,
                                                     tmp_path):
    results = [request.getfixturevalue(stack) for stack in CLUSTERS[name]]
    cluster_content = content(name, results, helm)
    assert cluster_content.items, f"{name}: nothing to apply"
    if name == INFRASTRUCTURE:
        (control_plane, *_) = [m for m in infrastructure_machines(results[0]) if m["machineType"] == "controlplane"]
        service_range = str(INFRASTRUCTURE_SERVICES)
    else:
        (control_plane, *_) = [m for r in results for m in guest_machines(r)
                               if m["machineType"] == "controlplane" and m["clusterName"] == name]
        service_range = str(GUEST_SERVICES)
    plugins = admission_plugins(talos_check, control_plane)
    assert any(plugin["name"] == "PodSecurity" for plugin in plugins)
    with loopback_cluster(kube_apiserver, etcd, tmp_path, service_range, plugins) as cluster:
        refused = list(rejections(cluster, cluster_content))
    assert not refused, f"{len(refused)} rejected:\n" + "\n".join(refused)


def test_the_api_server_refuses_what_it_should(prod, talos_check, kube_apiserver, etcd, tmp_path):
    """The tier can fail: an undeclared field, a Service outside the range, and a privileged pod in a namespace
    Talos' baseline Pod Security covers."""
    (control_plane, *_) = [m for m in infrastructure_machines(prod) if m["machineType"] == "controlplane"]
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "image": "busybox:1.37.0", "securityContext": {"privileged": True}}]}}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {
        "selector": {"matchLabels": {"a": "b"}},
        "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "x:1",
                                                                                    "resourcez": {}}]}}}}
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
               "spec": {"clusterIP": "192.0.2.1", "ports": [{"port": 80}]}}
    with loopback_cluster(kube_apiserver, etcd, tmp_path, str(INFRASTRUCTURE_SERVICES),
                          admission_plugins(talos_check, control_plane)) as cluster:
        cluster.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}})
        verdicts = {obj["kind"]: cluster.apply(obj, "apps") for obj in (pod, deployment, service)}
    assert "PodSecurity" in verdicts["Pod"].message
    assert "resourcez" in verdicts["Deployment"].message
    assert "not in the valid range" in verdicts["Service"].message
