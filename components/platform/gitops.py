"""GitOps: Argo CD, one AppProject per cluster class, and the root app-of-apps from the user's repository.

The projects fence what each class may deploy where and from what: ``platform`` targets only the
infrastructure cluster, from the user's repository only; ``production`` only the production guest cluster and
``experiment`` only clusters named ``exp-*``, each from the user's repository and the chart repositories of the
app catalog. Of cluster-scoped kinds a project may create only namespaces (and, for ``platform``, the kinds
``homelab:platform.gitops.clusterKinds`` lists). A private repository's credential (a token, or an SSH key for
an ``ssh://`` or ``git@`` URL) is the secret ``homelab:gitopsRepoCredential``, handed to Argo CD as a
repository Secret. Guest
clusters are registered with Argo CD by the guest-cluster layer. Dex, notifications and Redis HA are off:
one user, no alerts through Argo CD, and a Pi cannot spare the memory.
"""

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.capacity import Workload
from components.config import GitOpsSettings
from components.platform.chart import ChartSpec
from components.quantities import resources
from components.versions import ARGO_CD

NAMESPACE = "argocd"
IN_CLUSTER = "https://kubernetes.default.svc"
ARGO_CD_CHART = ChartSpec(
    release="argocd", chart="argo-cd", repo="https://argoproj.github.io/argo-helm", version=ARGO_CD,
    namespace=NAMESPACE,
    workloads=(
        Workload("application-controller", ("controller", "resources"), replicas=("controller", "replicas")),
        Workload("server", ("server", "resources"), replicas=("server", "replicas")),
        Workload("repo-server", ("repoServer", "resources"), replicas=("repoServer", "replicas")),
        Workload("applicationset", ("applicationSet", "resources"), replicas=("applicationSet", "replicas")),
        Workload("redis", ("redis", "resources")),
    ),
)
# Cluster class → the Argo CD cluster names its project may deploy to.
PROJECT_DESTINATIONS = {"platform": "in-cluster", "production": "production", "experiment": "exp-*"}


def argocd_values() -> dict[str, Any]:
    return {
        "crds": {"install": True, "keep": True},
        "dex": {"enabled": False},
        "notifications": {"enabled": False},
        "redis-ha": {"enabled": False},
        # Its metrics Service: the gateway scrapes the applications' health from it (components/platform/scrapes.py).
        "controller": {"replicas": 1, "resources": resources("100m", "256Mi", memory_limit="512Mi"),
                       "metrics": {"enabled": True}},
        "server": {"replicas": 1, "resources": resources("25m", "96Mi", memory_limit="160Mi")},
        "repoServer": {"replicas": 1, "resources": resources("50m", "128Mi", memory_limit="256Mi")},
        "applicationSet": {"replicas": 1, "resources": resources("10m", "64Mi", memory_limit="128Mi")},
        "redis": {"resources": resources("10m", "48Mi", memory_limit="96Mi")},
        # The pre-install hook Job that writes Redis' password.
        "redisSecretInit": {"resources": resources("10m", "32Mi", memory_limit="64Mi")},
    }


NAMESPACES_ONLY = [{"group": "", "kind": "Namespace"}]
REPOSITORY_LABEL = "argocd.argoproj.io/secret-type"


def _group_kind(written: str) -> dict[str, str]:
    """``rbac.authorization.k8s.io/ClusterRole`` (``/Kind`` for the core group) as Argo CD's group and kind."""
    group, _, kind = written.rpartition("/")
    return {"group": group, "kind": kind}


def project_spec(name: str, gitops: GitOpsSettings, app_repositories: Sequence[str]) -> dict[str, Any]:
    """What the ``name`` class's project may deploy, from where, to which clusters."""
    platform = name == "platform"
    return {
        "description": f"Applications of the {name} cluster class",
        "sourceRepos": [gitops.repo_url] if platform else [gitops.repo_url, *sorted(set(app_repositories))],
        "destinations": [{"name": PROJECT_DESTINATIONS[name], "namespace": "*"}],
        "clusterResourceWhitelist": NAMESPACES_ONLY + ([_group_kind(kind) for kind in gitops.cluster_kinds]
                                                      if platform else []),
    }


def repository_credential(gitops: GitOpsSettings, credential: pulumi.Input[str]) -> dict[str, pulumi.Input[str]]:
    """Argo CD's declarative repository entry: a token over HTTPS, or an SSH private key."""
    entry: dict[str, pulumi.Input[str]] = {"type": "git", "url": gitops.repo_url}
    if gitops.repo_url.startswith("https://"):
        entry |= {"username": gitops.username, "password": credential}
    else:
        entry["sshPrivateKey"] = credential
    return entry


def projects(gitops: GitOpsSettings, parent: pulumi.Resource, argocd: pulumi.Resource,
             app_repositories: Sequence[str] = (), credential: pulumi.Input[str] | None = None
             ) -> list[pulumi.Resource]:
    opts = pulumi.ResourceOptions(parent=parent, depends_on=[argocd])
    created: list[pulumi.Resource] = []
    if credential is not None:
        created.append(k8s.core.v1.Secret(
            "gitops-repository", metadata=k8s.meta.v1.ObjectMetaArgs(
                name="gitops-repository", namespace=NAMESPACE, labels={REPOSITORY_LABEL: "repository"}),
            type="Opaque", string_data=repository_credential(gitops, credential), opts=opts))
    created += [
        k8s.apiextensions.CustomResource(
            f"project-{name}", api_version="argoproj.io/v1alpha1", kind="AppProject",
            metadata={"name": name, "namespace": NAMESPACE},
            spec=project_spec(name, gitops, app_repositories),
            opts=opts,
        )
        for name in PROJECT_DESTINATIONS
    ]
    created.append(k8s.apiextensions.CustomResource(
        "root-app", api_version="argoproj.io/v1alpha1", kind="Application",
        metadata={"name": "root", "namespace": NAMESPACE},
        spec={
            "project": "platform",
            "source": {"repoURL": gitops.repo_url, "targetRevision": gitops.revision, "path": gitops.path},
            "destination": {"server": IN_CLUSTER, "namespace": NAMESPACE},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}, "syncOptions": ["CreateNamespace=true"]},
        },
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[argocd, *created]),
    ))
    return created
