"""Which layers a stack's role builds, and what the stack exports.

``platform`` (prod): the bare-metal Talos cluster and everything on it. ``lab`` (lab and every ``exp-*``
stack): only what runs on prod's infrastructure cluster, reached through a StackReference to prod.
"""

from dataclasses import dataclass
from typing import Any

import pulumi

from components.apps import experiments as experiment_apps
from components.apps.catalog import PIHOLE_NAMESPACE, production_apps, tailnet_records
from components.apps.production import BACKUP_PREFIX, ProductionApps, ProductionAppsArgs, ProductionSeams
from components.apps.production import FILESYSTEM as PRODUCTION_FILESYSTEM
from components.apps.restore_drill import DrillSeams
from components.capacity import CapacityError
from components.cloud import (
    DnsRecords,
    DnsRecordsArgs,
    OffsiteBackup,
    OffsiteBackupArgs,
    Tailnet,
    TailnetArgs,
    VeleroPrefixes,
    read_prod,
)
from components.cluster_provider import cluster_provider
from components.clusters import experiments
from components.clusters.classes import EXPERIMENT_CLASS, PRODUCTION_CLASS
from components.clusters.cloud_provider import tenant_service_labels
from components.clusters.guest_cluster import GuestClusterArgs, infrastructure_demands
from components.clusters.image import guest_image_url
from components.clusters.production import NAME as PRODUCTION
from components.clusters.production import Production, ProductionArgs, production_args
from components.config import ConfigError, HomelabConfig, load_config
from components.metal import TalosCluster, TalosClusterArgs
from components.metal.rollout import rollout_order
from components.metal.transitions import inventory_issues, kubernetes_rolls, pace_issues, version_issues
from components.outputs import as_secret
from components.platform import (
    CloudSeams,
    Dns01,
    Platform,
    PlatformArgs,
    etcd_backup,
    plan_platform,
    talos_api,
    talos_upgrade,
)
from components.platform.alert_rules import ProductionVms
from components.platform.shared_fs import FILESYSTEM, Encryption
from components.platform.virtualization import guest_architecture

# The Kubernetes provider of the infrastructure cluster has this name in every stack.
INFRASTRUCTURE = "infrastructure"


def build_cloud(config: HomelabConfig, protect: bool) -> tuple[OffsiteBackup, DnsRecords, Tailnet]:
    assert config.cloud is not None  # validated for role platform
    assert config.cluster is not None
    etcd = config.platform.backups.etcd if config.platform else None
    prefixes = VeleroPrefixes(infrastructure=config.cluster.name, production=BACKUP_PREFIX,
                              etcd_snapshots=etcd_backup.prefix(config.cluster.name) if etcd else None)
    backup = OffsiteBackup("offsite", OffsiteBackupArgs(settings=config.cloud.backup, protect=protect,
                                                        velero_prefixes=prefixes,
                                                        etcd_snapshot_days=etcd.retention_days if etcd else 30))
    derived = tailnet_records(config.cloud.tailnet.dns_name) if config.production else ()
    dns = DnsRecords("dns", DnsRecordsArgs(settings=config.cloud.dns, stack=pulumi.get_stack(), derived=derived))
    tailnet = Tailnet("tailnet", TailnetArgs(settings=config.cloud.tailnet))
    pulumi.export("backup", {"region": backup.region, "endpoint": backup.endpoint,
                             "veleroBucket": backup.bucket_names["velero"],
                             "storageBucket": backup.bucket_names["storage"]})
    pulumi.export("veleroCredentials", backup.credentials["velero"])
    pulumi.export("productionVeleroCredentials", backup.credentials["velero-production"])
    pulumi.export("storageReplicationCredentials", backup.credentials["storage-replication"])
    pulumi.export("restoreDrillCredentials", backup.credentials["restore-drill"])
    if prefixes.etcd_snapshots:
        pulumi.export("etcdSnapshots", {"bucket": backup.bucket_names["velero"], "prefix": prefixes.etcd_snapshots})
    pulumi.export("dnsZone", config.cloud.dns.zone)
    pulumi.export("dnsZoneId", dns.zone_id)
    pulumi.export("tailnetTags", tailnet.tags)
    pulumi.export("tailscaleOperatorCredentials", tailnet.operator_credentials)
    return backup, dns, tailnet


