"""``ProductionApps``: what runs inside the production cluster, and what it needs from outside it.

Argo CD on the infrastructure cluster delivers Home Assistant and Pi-hole to the production cluster as
Applications (pinned charts, project ``production``). The cluster-level pieces go in through Cluster API's
Helm add-on provider, like Cilium: the JuiceFS CSI driver (the same shared filesystem as the
infrastructure cluster, its own volume name, so the hourly off-site copy covers it), the Tailscale
operator with the production OAuth client (Home Assistant on the tailnet), and Velero backing the app
namespaces up daily to the off-site bucket under the ``production`` prefix. The Secrets those need are
written straight into the guest with a Kubernetes provider built from its kubeconfig, so no credential
ever sits in Helm values or in a HelmChartProxy.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.apps.catalog import App
from components.clusters.addons import helm_chart_proxy, helm_proxy_spec
from components.clusters.guest_cluster import GuestCluster
from components.config import BackupSettings
from components.platform import backups, exposure, metadata_tls, shared_fs
from components.platform.chart import PodSecurity, namespace
from components.platform.gitops import NAMESPACE as ARGOCD_NAMESPACE
from components.platform.metadata import metadata_url_at
from components.platform.storage import API_PORT

BACKUP_PREFIX = "production"
# The Velero schedule that backs production's apps up (the restore drill restores its newest backup).
APPS_SCHEDULE = "apps"
FILESYSTEM = "production"


# Production's own namespaces and their Pod Security levels: the JuiceFS CSI driver mounts FUSE on the host and
# Velero's node agent reads volumes through it; the Tailscale operator's pods pass baseline, not restricted.
GUEST_POD_SECURITY: dict[str, PodSecurity] = {
    shared_fs.NAMESPACE: "privileged", exposure.NAMESPACE: "baseline", backups.NAMESPACE: "privileged"}

@dataclass(frozen=True)
class ProductionSeams:
    """What production's apps take from the platform and the cloud layer."""

    object_store_address: pulumi.Output[str]
    metadata_address: pulumi.Output[str]
    # Signs production's own client certificate of the metadata engine.
    metadata_issuer: pulumi.Resource
    # Production's own user of the object store (its filesystem's prefix, nothing else).
    object_store_key: pulumi.Output[str]
    operator_credentials: pulumi.Output[dict[str, str]]
    velero_bucket: pulumi.Output[str]
    velero_credentials: pulumi.Output[dict[str, str]]
    backup_repository_password: pulumi.Output[str]
    region: str
    backups: BackupSettings
    shared_fs_encryption: shared_fs.Encryption | None = None


def application_spec(app: App, destination: str, project: str = "production") -> dict[str, Any]:
    return {
        "project": project,
        "source": {"repoURL": app.repo, "chart": app.chart, "targetRevision": app.version,
                   "helm": {"valuesObject": app.values}},
        "destination": {"name": destination, "namespace": app.namespace},
        "syncPolicy": {"automated": {"prune": True, "selfHeal": True}, "syncOptions": ["CreateNamespace=true"]},
    }


def guest_velero_values(bucket: str, region: str, read_only: bool = False) -> dict[str, Any]:
    """Velero inside a guest cluster on production's prefix of the off-site bucket, copying (or, for the
    restore drill, read-only, restoring) the apps' volumes file by file through its node agent."""
    values = backups.velero_values(file_system_backup=True)
    location = {"name": "offsite", "provider": "aws", "bucket": bucket, "prefix": BACKUP_PREFIX, "default": True,
                "config": {"region": region}}
    if read_only:
        location["accessMode"] = "ReadOnly"
    values["configuration"] = {"uploaderType": "kopia", "defaultVolumesToFsBackup": True,
                               "backupStorageLocation": [location]}
    values["backupsEnabled"] = True
    return values


def velero_values(bucket: str, region: str, settings: BackupSettings, namespaces: list[str]) -> dict[str, Any]:
    """Velero inside production: the apps' namespaces daily."""
    values = guest_velero_values(bucket, region)
    values["schedules"] = {APPS_SCHEDULE: {"schedule": settings.schedule, "template": {
        "ttl": backups.retention_ttl(settings), "includedNamespaces": namespaces, "storageLocation": "offsite"}}}
    return values


@dataclass(frozen=True)
class InsideProductionArgs:
    seams: ProductionSeams
    # The JuiceFS driver's HelmChartProxy: the storage classes wait for it.
    juicefs_driver: pulumi.Resource
    # Delivers the metadata engine's client certificate into the given guest namespace (from the infrastructure
    # cluster, so made by the outer component).
    deliver_metadata_client: Callable[[pulumi.Resource], list[pulumi.Resource]]


