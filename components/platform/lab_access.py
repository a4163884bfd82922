"""The lab's own credential on the infrastructure cluster: a ServiceAccount that can make experiments and
nothing else, instead of the cluster's admin kubeconfig.

RBAC alone cannot say "only namespaces named experiment-*" or "only the Secrets of experiments", so the
credential is three layers:

- **RBAC, cluster-wide**, only for what has no namespace to hold it: Namespaces, and RoleBindings that bind
  the experiment role (``bind`` on that one ClusterRole).
- **RBAC, per experiment**: the lab binds ``EXPERIMENT_ROLE`` in each namespace it makes, so whatever it may
  do to Secrets, Cluster API objects and the rest, it may do there only. In Argo CD's namespace it may create
  experiments' cluster Secrets and Applications; to read back its own Secret it writes a Role naming that
  Secret alone, and binds it to itself.
- **Admission** (``homelab-lab-scope``, a ValidatingAdmissionPolicy matching the lab's user only): every write
  is refused unless it lands in an experiment namespace (labelled with the experiment class, named
  ``experiment-*``), or is one of the shapes above in Argo CD's namespace (cluster Secrets named
  ``cluster-exp-*``, Applications of the ``experiment`` project, Roles naming only such Secrets).

Pulumi's provider deletes an object and then watches its kind in its namespace until it is gone
(provider/pkg/await/await.go, await/condition/deleted.go), which for an experiment's cluster Secret would need
listing every Secret of Argo CD's namespace. So the lab never deletes that Secret: it is owned by the
experiment's namespace (a cluster-scoped owner), kept on ``pulumi destroy`` (``retainOnDelete``), and
Kubernetes' garbage collector removes it with the namespace; the lab's provider updates Secrets in place
(``enableSecretMutable``) rather than replacing them.

Prod exports the credential as ``labKubeconfig`` (secret): its own token, from a Secret the token controller
fills (pulumi-kubernetes waits for its data: provider/pkg/await/awaiters.go, untilCoreV1SecretInitialized).
"""

import base64
from collections.abc import Mapping
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.labels import CLASS_LABEL, EXPERIMENT
from components.platform.chart import namespace as platform_namespace
from components.platform.gitops import NAMESPACE as ARGOCD_NAMESPACE

NAMESPACE = "lab-access"
ACCOUNT = "lab"
USERNAME = f"system:serviceaccount:{NAMESPACE}:{ACCOUNT}"
TOKEN_SECRET = "lab-token"
CLUSTER_ROLE, EXPERIMENT_ROLE, ARGOCD_ROLE = "homelab-lab", "homelab-lab-experiment", "homelab-lab-argocd"
POLICY = "homelab-lab-scope"
NAMESPACE_PREFIX = "experiment-"
# What the lab may write in Argo CD's namespace: names its experiments' objects there start with these.
ARGOCD_SECRET_PREFIX, ARGOCD_ROLE_PREFIX, ARGOCD_PROJECT = "cluster-exp-", "experiment-", EXPERIMENT
SUBJECT = {"kind": "ServiceAccount", "name": ACCOUNT, "namespace": NAMESPACE}
_ALL = ["get", "list", "watch", "create", "update", "patch", "delete"]

