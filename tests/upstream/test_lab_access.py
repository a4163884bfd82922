"""The lab's own credential, judged by a real API server's RBAC and admission.

Prod's account, roles and ValidatingAdmissionPolicy are created for real on a loopback kube-apiserver v1.33
(with the CRDs the lab's objects need); then, acting as the lab's ServiceAccount (impersonation), every object
the lab stack writes into the infrastructure cluster goes in, in the order the program makes them (the
namespace and the grants for real, the rest by server-side dry-run), and must all be admitted. Then the lab
tries what it must not: other namespaces, production's objects, the platform's Secrets, a wider Role.
"""

import time
from typing import Any

from components.address_ranges import INFRASTRUCTURE_SERVICES
from components.platform import lab_access
from labctl.render import kubernetes_objects, manifest
from tests.upstream.apiserver import LoopbackCluster, Verdict, loopback_cluster
from tests.upstream.charts import INFRASTRUCTURE
from tests.upstream.talos import admission_plugins, infrastructure_machines
from tests.upstream.test_api_server import built_crds, content

GROUPS = ("system:serviceaccounts", f"system:serviceaccounts:{lab_access.NAMESPACE}", "system:authenticated")
ACCESS_NAMES = {lab_access.NAMESPACE, lab_access.ACCOUNT, lab_access.CLUSTER_ROLE, lab_access.EXPERIMENT_ROLE,
                lab_access.ARGOCD_ROLE, lab_access.POLICY}
ORDER = ["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
         "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]
SCOPE_REFUSAL = f"ValidatingAdmissionPolicy '{lab_access.POLICY}'"


def _namespace(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def _binding(name: str, namespace: str, role_kind: str, role: str) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": name, "namespace": namespace},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
            "subjects": [lab_access.SUBJECT]}


def _secret_reader(name: str, secret: str, resources: tuple[str, ...] = ("secrets",)) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": name, "namespace": "argocd"},
            "rules": [{"apiGroups": [""], "resources": list(resources), "resourceNames": [secret], "verbs": ["get"]}]}


# (what the lab tries, the object, in which namespace, what the refusal says)
FORBIDDEN = [
    ("a namespace not named for an experiment", _namespace("sneaky", **{"homelab.dev/cluster-class": "experiment"}),
     "default", "only experiment namespaces"),
    ("an experiment namespace without the class", _namespace("experiment-x"), "default", "only experiment namespaces"),
    ("relabelling production's namespace", _namespace("production", **{"homelab.dev/cluster-class": "experiment"}),
     "default", "only experiment namespaces"),
    ("binding itself the experiment role in production",
     _binding("grab", "production", "ClusterRole", lab_access.EXPERIMENT_ROLE), "production", "only into experiment"),
    ("binding itself cluster-admin in its own namespace",
     _binding("grab", "experiment-sandbox", "ClusterRole", "cluster-admin"), "experiment-sandbox", "forbidden"),
    ("a ConfigMap in storage", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}, "storage",
     "forbidden"),
    ("a cluster Secret for production in Argo CD",
     {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "cluster-production", "labels": {
         "homelab.dev/cluster-class": "experiment", "argocd.argoproj.io/secret-type": "cluster"}}},
     "argocd", "experiments' clusters"),
    ("a Role reading Argo CD's own Secret", _secret_reader("experiment-x", "argocd-secret"), "argocd",
     "may only name"),
    ("a Role over every resource", _secret_reader("experiment-y", "cluster-exp-y", ("*",)), "argocd", "may only name"),
    ("a ClusterRole", {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                       "metadata": {"name": "mine"}, "rules": []}, "default", "forbidden"),
]
# (what the lab reads, path, status): 404 means allowed and absent, 403 refused.
READS = [
    ("production's Secrets", "/api/v1/namespaces/production/secrets", 403),
    ("the object store's root Secret", "/api/v1/namespaces/storage/secrets/object-store-root", 403),
    ("Argo CD's Secrets", "/api/v1/namespaces/argocd/secrets", 403),
    ("its experiment's Secrets", "/api/v1/namespaces/experiment-sandbox/secrets/sandbox-kubeconfig", 404),
    ("its experiment's cluster Secret in Argo CD", "/api/v1/namespaces/argocd/secrets/cluster-exp-sandbox", 404),
]


def _until(check: Any, timeout: float = 30) -> Any:
    """RBAC and a new policy reach the API server's caches asynchronously: retry until ``check`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result[0] or time.monotonic() > deadline:
            return result[1]
        time.sleep(0.3)


def _as_lab(cluster: LoopbackCluster) -> LoopbackCluster:
    return cluster.as_user(lab_access.USERNAME, GROUPS)


def test_the_lab_makes_its_experiments_and_nothing_else(prod, lab, helm, talos_check, kube_apiserver, etcd,
                                                        tmp_path):
    access = sorted((manifest(r) for _, r in kubernetes_objects(prod)
                     if r.inputs.get("metadata", {}).get("name") in ACCESS_NAMES),
                    key=lambda obj: ORDER.index(obj["kind"]))
    assert [obj["kind"] for obj in access] == [*ORDER[:3], "ClusterRole", *ORDER[3:]]
    lab_content = content(INFRASTRUCTURE, [lab], helm)
    ordered = sorted(lab_content.items, key=lambda item: (item.obj["kind"] != "Namespace",
                                                          "rbac.authorization" not in item.obj["apiVersion"]))
    (control_plane, *_) = [m for m in infrastructure_machines(prod) if m["machineType"] == "controlplane"]
    with loopback_cluster(kube_apiserver, etcd, tmp_path, str(INFRASTRUCTURE_SERVICES),
                          admission_plugins(talos_check, control_plane)) as cluster:
        for name in ("argocd", "production", "storage"):
            cluster.create_namespace(_namespace(name))
        assert not cluster.install_crds(lab_content.crds)
        assert not cluster.install_crds(built_crds(cluster, lab_content.items))
        for obj in access:
            created = cluster.apply(obj, dry_run=False)
            assert created.accepted, f"{obj['kind']} {obj['metadata']['name']}: {created.message}"
        as_lab = _as_lab(cluster)
        probe = _namespace("sneaky", **{"homelab.dev/cluster-class": "experiment"})
        enforced = _until(lambda: (SCOPE_REFUSAL in (v := as_lab.apply(probe)).message, v))
        assert SCOPE_REFUSAL in enforced.message, enforced.message

        def admitted(item: Any) -> Verdict:
            real = item.obj["kind"] == "Namespace" or "rbac.authorization" in item.obj["apiVersion"]
            return _until(lambda: ((v := as_lab.apply(item.obj, item.namespace, dry_run=not real)).accepted, v),
                          timeout=10)

        refused = [f"{item.label}: {verdict.message}" for item in ordered
                   if not (verdict := admitted(item)).accepted]
        assert not refused, "\n".join(refused)
        forbidden = {case: as_lab.apply(obj, namespace) for case, obj, namespace, _ in FORBIDDEN}
        reads = {case: as_lab.request("GET", path).status for case, path, _ in READS}
    assert {case: verdict.accepted for case, verdict in forbidden.items()} == {case: False for case, *_ in FORBIDDEN}
    for case, _, _, reason in FORBIDDEN:
        assert reason in forbidden[case].message, f"{case}: {forbidden[case].message}"
    assert reads == {case: status for case, _, status in READS}
