"""The Talos role policy as the real API server enforces it: the program's own ValidatingAdmissionPolicy and
binding are created on a loopback kube-apiserver v1.33 beside the talos.dev ServiceAccount CRD, then accounts
are sent to it. Talos itself would grant any allowed role in any allowed namespace."""

import time

from tests.upstream.admission import create, infrastructure_api_server, registered_policy
from tests.upstream.apiserver import LoopbackCluster, Verdict
from tests.upstream.crds import talos_service_account_crd


def _account(name: str, namespace: str, *roles: str) -> dict:
    return {"apiVersion": "talos.dev/v1alpha1", "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": namespace}, "spec": {"roles": list(roles)}}


CASES = [
    # (case, account, admitted)
    ("the upgrader's own role", _account("talos-upgrader", "talos-upgrade", "os:admin"), True),
    ("the snapshots' own role", _account("talos-backup", "etcd-backup", "os:etcd:backup"), True),
    ("os:admin in the snapshots' namespace", _account("grab", "etcd-backup", "os:admin"), False),
    ("both roles in the snapshots' namespace", _account("both", "etcd-backup", "os:etcd:backup", "os:admin"), False),
    ("the snapshot role in the upgrader's namespace", _account("odd", "talos-upgrade", "os:etcd:backup"), False),
    ("a namespace Talos grants nothing", _account("other", "apps", "os:admin"), True),
]


def _send_until_enforced(cluster: LoopbackCluster) -> dict[str, Verdict]:
    deadline = time.monotonic() + 30
    while True:
        verdicts = {case: cluster.apply(account) for case, account, _ in CASES}
        if not verdicts["os:admin in the snapshots' namespace"].accepted or time.monotonic() > deadline:
            return verdicts
        time.sleep(0.5)


def test_each_granted_namespace_may_ask_talos_only_for_its_own_roles(prod, talos_check, kube_apiserver, etcd,
                                                                    tmp_path):
    policies = registered_policy(prod, "homelab-talos-api-roles")
    with infrastructure_api_server(prod, talos_check, kube_apiserver, etcd, tmp_path) as cluster:
        assert cluster.install_crds([talos_service_account_crd()]) == {}
        cluster.discover()
        for namespace in ("talos-upgrade", "etcd-backup", "apps"):
            cluster.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        create(cluster, policies)
        verdicts = _send_until_enforced(cluster)
    outcome = {case: verdicts[case].accepted for case, *_ in CASES}
    assert outcome == {case: admitted for case, _, admitted in CASES}, {
        case: verdicts[case].message for case in verdicts}
    assert "talos-upgrade: os:admin" in verdicts["os:admin in the snapshots' namespace"].message
