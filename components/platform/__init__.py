"""``Platform``: the infrastructure cluster's services, installed in the order a fresh cluster needs.

Needs the plan (components/platform/plan.py) and the infrastructure cluster's Kubernetes provider, passed
as ``providers={"kubernetes": ...}`` so every child targets that cluster. Cilium goes first: nothing with
pods can start before the CNI, so every chart and custom resource depends on it. Exports the capacity
budget.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.config import PlatformSettings
from components.metal.patches import storage_mount_path
from components.platform import (
    admission,
    alert_model,
    alert_rules,
    backups,
    cluster_api,
    dashboards,
    etcd_backup,
    exposure,
    gitops,
    lab_access,
    local_volumes,
    metadata,
    metadata_tls,
    metrics_store,
    monitoring,
    notifications,
    object_store_users,
    replication,
    shared_fs,
    storage,
    talos_api,
    talos_upgrade,
    telemetry,
    virtualization,
)
from components.platform.alert_rules import ProductionVms
from components.platform.certificates import Dns01, issuers
from components.platform.chart import PodSecurity, install, namespace
from components.platform.network import load_balancer_objects
from components.platform.plan import PlatformPlan, plan_platform
from components.platform.priority import priority_classes
from components.quantities import disk_mib

__all__ = ["CloudSeams", "Dns01", "GuestStorage", "Platform", "PlatformArgs", "PlatformPlan", "plan_platform"]


# Each platform namespace's Pod Security level where it is not restricted, and why. The upstream tier creates
# every namespace with its label and sends it every rendered pod, so a level too strict fails there.
POD_SECURITY: dict[str, PodSecurity] = {
    # The CSI node plugin and the mount pods mount FUSE filesystems into the host's kubelet directory.
    shared_fs.NAMESPACE: "privileged",
    # The OTel agent reads the hosts' metrics and pod logs through hostPath volumes, alone in its namespace.
    telemetry.AGENT_NAMESPACE: "privileged",
    # MinIO's and the metadata etcd's pods hand data written as root before to their non-root user with a root
    # init container holding CHOWN alone (workloads.ownership_container); every other container is restricted.
    storage.NAMESPACE: "baseline",
    # The Velero chart's pods and the Tailscale operator's do not drop capabilities or set a seccomp profile.
    backups.NAMESPACE: "baseline",
    exposure.NAMESPACE: "baseline",
    # The Cluster API operator chart's manager sets no seccomp profile.
    cluster_api.OPERATOR_NAMESPACE: "baseline",
}

@dataclass(frozen=True)
class CloudSeams:
    """What the platform takes from the cloud layer."""

    velero_bucket: pulumi.Output[str]
    region: str
    velero_credentials: pulumi.Output[dict[str, str]]
    storage_bucket: pulumi.Output[str]
    replication_credentials: pulumi.Output[dict[str, str]]
    operator_credentials: pulumi.Output[dict[str, str]]
    dns01: Dns01 | None = None
    # The add-only key of the etcd snapshots' prefix of Velero's bucket.
    etcd_backup_credentials: pulumi.Output[dict[str, str]] | None = None


@dataclass(frozen=True)
class GuestStorage:
    """Where guest clusters reach the object store and the metadata engine: Service addresses, not names,
    because a guest resolves names in its own cluster domain; and each guest filesystem's object-store key."""

    object_store_address: pulumi.Output[str]
    metadata_address: pulumi.Output[str]
    filesystem_keys: Mapping[str, pulumi.Output[str]]
    # What signs each guest's own client certificate of the metadata engine.
    metadata_issuer: pulumi.Resource


@dataclass(frozen=True)
class PlatformArgs:
    plan: PlatformPlan
    settings: PlatformSettings
    cloud: CloudSeams
    # Where the lab reaches this cluster's API (its credential's kubeconfig names it).
    endpoint: str
    storage_root_password: pulumi.Output[str]
    grafana_admin_password: pulumi.Output[str]
    backup_repository_password: pulumi.Output[str]
    # The JuiceFS filesystems on the metadata engine, each copied off-site with its own metadata dump.
    filesystems: tuple[str, ...]
    # Local volumes survive a `pulumi destroy` in prod: they hold the only copy of the stores' data.
    protect: bool
    # LoadBalancer addresses the program pins → the labels of the one infrastructure Service that may have each.
    pinned_addresses: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # The chart repositories the guests' projects may install apps from (the app catalog's).
    app_repositories: tuple[str, ...] = ()
    gitops_credential: pulumi.Output[str] | None = None
    shared_fs_encryption: shared_fs.Encryption | None = None
    # The alert contact point's credential, if it has one.
    alerting_credential: pulumi.Output[str] | None = None
    # The production cluster the rules and dashboards watch, if the stack has one.
    production: ProductionVms | None = None
    # What the Talos upgrade Jobs roll out (components/platform/talos_upgrade.py).
    talos_upgrades: talos_upgrade.UpgradeTargets | None = None


