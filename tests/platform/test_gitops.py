"""Argo CD: pinned chart, one AppProject per cluster class, the root app following the user's repository."""

from components import versions
from tests.conftest import redacted

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


REPO = "https://github.com/example/homelab-gitops.git"


def test_each_project_takes_only_the_users_repository_and_the_catalogs_charts(prod):
    from components.apps.catalog import production_apps

    projects = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in prod.by_type(PROJECT)}
    charts = sorted({app.repo for app in production_apps(None)})
    assert projects["platform"]["sourceRepos"] == [REPO]
    assert projects["production"]["sourceRepos"] == projects["experiment"]["sourceRepos"] == [REPO, *charts]
    assert all("*" not in spec["sourceRepos"] for spec in projects.values())
    # Applications of production come from the catalog's repositories only, which its project admits.
    for app in prod.by_type(APP):
        spec = app.inputs["spec"]
        assert spec["source"]["repoURL"] in projects[spec["project"]]["sourceRepos"]


def test_projects_create_no_cluster_scoped_kind_but_namespaces_unless_listed(prod, build):
    from labctl.synth import read_stack_file

    projects = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in prod.by_type(PROJECT)}
    assert {name: spec["clusterResourceWhitelist"] for name, spec in projects.items()} == {
        name: [{"group": "", "kind": "Namespace"}] for name in ("platform", "production", "experiment")}
    platform = read_stack_file("prod")["homelab:platform"]
    gitops = {**platform["gitops"], "clusterKinds": ["rbac.authorization.k8s.io/ClusterRole", "/PersistentVolume"]}
    wider = build("prod", {"homelab:platform": {**platform, "gitops": gitops}})
    spec = wider.one(PROJECT, "project-platform").inputs["spec"]
    assert spec["clusterResourceWhitelist"] == [{"group": "", "kind": "Namespace"},
                                                {"group": "rbac.authorization.k8s.io", "kind": "ClusterRole"},
                                                {"group": "", "kind": "PersistentVolume"}]
    assert wider.one(PROJECT, "project-production").inputs["spec"]["clusterResourceWhitelist"] == [
        {"group": "", "kind": "Namespace"}]


def test_a_private_repository_gets_its_credential_as_an_argo_cd_repository_secret(prod, build):
    assert not [s for s in prod.by_type("kubernetes:core/v1:Secret") if s.name == "gitops-repository"]
    private = build("prod", {"homelab:gitopsRepoCredential": {"secure": "v1:token"}})
    secret = private.one("kubernetes:core/v1:Secret", "gitops-repository")
    assert secret.inputs["metadata"]["labels"] == {"argocd.argoproj.io/secret-type": "repository"}
    assert secret.inputs["metadata"]["namespace"] == "argocd"
    # The engine holds the whole map as secret once one value in it is; what it holds is the entry below.
    assert set(secret.inputs["stringData"]) == {"type", "url", "username", "password"}
    assert redacted(secret.inputs["stringData"])


def test_an_https_repository_takes_the_credential_as_a_password():
    from components.config import GitOpsSettings
    from components.platform.gitops import repository_credential

    entry = repository_credential(GitOpsSettings(repo_url=REPO, username="me"), "TOKEN")
    assert entry == {"type": "git", "url": REPO, "username": "me", "password": "TOKEN"}


def test_an_ssh_repository_takes_the_credential_as_its_private_key():
    from components.config import GitOpsSettings
    from components.platform.gitops import repository_credential

    entry = repository_credential(GitOpsSettings(repo_url="git@github.com:me/homelab.git"), "KEY")
    assert entry == {"type": "git", "url": "git@github.com:me/homelab.git", "sshPrivateKey": "KEY"}