def shared_fs_encryption(config: HomelabConfig) -> Encryption | None:
    """The filesystems' client-side encryption, if the stack sets it; a warning in the preview if not."""
    key, passphrase = config.secrets.shared_fs_encryption_key, config.secrets.shared_fs_encryption_passphrase
    if key is None or passphrase is None:
        # Named by stack: `labctl synth lab` runs prod's program too, and prints this on the way.
        pulumi.log.warn(f"warning (stack {pulumi.get_stack()}): the shared filesystems are not encrypted "
                        "client-side, so their chunks leave the house protected only by the bucket's SSE. Set "
                        "homelab:sharedFsEncryptionKey and homelab:sharedFsEncryptionPassphrase before the first "
                        "`pulumi up` (README, Storage).")
        return None
    return Encryption(key.output(), passphrase.output())


class RefusedChangeError(ConfigError, pulumi.RunError):
    """A ConfigError found while the program runs (in an apply): `pulumi up` prints a RunError's message alone,
    and labctl reads it as the ConfigError it is."""


@dataclass(frozen=True)
class LastDeployment:
    """What this stack's own last outputs decide about the update (components/metal/transitions.py)."""

    # Passes, or refuses what Talos and etcd cannot take in one update; a stack never deployed passes.
    guard: pulumi.Output[bool]
    # Whether the update moves the deployed Kubernetes version, which then rolls out node by node.
    kubernetes_rolls: pulumi.Output[bool]


def last_deployment(config: HomelabConfig) -> LastDeployment:
    own = pulumi.StackReference(f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}")
    outputs = pulumi.Output.unsecret(own.outputs)
    wanted = config.versions.model_dump(by_alias=True)

    def check(deployed: dict[str, Any]) -> bool:
        versions, nodes = deployed.get("versions"), deployed.get("nodes")
        issues = [*version_issues(versions, wanted), *inventory_issues(nodes, config.nodes),
                  *pace_issues(versions, wanted, nodes, config.nodes)]
        if issues:
            raise RefusedChangeError(pulumi.get_stack(), issues)
        return True

    return LastDeployment(guard=outputs.apply(check),
                          kubernetes_rolls=outputs.apply(lambda deployed: kubernetes_rolls(deployed.get("versions"),
                                                                                           wanted)))


def production_watch(production: GuestClusterArgs) -> ProductionVms:
    """What the platform's rules expect of production: its namespace and every VM of it running."""
    return ProductionVms(production.namespace, production.settings.control_planes + production.settings.workers)


