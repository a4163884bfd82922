"""The lab runs on its own credential: what prod makes for it, what the lab reads of prod, and that every kind
the lab writes into the infrastructure cluster is one its roles cover. The real API server judges the whole
of it in tests/upstream/test_lab_access.py."""

import base64
from typing import Any

import pytest
import yaml

from components.cloud.seams import REQUIRED_PROD_OUTPUTS
from components.platform import lab_access
from labctl.render import kubernetes_objects, manifest
from labctl.synth import stack_reference_outputs
from tests.conftest import redacted

INFRASTRUCTURE = "homelab"


def _plural(kind: str) -> str:
    return kind.lower()[:-1] + "ies" if kind.endswith("y") else kind.lower() + "s"


def _covers(rules: list[dict[str, Any]], group: str, resource: str, verbs: set[str]) -> bool:
    held = {verb for rule in rules if group in rule["apiGroups"] and resource in rule["resources"]
            and "resourceNames" not in rule for verb in rule["verbs"]}
    return verbs <= held


def _lab_objects(result: Any) -> list[dict[str, Any]]:
    return [manifest(r) for cluster, r in kubernetes_objects(result) if cluster == INFRASTRUCTURE]


@pytest.mark.parametrize("stack", ["lab", "experiment", "crowded_lab"])
def test_every_kind_the_lab_writes_is_one_its_roles_cover(stack, request):
    objects = _lab_objects(request.getfixturevalue(stack))
    assert objects
    apply = {"get", "create", "patch", "delete"}
    for obj in objects:
        group = obj["apiVersion"].rpartition("/")[0]
        resource, namespace = _plural(obj["kind"]), obj["metadata"].get("namespace")
        label = f"{obj['kind']} {namespace}/{obj['metadata']['name']}"
        if namespace is None:
            assert obj["kind"] == "Namespace" and obj["metadata"]["name"].startswith(lab_access.NAMESPACE_PREFIX)
            assert _covers(lab_access.CLUSTER_RULES, group, resource, apply), label
        elif namespace == "argocd":
            # Creating needs no read; the read comes from the Role the experiment writes for its own Secret.
            assert _covers(lab_access.ARGOCD_RULES, group, resource, {"create", "patch"}), label
        else:
            assert namespace.startswith(lab_access.NAMESPACE_PREFIX), label
            assert _covers(lab_access.EXPERIMENT_RULES, group, resource, apply), label


def test_the_lab_holds_whatever_the_roles_it_writes_grant(lab):
    """RBAC lets the lab write a Role only if it holds every permission in it."""
    roles = [obj for obj in _lab_objects(lab) if obj["kind"] == "Role"
             and obj["metadata"]["namespace"] != "argocd"]
    assert roles
    for role in roles:
        for rule in role["rules"]:
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    assert _covers(lab_access.EXPERIMENT_RULES, group, resource, set(rule["verbs"])), (group, resource)