class InsideProduction(pulumi.ComponentResource):
    """The Namespaces, Secrets and storage classes written straight into the guest through its own provider."""

    # What the apps wait for.
    created: list[pulumi.Resource]

    def __init__(self, name: str, args: InsideProductionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:apps:InsideProduction", name, None, opts)
        seams, juicefs_driver, deliver_metadata_client = args.seams, args.juicefs_driver, args.deliver_metadata_client
        namespaces = {ns: namespace(ns, self, level) for ns, level in GUEST_POD_SECURITY.items()}
        # The client certificate, delivered from the infrastructure cluster into the driver's namespace, and the
        # CSI plugins' copy of it on each node.
        client_files = metadata_tls.client_files_sync(self, shared_fs.NAMESPACE, depends_on=[
            namespaces[shared_fs.NAMESPACE], *deliver_metadata_client(namespaces[shared_fs.NAMESPACE])])
        filesystem = shared_fs.Filesystem(
            FILESYSTEM,
            seams.object_store_address.apply(lambda ip: f"http://{ip}:{API_PORT}/{shared_fs.BUCKET}"),
            seams.metadata_address.apply(lambda ip: metadata_url_at(ip, FILESYSTEM)))
        volume = shared_fs.volume_secret(self, namespaces[shared_fs.NAMESPACE], filesystem,
                                         shared_fs.filesystem_user(FILESYSTEM), seams.object_store_key,
                                         seams.shared_fs_encryption)
        self.created = [
            *namespaces.values(), volume, shared_fs.sidecar_defaults(self, namespaces[shared_fs.NAMESPACE]),
            client_files,
            *shared_fs.storage_classes(self, juicefs_driver, depends_on=[volume, client_files],
                                       mount_options=shared_fs.NO_CACHE),
            exposure.oauth_secret(self, namespaces[exposure.NAMESPACE], seams.operator_credentials),
            backups.credentials_secret(self, namespaces[backups.NAMESPACE], seams.velero_credentials),
            backups.repository_secret(self, namespaces[backups.NAMESPACE], seams.backup_repository_password),
        ]
        self.register_outputs({})


@dataclass(frozen=True)
class ProductionAppsArgs:
    cluster: GuestCluster
    apps: tuple[App, ...]
    seams: ProductionSeams


class ProductionApps(pulumi.ComponentResource):
    """Production's apps as Argo CD Applications, its cluster add-ons, and the Secrets they read."""

    def __init__(self, name: str, args: ProductionAppsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:apps:ProductionApps", name, None, opts)
        cluster, apps, seams = args.cluster, list(args.apps), args.seams
        cluster_namespace = cluster.args.namespace
        guest = cluster.provider(parent=self)
        def proxy(chart: str, spec: pulumi.Input[dict[str, Any]]) -> k8s.apiextensions.CustomResource:
            return helm_chart_proxy(f"{name}-{chart}", cluster_namespace, f"{name}-{chart}", spec,
                                    pulumi.ResourceOptions(parent=self))

        juicefs = proxy(shared_fs.JUICEFS_CHART.chart, helm_proxy_spec(name, shared_fs.JUICEFS_CHART,
                                                                          shared_fs.juicefs_values()))
        proxy(exposure.TAILSCALE_CHART.chart, helm_proxy_spec(name, exposure.TAILSCALE_CHART,
                                                                 exposure.tailscale_values(name)))
        namespaces = [app.namespace for app in apps]
        proxy(backups.VELERO_CHART.chart, seams.velero_bucket.apply(lambda bucket: helm_proxy_spec(
            name, backups.VELERO_CHART, velero_values(bucket, seams.region, seams.backups, namespaces))))
        def deliver_metadata_client(guest_namespace: pulumi.Resource) -> list[pulumi.Resource]:
            return metadata_tls.guest_delivery(
                self, seams.metadata_issuer, name, cluster_namespace, shared_fs.filesystem_user(FILESYSTEM).name,
                shared_fs.NAMESPACE, depends_on=[cluster, guest_namespace])

        inside = InsideProduction(name, InsideProductionArgs(seams, juicefs, deliver_metadata_client),
                                  opts=pulumi.ResourceOptions(parent=self, providers={"kubernetes": guest}))
        applications(self, cluster, apps, depends_on=inside.created)
        self.register_outputs({})


def applications(parent: pulumi.Resource, cluster: GuestCluster, apps: list[App],
                 depends_on: list[pulumi.Resource]) -> list[k8s.apiextensions.CustomResource]:
    """One Argo CD Application per app, into ``cluster``, under its class's project."""
    name, cls = cluster.args.name, cluster.args.cluster_class
    return [
        k8s.apiextensions.CustomResource(
            f"{name}-app-{app.name}", api_version="argoproj.io/v1alpha1", kind="Application",
            metadata={"name": f"{cls.argocd_name(name)}-{app.name}", "namespace": ARGOCD_NAMESPACE},
            spec=application_spec(app, cls.argocd_name(name), project=cls.name),
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[cluster, *depends_on]),
        )
        for app in apps
    ]
