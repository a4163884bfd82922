"""What an experiment grants the lab's account as it makes the experiment (components/platform/lab_access.py):
the experiment role in the experiment's own namespace, and in Argo CD's namespace a Role that lets it read
back, change and delete its own cluster Secret and no other. Everything else of the experiment waits for them.
"""

import pulumi
import pulumi_kubernetes as k8s

from components.clusters.addons import argocd_secret_name
from components.clusters.classes import EXPERIMENT_CLASS
from components.platform.gitops import NAMESPACE as ARGOCD_NAMESPACE
from components.platform.lab_access import ARGOCD_ROLE_PREFIX, EXPERIMENT_ROLE, SUBJECT

RBAC = "rbac.authorization.k8s.io"


def grants(parent: pulumi.Resource, cluster: str, namespace: str,
           ns: pulumi.Resource) -> list[pulumi.Resource]:
    meta = k8s.meta.v1.ObjectMetaArgs
    subject = k8s.rbac.v1.SubjectArgs(**SUBJECT)
    in_namespace = k8s.rbac.v1.RoleBinding(
        f"{cluster}-lab", metadata=meta(name=EXPERIMENT_ROLE, namespace=namespace), subjects=[subject],
        role_ref=k8s.rbac.v1.RoleRefArgs(api_group=RBAC, kind="ClusterRole", name=EXPERIMENT_ROLE),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[ns]))
    name = f"{ARGOCD_ROLE_PREFIX}{cluster}"
    reader = k8s.rbac.v1.Role(
        f"{cluster}-lab-argocd", metadata=meta(name=name, namespace=ARGOCD_NAMESPACE),
        rules=[k8s.rbac.v1.PolicyRuleArgs(api_groups=[""], resources=["secrets"],
                                          resource_names=[argocd_secret_name(EXPERIMENT_CLASS.argocd_name(cluster))],
                                          verbs=["get", "update", "patch", "delete"])],
        # After the namespace, like everything of the experiment (it waits for the capacity check).
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[ns]))
    binding = k8s.rbac.v1.RoleBinding(
        f"{cluster}-lab-argocd", metadata=meta(name=name, namespace=ARGOCD_NAMESPACE), subjects=[subject],
        role_ref=k8s.rbac.v1.RoleRefArgs(api_group=RBAC, kind="Role", name=name),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[reader]))
    return [in_namespace, reader, binding]
