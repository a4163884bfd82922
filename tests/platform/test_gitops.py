"""Argo CD: pinned chart, one AppProject per cluster class, the root app following the user's repository."""

from components import versions

APP = "kubernetes:argoproj.io/v1alpha1:Application"
PROJECT = "kubernetes:argoproj.io/v1alpha1:AppProject"


def test_argocd_is_pinned_and_small(prod):
    argocd = prod.one("kubernetes:helm.sh/v3:Release", "argocd").inputs
    assert (argocd["chart"], argocd["version"]) == ("argo-cd", versions.ARGO_CD)
    values = argocd["values"]
    assert values["dex"] == {"enabled": False} and values["redis-ha"] == {"enabled": False}


def test_one_project_per_cluster_class_fenced_to_its_clusters(prod):
    projects = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in prod.by_type(PROJECT)}
    assert set(projects) == {"platform", "production", "experiment"}
    assert projects["production"]["destinations"] == [{"name": "production", "namespace": "*"}]
    assert projects["experiment"]["destinations"] == [{"name": "exp-*", "namespace": "*"}]


def test_root_app_of_apps_follows_the_configured_repository(prod):
    root = prod.one(APP, "root-app")
    source = root.inputs["spec"]["source"]
    assert source == {"repoURL": "https://github.com/example/homelab-gitops.git", "targetRevision": "main",
                      "path": "clusters"}
    assert root.inputs["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert prod.one("kubernetes:helm.sh/v3:Release", "argocd").urn in root.dependencies