def build_platform(config: HomelabConfig) -> None:
    assert config.cluster is not None and config.platform is not None and config.cloud is not None
    reservation = production_args(config.production, config.versions, "") if config.production else None
    platform_plan = plan_platform(config.cluster, config.nodes, config.platform, config.versions,
                                  infrastructure_demands(reservation) if reservation else ())
    # The platform stack holds the only copy of the machine secrets, the buckets and the local volumes: it
    # protects them whatever the stack is called.
    protect = True
    backup, dns, tailnet = build_cloud(config, protect)
    last = last_deployment(config)
    metal = TalosCluster(
        config.cluster.name,
        TalosClusterArgs(cluster=config.cluster, nodes=config.nodes, versions=config.versions, protect=protect,
                         talos_api_access=talos_api.machine_access(talos_api.grants(config.platform)),
                         guard=last.guard, kubernetes_rolls=last.kubernetes_rolls),
    )
    provider = cluster_provider(INFRASTRUCTURE, config.cluster.name, metal.kubeconfig)
    dns01 = None
    if dns.cert_manager_token is not None and config.cloud.dns.acme_email:
        dns01 = Dns01(email=config.cloud.dns.acme_email, cloudflare_token=dns.cert_manager_token)
    seams = CloudSeams(velero_bucket=backup.bucket_names["velero"], region=backup.region,
                       velero_credentials=backup.credentials["velero"],
                       storage_bucket=backup.bucket_names["storage"],
                       replication_credentials=backup.credentials["storage-replication"],
                       operator_credentials=tailnet.operator_credentials.apply(lambda c: c[INFRASTRUCTURE]),
                       dns01=dns01, etcd_backup_credentials=backup.credentials.get("etcd-backup"))
    repository_password = config.secrets.required("backup_repository_password").output()
    gitops_credential = config.secrets.gitops_repo_credential
    alerting_credential = config.secrets.alerting_credential
    encryption = shared_fs_encryption(config)
    # The lab's restore drills read production's repository with it.
    pulumi.export("backupRepositoryPassword", as_secret(repository_password))
    pinned: dict[str, dict[str, str]] = {}
    if config.production is not None and config.production.dns_address:
        pinned[str(config.production.dns_address)] = tenant_service_labels(PRODUCTION, PIHOLE_NAMESPACE)
    platform = Platform(f"{config.cluster.name}-platform",
                        PlatformArgs(plan=platform_plan, settings=config.platform, cloud=seams, pinned_addresses=pinned,
                                     endpoint=metal.endpoint,
                                     storage_root_password=config.secrets.required("storage_root_password").output(),
                                     grafana_admin_password=config.secrets.required("grafana_admin_password").output(),
                                     backup_repository_password=repository_password,
                                     filesystems=(FILESYSTEM, *((PRODUCTION_FILESYSTEM,) if config.production else ())),
                                     protect=protect,
                                     app_repositories=tuple(app.repo for app in production_apps(None)),
                                     gitops_credential=gitops_credential.output() if gitops_credential else None,
                                     shared_fs_encryption=encryption,
                                     alerting_credential=alerting_credential.output() if alerting_credential else None,
                                     production=production_watch(reservation) if reservation else None,
                                     talos_upgrades=talos_upgrade.UpgradeTargets(config.versions.talos, config.nodes,
                                                                                 metal.installer_images)),
                        opts=pulumi.ResourceOptions(providers={"kubernetes": provider}))
    # One guest image for every guest cluster, prod's and the lab's: the Talos version prod pins.
    image = guest_image_url("guest-vm", config.versions.talos, guest_architecture(config.nodes))
    if config.production is not None:
        production = Production(PRODUCTION, ProductionArgs(production_args(
            config.production, config.versions, image, after=platform.cluster_api_providers)),
            opts=pulumi.ResourceOptions(providers={"kubernetes": provider}, depends_on=[platform]))
        dns_address = str(config.production.dns_address) if config.production.dns_address else None
        production_seams = ProductionSeams(
            object_store_address=platform.guest_storage.object_store_address,
            metadata_address=platform.guest_storage.metadata_address,
            metadata_issuer=platform.guest_storage.metadata_issuer,
            object_store_key=platform.guest_storage.filesystem_keys[PRODUCTION_FILESYSTEM],
            operator_credentials=tailnet.operator_credentials.apply(lambda c: c[PRODUCTION]),
            velero_bucket=backup.bucket_names["velero"], velero_credentials=backup.credentials["velero-production"],
            backup_repository_password=repository_password, region=backup.region, backups=config.platform.backups,
            shared_fs_encryption=encryption)
        ProductionApps(PRODUCTION, ProductionAppsArgs(production.cluster, tuple(production_apps(dns_address)),
                                                          production_seams),
                       opts=pulumi.ResourceOptions(providers={"kubernetes": provider}, parent=production))
        pulumi.export("productionKubeconfig", production.cluster.kubeconfig)
        pulumi.export("vmOverhead", {PRODUCTION: PRODUCTION_CLASS.vm_overhead(config.production.size)})
    pulumi.export("capacity", platform.capacity)
    # What experiments may use; the lab reads this small value rather than the whole budget.
    pulumi.export("freeCapacity", platform.capacity["total"]["free"])
    pulumi.export("guestImage", image)
    pulumi.export("infrastructureClusterName", config.cluster.name)
    pulumi.export("lanSubnet", str(config.cluster.subnet))
    pulumi.export("kubernetesEndpoint", metal.endpoint)
    pulumi.export("kubeconfig", metal.kubeconfig)
    # The lab's and the experiments' own credential (components/platform/lab_access.py), never the admin one.
    pulumi.export("labKubeconfig", platform.lab_kubeconfig)
    pulumi.export("talosconfig", metal.talosconfig)
    # A first boot: write each board's disk image to its SSD (README, First boot).
    pulumi.export("bootImages", metal.boot_images)
    pulumi.export("nodes", {node.name: {"ip": str(node.ip), "role": node.role, "board": node.board,
                                        "zone": node.zone} for node in config.nodes})
    pulumi.export("versions", config.versions.model_dump(by_alias=True))
    # Where a version bump goes, in order; `kubectl -n talos-upgrade get jobs` follows a Talos upgrade.
    order = rollout_order(config.nodes)
    pulumi.export("upgrades", {"order": [node.name for node in order],
                               "talosJobs": [f"{talos_upgrade.NAMESPACE}/{talos_upgrade.job_name(node)}"
                                             for node in order]})