def test_each_experiment_binds_the_lab_before_anything_else_goes_in(lab):
    (binding,) = [r for r in lab.registrations if r.type.endswith(":RoleBinding")
                  and r.inputs["metadata"]["name"] == lab_access.EXPERIMENT_ROLE]
    assert binding.inputs["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                         "name": lab_access.EXPERIMENT_ROLE}
    assert binding.inputs["subjects"] == [lab_access.SUBJECT]
    (cluster,) = [r for r in lab.registrations if r.type == "homelab:clusters:GuestCluster"]
    fences = [r for r in lab.registrations if r.type.endswith((":ResourceQuota", ":LimitRange", ":NetworkPolicy"))]
    assert binding.urn in cluster.dependencies and all(binding.urn in r.dependencies for r in fences)
    (reader,) = [obj for obj in _lab_objects(lab) if obj["kind"] == "Role" and obj["metadata"]["namespace"] == "argocd"]
    (secret,) = [obj for obj in _lab_objects(lab) if obj["kind"] == "Secret"]
    assert reader["rules"][0]["resourceNames"] == [secret["metadata"]["name"]]


def test_the_lab_never_deletes_an_argocd_secret_it_could_not_watch_go(lab):
    """Deleting waits on a watch of every Secret in the namespace, which the lab may not make: its experiment's
    cluster Secret goes with the experiment's namespace instead, by Kubernetes' garbage collector."""
    (secret,) = [r for r in lab.registrations if r.type == "kubernetes:core/v1:Secret"
                 and r.inputs.get("metadata", {}).get("namespace") == "argocd"]
    (namespace,) = [r for r in lab.registrations if r.type == "kubernetes:core/v1:Namespace"
                    and r.inputs["metadata"]["name"].startswith(lab_access.NAMESPACE_PREFIX)]
    (owner,) = secret.inputs["metadata"]["ownerReferences"]
    assert owner["kind"] == "Namespace" and owner["name"] == namespace.inputs["metadata"]["name"] and owner["uid"]
    assert secret.retain_on_delete and not namespace.retain_on_delete
    (provider,) = [r for r in lab.registrations if r.type == "pulumi:providers:kubernetes"
                   and r.inputs.get("clusterIdentifier") == INFRASTRUCTURE]
    assert provider.inputs["enableSecretMutable"] == "true"


def test_what_the_provider_watches_while_it_waits_is_readable(lab):
    """A Deployment's wait watches its ReplicaSets, Pods and claims, and every wait its events
    (pulumi-kubernetes provider/pkg/await/deployment.go, watchers.go); a forbidden watch blocks for ever."""
    assert any(obj["kind"] == "Deployment" for obj in _lab_objects(lab))
    for group, resource in (("apps", "replicasets"), ("", "pods"), ("", "persistentvolumeclaims")):
        assert _covers(lab_access.EXPERIMENT_RULES, group, resource, {"get", "list", "watch"}), resource
    for rules in (lab_access.EXPERIMENT_RULES, lab_access.ARGOCD_RULES):
        assert _covers(rules, "", "events", {"list", "watch"})
    assert not _covers(lab_access.ARGOCD_RULES, "", "secrets", {"get"})
    assert not _covers(lab_access.ARGOCD_RULES, "", "secrets", {"list"})


def test_prod_exports_the_labs_credential_as_a_secret_and_the_lab_reads_no_admin_credential(prod, build):
    assert prod.outputs["labKubeconfig"] == "[secret]"
    token = prod.one("kubernetes:core/v1:Secret", lab_access.TOKEN_SECRET)
    assert token.inputs["type"] == "kubernetes.io/service-account-token"
    assert token.inputs["metadata"]["annotations"] == {"kubernetes.io/service-account.name": lab_access.ACCOUNT}
    assert {"kubeconfig", "talosconfig"}.isdisjoint(REQUIRED_PROD_OUTPUTS)
    outputs = {name: value for name, value in stack_reference_outputs(prod).items()
               if name not in {"kubeconfig", "talosconfig", "productionKubeconfig"}}
    lab = build("lab", prod_outputs=outputs)
    (provider,) = [r for r in lab.registrations if r.type == "pulumi:providers:kubernetes"
                   and r.inputs.get("clusterIdentifier") == INFRASTRUCTURE]
    assert redacted(provider.inputs["kubeconfig"])


def test_the_kubeconfig_carries_the_accounts_token_and_the_clusters_authority():
    data = {"token": base64.b64encode(b"the-token").decode(), "ca.crt": "Q0E="}
    config = yaml.safe_load(lab_access.kubeconfig("https://192.168.10.5:6443", "homelab", data))
    assert config["users"] == [{"name": "lab", "user": {"token": "the-token"}}]
    assert config["clusters"][0]["cluster"] == {"server": "https://192.168.10.5:6443",
                                                "certificate-authority-data": "Q0E="}


def test_the_policy_judges_the_lab_alone_and_refuses_what_fails(prod):
    (policy,) = [r for r in prod.registrations if r.type.endswith(":ValidatingAdmissionPolicy")
                 and r.inputs["metadata"]["name"] == lab_access.POLICY]
    spec = policy.inputs["spec"]
    assert spec["matchConditions"] == [
        {"name": "the-lab", "expression": "request.userInfo.username == 'system:serviceaccount:lab-access:lab'"}]
    assert spec["failurePolicy"] == "Fail" and len(spec["validations"]) == len(lab_access.validations())
    (binding,) = [r for r in prod.registrations if r.type.endswith(":ValidatingAdmissionPolicyBinding")
                  and r.inputs["metadata"]["name"] == lab_access.POLICY]
    assert binding.inputs["spec"]["validationActions"] == ["Deny"]