class Platform(pulumi.ComponentResource):
    """Every platform service of the infrastructure cluster."""

    # The CNI every pod waits for, the Cluster API providers every guest's objects wait for, the lab's own
    # credential, the capacity budget, and where guests reach the storage layer.
    cni: k8s.helm.v3.Release
    cluster_api_providers: list[k8s.apiextensions.CustomResource]
    lab_kubeconfig: pulumi.Output[str]
    capacity: dict[str, Any]
    guest_storage: GuestStorage

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:platform:Platform", name, None, opts)
        self._plan = args.plan
        self._namespaces: dict[str, k8s.core.v1.Namespace] = {}
        self.cni = install(args.plan.charts["cilium"].spec, args.plan.charts["cilium"].values, parent=self)
        priority_classes(self, depends_on=[self.cni])
        admission.service_address_policy(args.plan.cluster, self, depends_on=[self.cni])
        load_balancer_objects(args.plan.cluster, args.plan.lan_links, self, depends_on=[self.cni],
                              pinned=args.pinned_addresses)
        self._users = [*monitoring.STORE_USERS, *map(shared_fs.filesystem_user, args.filesystems),
                       replication.READER]
        self._keys = {user.name: object_store_users.consumer_key(args.storage_root_password, user)
                      for user in self._users}
        cert_manager = self._chart("cert-manager")
        self_signed, *_ = issuers(self, cert_manager, args.cloud.dns01)
        self._metadata_issuer = metadata_tls.certificate_authority(self, depends_on=[cert_manager, self_signed])
        object_store, storage_classes = self._storage(args)
        self._monitoring(args, object_store)
        # The operator manifests bring their own (privileged) namespaces.
        kubevirt = virtualization.install(self, args.plan.kubevirt, args.plan.cdi, depends_on=[self.cni])
        virtualization.vm_disk_profile(self, depends_on=[*kubevirt, *storage_classes])
        self.cluster_api_providers = [resource for resource in cluster_api.install(
            self, self._chart("capi-operator", depends_on=[cert_manager]))
            if isinstance(resource, k8s.apiextensions.CustomResource)]
        argocd = self._chart("argocd")
        gitops.projects(args.settings.gitops, self, argocd, args.app_repositories, args.gitops_credential)
        self.lab_kubeconfig = lab_access.install(self, args.endpoint, args.plan.cluster.name,
                                                 depends_on=[self.cni, self._namespace(gitops.NAMESPACE)])
        tailscale_secret = exposure.oauth_secret(self, self._namespace(exposure.NAMESPACE),
                                                 args.cloud.operator_credentials)
        self._chart("tailscale-operator", depends_on=[tailscale_secret])
        self._backups(args)
        self._talos_api(args)
        self.capacity = args.plan.budget.as_json()
        self.register_outputs({"capacity": self.capacity})

    def _storage(self, args: PlatformArgs) -> tuple[list[pulumi.Resource], list[k8s.storage.v1.StorageClass]]:
        """Local volumes → object store and metadata engine → JuiceFS and its storage classes."""
        plan = args.plan
        mount_path = storage_mount_path(plan.cluster)
        namespace = self._namespace(storage.NAMESPACE)
        local_class = local_volumes.storage_class(self, depends_on=[self.cni])
        drives = local_volumes.volumes(self, storage.DRIVES, plan.nodes, mount_path, local_class, args.protect)
        object_store, store_service = storage.install(self, namespace, list(drives), plan.object_store,
                                                      args.storage_root_password)
        object_store.append(object_store_users.install(self, storage.object_store_endpoint(), self._users,
                                                       args.storage_root_password, depends_on=list(object_store)))
        members = local_volumes.volumes(self, metadata.DATA, plan.nodes, mount_path, local_class, args.protect)
        engine, engine_client = metadata.install(self, namespace, list(members), plan.metadata_engine,
                                                 self._metadata_issuer)
        self.guest_storage = GuestStorage(
            object_store_address=store_service.spec.cluster_ip, metadata_address=engine_client.spec.cluster_ip,
            filesystem_keys={fs: self._keys[shared_fs.filesystem_user(fs).name] for fs in args.filesystems
                             if fs != shared_fs.FILESYSTEM},
            metadata_issuer=self._metadata_issuer)
        fs_namespace = self._namespace(shared_fs.NAMESPACE)
        user = shared_fs.filesystem_user(shared_fs.FILESYSTEM)
        client_files = metadata_tls.client_files_sync(self, shared_fs.NAMESPACE, depends_on=[
            fs_namespace, metadata_tls.client_certificate(self, self._metadata_issuer, shared_fs.NAMESPACE, user.name,
                                                          depends_on=[fs_namespace])])
        secret = shared_fs.volume_secret(self, fs_namespace,
                                         shared_fs.infrastructure_filesystem(storage.object_store_endpoint()),
                                         user, self._keys[user.name], args.shared_fs_encryption)
        defaults = shared_fs.sidecar_defaults(self, fs_namespace)
        driver = self._chart(shared_fs.JUICEFS_CHART.release, depends_on=[secret, defaults])
        cache = shared_fs.node_cache(f"{mount_path}/juicefs-cache",
                                     disk_mib(plan.cluster.storage_volume.juicefs_cache_size))
        classes = shared_fs.storage_classes(self, driver, depends_on=[secret, engine, client_files, *object_store],
                                            mount_options=cache)
        replication_client = metadata_tls.client_certificate(self, self._metadata_issuer, storage.NAMESPACE,
                                                             replication.READER.name, depends_on=[namespace])
        replication.install(self, namespace, [*object_store, replication_client], storage.object_store_endpoint(),
                            args.cloud.storage_bucket, args.cloud.region, args.cloud.replication_credentials,
                            args.filesystems, self._keys[replication.READER.name], args.shared_fs_encryption)
        return object_store, classes

    def _monitoring(self, args: PlatformArgs, object_store: list[pulumi.Resource]) -> None:
        """Buckets and credentials → the stores → the collectors that feed them, and Grafana."""
        store = storage.object_store_endpoint()
        namespace = self._namespace(telemetry.NAMESPACE)
        secrets = monitoring.secrets(self, namespace, self._keys, args.grafana_admin_password)
        ready = [*object_store, *secrets]
        rules = alert_model.rule_file_text(alert_rules.alert_rules(args.settings.backups, backups.PLATFORM_SCHEDULE,
                                                                   args.production))
        boards = dashboards.dashboards(args.plan.budget, args.production.namespace if args.production else None)
        dashboard_files = monitoring.dashboards_config_map(self, boards, depends_on=[namespace])
        alertmanager = notifications.config_secret(self, telemetry.NAMESPACE, args.settings.alerting.contact_point,
                                                   args.alerting_credential, depends_on=[namespace])
        stores = [metrics_store.install(self, telemetry.NAMESPACE, store, args.plan.metrics_store, rules,
                                        depends_on=[self.cni, namespace, alertmanager, *ready]),
                  self._chart(monitoring.LOKI_CHART.release, depends_on=ready),
                  self._chart(monitoring.TEMPO_CHART.release, depends_on=ready)]
        gateway = self._chart(telemetry.GATEWAY, depends_on=stores)
        self._chart(telemetry.AGENT, depends_on=[gateway])
        self._chart(monitoring.GRAFANA_CHART.release, depends_on=[*secrets, *stores, dashboard_files])

    def _backups(self, args: PlatformArgs) -> None:
        namespace = self._namespace(backups.NAMESPACE)
        secret = backups.credentials_secret(self, namespace, args.cloud.velero_credentials)
        repository = backups.repository_secret(self, namespace, args.backup_repository_password)
        velero = self._chart("velero", depends_on=[secret, repository])
        platform_namespaces = sorted({*self._namespaces, virtualization.KUBEVIRT_NAMESPACE,
                                      virtualization.CDI_NAMESPACE, *(p.namespace for p in cluster_api.PROVIDERS)})
        backups.location_and_schedules(self, velero, args.settings.backups, args.plan.cluster.name,
                                       args.cloud.velero_bucket, args.cloud.region, platform_namespaces)
        etcd = args.settings.backups.etcd
        if etcd is not None and args.cloud.etcd_backup_credentials is not None:
            etcd_backup.install(self, self._namespace(etcd_backup.NAMESPACE), etcd, args.cloud.velero_bucket,
                                args.cloud.region, args.cloud.etcd_backup_credentials, args.plan.cluster.name)

    def _talos_api(self, args: PlatformArgs) -> None:
        """Each granted namespace held to its own Talos roles, and the rolling Talos upgrade."""
        talos_api.role_policy(self, talos_api.grants(args.settings), depends_on=[self.cni])
        if args.talos_upgrades is not None:
            talos_upgrade.install(self, self._namespace(talos_upgrade.NAMESPACE), args.talos_upgrades)

    def _chart(self, release: str, depends_on: Sequence[pulumi.Resource] = ()) -> k8s.helm.v3.Release:
        """Install a planned chart into its own namespace, after the CNI."""
        chart = self._plan.charts[release]
        return install(chart.spec, chart.values, parent=self,
                       depends_on=[self.cni, self._namespace(chart.spec.namespace),
                                   *depends_on])

    def _namespace(self, name: str) -> k8s.core.v1.Namespace:
        if name not in self._namespaces:
            self._namespaces[name] = namespace(name, self, POD_SECURITY.get(name, "restricted"), [self.cni])
        return self._namespaces[name]