def build_lab(config: HomelabConfig) -> None:
    prod = read_prod(config.prod_stack)
    cluster_name = prod.get("infrastructureClusterName")
    provider = cluster_provider(INFRASTRUCTURE, cluster_name, as_secret(prod.get("labKubeconfig")),
                                mutable_secrets=True)
    asked = experiments.quotas(config.experiments, config.versions)
    if config.experiments:
        backup = prod.get("backup")
        drill = DrillSeams(velero_bucket=backup.apply(lambda b: str(b["veleroBucket"])),
                           region=backup.apply(lambda b: str(b["region"])),
                           restore_credentials=as_secret(prod.get("restoreDrillCredentials")),
                           backup_repository_password=as_secret(prod.get("backupRepositoryPassword")))
        built = experiments.build(config.experiments, config.versions, asked, prod.get("freeCapacity"),
                                  prod.get("guestImage"), prod.get("lanSubnet"),
                                  opts=pulumi.ResourceOptions(providers={"kubernetes": provider}))
        pulumi.export("experimentKubeconfigs", {e.cluster.args.name: e.cluster.kubeconfig for e in built})
        # Then the apps layer fills each one, as it does production.
        restore_drills = {e.cluster.args.name: experiment_apps.install(e, settings, drill)
                          for e, settings in zip(built, config.experiments, strict=True)}
        drills = {name: found.result for name, found in restore_drills.items() if found is not None}
        if drills:
            pulumi.export("restoreDrill", drills)
    pulumi.export("infrastructureClusterName", cluster_name)
    pulumi.export("experiments", {e.name: experiments.namespace_of(e) for e in config.experiments})
    pulumi.export("experimentQuotas", {name: {"cpu_m": q.cpu_m, "memory_mib": q.memory_mib}
                                       for name, q in asked.items()})
    pulumi.export("vmOverhead", {e.name: EXPERIMENT_CLASS.vm_overhead(e.size) for e in config.experiments})


BUILDERS = {"platform": build_platform, "lab": build_lab}


def main() -> None:
    """The program `pulumi up` runs: validate config and capacity first, then build the stack's role."""
    try:
        config = load_config()
        BUILDERS[config.role](config)
    except (ConfigError, CapacityError, experiments.ExperimentCapacityError) as error:
        raise pulumi.RunError(str(error)) from error