# What an experiment's objects on the infrastructure cluster are (tests/platform/test_lab_access.py holds this
# to what the lab and every experiment register, and to the cloud controller's Role, which the lab writes).
EXPERIMENT_RULES: list[dict[str, Any]] = [
    {"apiGroups": [""], "resources": ["configmaps", "secrets", "serviceaccounts", "resourcequotas",
                                      "limitranges", "services"], "verbs": _ALL},
    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": _ALL},
    {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": _ALL},
    {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"], "verbs": _ALL},
    {"apiGroups": ["cluster.x-k8s.io"], "resources": ["clusters", "machinedeployments", "machinehealthchecks"],
     "verbs": _ALL},
    {"apiGroups": ["controlplane.cluster.x-k8s.io"], "resources": ["taloscontrolplanes"], "verbs": _ALL},
    {"apiGroups": ["bootstrap.cluster.x-k8s.io"], "resources": ["talosconfigtemplates"], "verbs": _ALL},
    {"apiGroups": ["infrastructure.cluster.x-k8s.io"], "resources": ["kubevirtclusters", "kubevirtmachinetemplates"],
     "verbs": _ALL},
    {"apiGroups": ["addons.cluster.x-k8s.io"], "resources": ["helmchartproxies"], "verbs": _ALL},
    {"apiGroups": ["cdi.kubevirt.io"], "resources": ["datavolumes"], "verbs": _ALL},
    # What the guests' cloud controller's own Role grants (components/clusters/cloud_provider.py): the lab writes
    # that Role, and RBAC lets it grant only what it holds.
    {"apiGroups": ["kubevirt.io"], "resources": ["virtualmachineinstances"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": _ALL},
    # What Pulumi's Kubernetes provider watches while it waits: a Deployment's ReplicaSets, Pods and claims
    # (provider/pkg/await/deployment.go), and each object's events (await/watchers.go). A watch it may not make
    # never fails, it blocks (await/informers/factory.go WaitForCacheSync), so these are needed, read-only.
    {"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["pods", "persistentvolumeclaims"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["list", "watch"]},
]
CLUSTER_RULES: list[dict[str, Any]] = [
    {"apiGroups": [""], "resources": ["namespaces"], "verbs": _ALL},
    {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["rolebindings"], "verbs": _ALL},
    {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["bind"],
     "resourceNames": [EXPERIMENT_ROLE]},
]
ARGOCD_RULES: list[dict[str, Any]] = [
    # Creating needs no read; reading an experiment's own Secret comes from the Role it writes for it.
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create", "patch", "update"]},
    {"apiGroups": ["argoproj.io"], "resources": ["applications"], "verbs": _ALL},
    {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"], "verbs": _ALL},
    {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"], "verbs": ["escalate", "bind"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["list", "watch"]},
]

_CLASS = f"'{CLASS_LABEL}'"
_IN_EXPERIMENT = (f"namespaceObject != null && has(namespaceObject.metadata.labels) && "
                  f"{_CLASS} in namespaceObject.metadata.labels && "
                  f"namespaceObject.metadata.labels[{_CLASS}] == '{EXPERIMENT}' && "
                  f"namespaceObject.metadata.name.startsWith('{NAMESPACE_PREFIX}')")


def _each(check: str) -> str:
    """``check`` over the object written and, on an update or delete, the one it replaces."""
    return (f"(request.operation == 'DELETE' || ({check.format(o='object')})) && "
            f"(request.operation == 'CREATE' || ({check.format(o='oldObject')}))")


def _in_argocd(kind: str, check: str) -> str:
    return f"request.namespace != '{ARGOCD_NAMESPACE}' || request.kind.kind != '{kind}' || ({_each(check)})"


def validations() -> list[dict[str, str]]:
    """The policy's CEL rules, each with the message a refused request gets."""
    experiment_labelled = (f"has({{o}}.metadata.labels) && {_CLASS} in {{o}}.metadata.labels && "
                           f"{{o}}.metadata.labels[{_CLASS}] == '{EXPERIMENT}'")
    role_rules = (f"has({{o}}.rules) && {{o}}.rules.all(r, r.apiGroups == [''] && r.resources == ['secrets'] && "
                  f"has(r.resourceNames) && size(r.resourceNames) > 0 && "
                  f"r.resourceNames.all(n, n.startsWith('{ARGOCD_SECRET_PREFIX}')) && "
                  f"r.verbs.all(v, v in ['get', 'update', 'patch', 'delete']))")
    binding = (f"{{o}}.metadata.name.startsWith('{ARGOCD_ROLE_PREFIX}') && {{o}}.roleRef.kind == 'Role' && "
               f"{{o}}.roleRef.name.startsWith('{ARGOCD_ROLE_PREFIX}') && has({{o}}.subjects) && "
               f"{{o}}.subjects.all(s, s.kind == 'ServiceAccount' && s.name == '{ACCOUNT}' && "
               f"s.namespace == '{NAMESPACE}')")
    argocd_kinds = ["Secret", "Application", "Role", "RoleBinding"]
    return [
        {"expression": "request.kind.kind != 'Namespace' || (" + _each(
            f"{{o}}.metadata.name.startsWith('{NAMESPACE_PREFIX}') && {experiment_labelled}") + ")",
         "message": f"the lab may make only experiment namespaces: named {NAMESPACE_PREFIX}*, labelled "
                    f"{CLASS_LABEL}={EXPERIMENT}"},
        {"expression": "request.kind.kind == 'Namespace' || request.namespace != ''",
         "message": "the lab makes nothing cluster-wide but experiment namespaces"},
        # A Namespace's own request carries its name as the namespace; the first rule judges those.
        {"expression": f"request.kind.kind == 'Namespace' || request.namespace == '' || "
                       f"request.namespace == '{ARGOCD_NAMESPACE}' || ({_IN_EXPERIMENT})",
         "message": "the lab writes only into experiment namespaces (and experiments' entries in Argo CD)"},
        {"expression": f"request.namespace != '{ARGOCD_NAMESPACE}' || request.kind.kind in {argocd_kinds!r}",
         "message": "in Argo CD's namespace the lab writes only experiments' cluster Secrets, Applications and "
                    "the Roles that let it read those Secrets"},
        {"expression": _in_argocd("Secret", f"{{o}}.metadata.name.startsWith('{ARGOCD_SECRET_PREFIX}') && "
                                            f"{experiment_labelled}"),
         "message": f"the lab's Secrets in Argo CD's namespace are experiments' clusters: {ARGOCD_SECRET_PREFIX}*, "
                    f"labelled {CLASS_LABEL}={EXPERIMENT}"},
        {"expression": _in_argocd("Application", f"{{o}}.spec.project == '{ARGOCD_PROJECT}'"),
         "message": f"the lab's Applications belong to the {ARGOCD_PROJECT} project"},
        {"expression": _in_argocd("Role", f"{{o}}.metadata.name.startsWith('{ARGOCD_ROLE_PREFIX}') && {role_rules}"),
         "message": f"the lab's Roles in Argo CD's namespace may only name its experiments' cluster Secrets "
                    f"({ARGOCD_SECRET_PREFIX}*)"},
        {"expression": _in_argocd("RoleBinding", binding),
         "message": "the lab's RoleBindings in Argo CD's namespace bind only its own experiment Roles to itself"},
    ]


def _role_rules(rules: list[dict[str, Any]]) -> list[k8s.rbac.v1.PolicyRuleArgsDict]:
    return cast(list[k8s.rbac.v1.PolicyRuleArgsDict], rules)


def kubeconfig(endpoint: str, cluster: str, token_data: Mapping[str, str]) -> str:
    """A kubeconfig for the lab's account from its token Secret's data (base64, as the API returns it)."""
    token = base64.b64decode(token_data["token"]).decode()
    return str(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": ACCOUNT,
        "clusters": [{"name": cluster, "cluster": {"server": endpoint,
                                                   "certificate-authority-data": token_data["ca.crt"]}}],
        "users": [{"name": ACCOUNT, "user": {"token": token}}],
        "contexts": [{"name": ACCOUNT, "context": {"cluster": cluster, "user": ACCOUNT}}],
    }, sort_keys=False))


def install(parent: pulumi.Resource, endpoint: str, cluster: str,
            depends_on: list[pulumi.Resource]) -> pulumi.Output[str]:
    """The account, its roles and the admission policy; returns its kubeconfig (secret)."""
    ns = platform_namespace(NAMESPACE, parent, "restricted", depends_on)
    opts = pulumi.ResourceOptions(parent=parent, depends_on=[*depends_on, ns])
    account = k8s.core.v1.ServiceAccount(
        f"{NAMESPACE}-{ACCOUNT}", metadata=k8s.meta.v1.ObjectMetaArgs(name=ACCOUNT, namespace=NAMESPACE),
        automount_service_account_token=False, opts=opts)
    token = k8s.core.v1.Secret(
        TOKEN_SECRET, metadata=k8s.meta.v1.ObjectMetaArgs(
            name=TOKEN_SECRET, namespace=NAMESPACE, annotations={"kubernetes.io/service-account.name": ACCOUNT}),
        type="kubernetes.io/service-account-token",
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[account], additional_secret_outputs=["data"]))
    meta = k8s.meta.v1.ObjectMetaArgs
    for role, rules in ((CLUSTER_ROLE, CLUSTER_RULES), (EXPERIMENT_ROLE, EXPERIMENT_RULES)):
        k8s.rbac.v1.ClusterRole(role, metadata=meta(name=role), rules=_role_rules(rules), opts=opts)
    k8s.rbac.v1.ClusterRoleBinding(
        CLUSTER_ROLE, metadata=meta(name=CLUSTER_ROLE), subjects=[cast(k8s.rbac.v1.SubjectArgsDict, SUBJECT)],
        role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="ClusterRole",
                                         name=CLUSTER_ROLE), opts=opts)
    k8s.rbac.v1.Role(ARGOCD_ROLE, metadata=meta(name=ARGOCD_ROLE, namespace=ARGOCD_NAMESPACE),
                     rules=_role_rules(ARGOCD_RULES), opts=opts)
    k8s.rbac.v1.RoleBinding(
        ARGOCD_ROLE, metadata=meta(name=ARGOCD_ROLE, namespace=ARGOCD_NAMESPACE),
        subjects=[cast(k8s.rbac.v1.SubjectArgsDict, SUBJECT)],
        role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="Role", name=ARGOCD_ROLE),
        opts=opts)
    policy = k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
        POLICY, metadata=meta(name=POLICY),
        spec=cast(k8s.admissionregistration.v1.ValidatingAdmissionPolicySpecArgsDict, {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": [{"apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"],
                                                    "operations": ["CREATE", "UPDATE", "DELETE"]}]},
            "matchConditions": [{"name": "the-lab", "expression": f"request.userInfo.username == '{USERNAME}'"}],
            "validations": validations()}),
        opts=opts)
    k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
        POLICY, metadata=meta(name=POLICY),
        spec=cast(k8s.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpecArgsDict,
                  {"policyName": POLICY, "validationActions": ["Deny"]}),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[*depends_on, policy]))
    return pulumi.Output.secret(token.data.apply(lambda data: kubeconfig(endpoint, cluster, data)))
