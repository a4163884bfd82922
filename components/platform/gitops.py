"""GitOps: Argo CD, one AppProject per cluster class, and the root app-of-apps from the user's repository.

The projects fence what each class may deploy where: ``platform`` targets only the infrastructure cluster,
``production`` only the production guest cluster, ``experiment`` only clusters named ``exp-*``. Guest
clusters are registered with Argo CD by the guest-cluster layer. Dex, notifications and Redis HA are off:
one user, no alerts through Argo CD, and a Pi cannot spare the memory.
"""

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
        "controller": {"replicas": 1, "resources": resources("100m", "256Mi", memory_limit="512Mi")},
        "server": {"replicas": 1, "resources": resources("25m", "96Mi", memory_limit="160Mi")},
        "repoServer": {"replicas": 1, "resources": resources("50m", "128Mi", memory_limit="256Mi")},
        "applicationSet": {"replicas": 1, "resources": resources("10m", "64Mi", memory_limit="128Mi")},
        "redis": {"resources": resources("10m", "48Mi", memory_limit="96Mi")},
        # The pre-install hook Job that writes Redis' password.
        "redisSecretInit": {"resources": resources("10m", "32Mi", memory_limit="64Mi")},
    }


def projects(gitops: GitOpsSettings, parent: pulumi.Resource, argocd: pulumi.Resource) -> list[pulumi.Resource]:
    opts = pulumi.ResourceOptions(parent=parent, depends_on=[argocd])
    created: list[pulumi.Resource] = [
        k8s.apiextensions.CustomResource(
            f"project-{name}", api_version="argoproj.io/v1alpha1", kind="AppProject",
            metadata={"name": name, "namespace": NAMESPACE},
            spec={
                "description": f"Applications of the {name} cluster class",
                "sourceRepos": [gitops.repo_url, "*"] if name != "platform" else [gitops.repo_url],
                "destinations": [{"name": destination, "namespace": "*"}],
                "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
            },
            opts=opts,
        )
        for name, destination in PROJECT_DESTINATIONS.items()
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
