"""The shared filesystem: JuiceFS CSI on the object store and the etcd metadata engine, and its classes.

Every PersistentVolume the homelab's apps use lives here: data chunks in the erasure-coded object store,
metadata in the three-member etcd, so a volume outlives any one node and can be mounted read-write by
many pods at once. Talos' root filesystem is read-only, so the driver runs in immutable mode
(juicefs-csi-driver #1444). Two classes: ``juicefs`` (the default, reclaimed with its claim) and
``juicefs-shared`` (for ReadWriteMany data meant to outlive its claim). JuiceFS has no block mode: VM disks
use Filesystem-mode claims (KubeVirt stores a disk image on them). Both allow expansion, which the CSI
controller performs with the volume's secret (ControllerExpandVolume sets the quota with it), so the classes
name it for that stage too.

Each mount caches chunks on its node. JuiceFS's defaults (``/var/jfsCache``, 100G, free-space ratio 0.1;
cmd/flags.go) would put that on Talos' EPHEMERAL volume, beside etcd and the images, so on the infrastructure
cluster the cache lives on the storage volume, capped per mount (``storageVolume.juicefsCacheSize``) and
giving way while less than a fifth of the volume is free. Inside guests the mounts cache nothing: their disk
is itself a JuiceFS volume of the infrastructure cluster, cached there.
"""

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.capacity import Workload
from components.labels import OBJECT_STORE_USER_LABEL
from components.platform import metadata_tls
from components.platform.chart import ChartSpec
from components.platform.metadata import metadata_url
from components.platform.object_store_users import Consumer
from components.platform.storage import ObjectStore
from components.quantities import resources
from components.versions import JUICEFS_CSI, JUICEFS_MOUNT_IMAGE

NAMESPACE = "juicefs"
PROVISIONER = "csi.juicefs.com"
VOLUME_SECRET = "juicefs-volume"
FILESYSTEM = "homelab"
BUCKET = "juicefs"
DEFAULT_CLASS, SHARED_CLASS = "juicefs", "juicefs-shared"
# Each mounted volume runs a mount pod on its node: small, but counted per mount, not per node.
MOUNT_POD = resources("50m", "256Mi", memory_limit="1Gi")
# The chart's CSI sidecars (node-driver-registrar and liveness-probe on each node, csi-resizer and liveness-probe
# beside the controller: templates/daemonset.yaml and controller.yaml at 0.23.1) have no resources and no value
# to set them. The namespace's LimitRange gives every container without resources this, and the budget counts it
# (small Go programs that idle at about 10 Mi).
SIDECAR = resources("10m", "16Mi", memory_limit="48Mi")
SIDECARS_PER_POD = 2
# The chart merges its own 1-CPU limit into the plugin's resources; Pulumi's Python SDK drops a null that would
# delete it (pulumi/pulumi#12178), so the program states the limit as its own choice: one Pi core.
PLUGIN_CPU_LIMIT = "1"

JUICEFS_CHART = ChartSpec(
    release="juicefs-csi-driver", chart="juicefs-csi-driver", repo="https://juicedata.github.io/charts/",
    version=JUICEFS_CSI, namespace=NAMESPACE,
    workloads=(
        Workload("controller", ("controller", "resources"), replicas=("controller", "replicas")),
        Workload("node", ("node", "resources"), per_node=True),
        Workload("controller-sidecars", (), replicas=("controller", "replicas"), fixed=SIDECAR,
                 containers=SIDECARS_PER_POD),
        Workload("node-sidecars", (), per_node=True, fixed=SIDECAR, containers=SIDECARS_PER_POD),
    ),
)


def juicefs_values() -> dict[str, Any]:
    return {
        "immutable": True,
        "kubeletDir": "/var/lib/kubelet",
        "controller": {"replicas": 1, "resources": resources("20m", "96Mi", cpu_limit=PLUGIN_CPU_LIMIT,
                                                             memory_limit="256Mi")},
        "node": {"resources": resources("20m", "64Mi", cpu_limit=PLUGIN_CPU_LIMIT, memory_limit="256Mi")},
        "dashboard": {"enabled": False},
        "defaultMountImage": {"ce": JUICEFS_MOUNT_IMAGE},
        # The classes are declared by the program (below), not by the chart.
        "storageClasses": [],
    }


@dataclass(frozen=True)
class Filesystem:
    """One JuiceFS filesystem: its name, where its data goes and where its metadata lives."""

    name: pulumi.Input[str]
    bucket_url: pulumi.Input[str]
    metaurl: pulumi.Input[str]


def infrastructure_filesystem(store: ObjectStore) -> Filesystem:
    return Filesystem(FILESYSTEM, f"{store.endpoint}/{BUCKET}", metadata_url(FILESYSTEM))


@dataclass(frozen=True)
class Encryption:
    """JuiceFS's client-side encryption: the passphrase-protected RSA key (PEM) and its passphrase."""

    key: pulumi.Output[str]
    passphrase: pulumi.Output[str]


# The variable JuiceFS reads the key's passphrase from (cmd/format.go and pkg/object at v1.3.1).
PASSPHRASE_ENV = "JFS_RSA_PASSPHRASE"


def encryption_settings(encryption: Encryption | None) -> dict[str, pulumi.Input[str]]:
    """The volume secret's encryption fields as the CSI driver reads them (pkg/config/setting.go at v0.27.0):
    ``encrypt_rsa_key`` is mounted into the mount pod for ``juicefs format``, and ``envs`` become its
    environment, from the Secret the driver makes for each mount."""
    if encryption is None:
        return {}
    return {"encrypt_rsa_key": encryption.key,
            "envs": encryption.passphrase.apply(lambda passphrase: json.dumps({PASSPHRASE_ENV: passphrase}))}


def filesystem_user(filesystem: str) -> Consumer:
    """The object store's user for one filesystem: JuiceFS keeps a filesystem's objects, its format test's
    included, under ``<name>/`` of the bucket (cmd/format.go at v1.3.1 wraps the store in that prefix)."""
    return Consumer(f"juicefs-{filesystem}", BUCKET, prefix=filesystem)


def volume_secret(parent: pulumi.Resource, namespace: pulumi.Resource, filesystem: Filesystem,
                  user: Consumer, key: pulumi.Output[str], encryption: Encryption | None) -> k8s.core.v1.Secret:
    """What ``juicefs format`` and every mount need: the metadata URL and client certificate, the object
    store's bucket, the filesystem's own user of it, and the encryption key if there is one."""
    return k8s.core.v1.Secret(
        VOLUME_SECRET, metadata=k8s.meta.v1.ObjectMetaArgs(name=VOLUME_SECRET, namespace=NAMESPACE,
                                                           labels={OBJECT_STORE_USER_LABEL: user.name}),
        type="Opaque",
        string_data={"name": filesystem.name, "metaurl": filesystem.metaurl, "storage": "minio",
                     "bucket": filesystem.bucket_url, "access-key": user.name, "secret-key": key,
                     # Each mount pod mounts the metadata engine's client certificate where the metaurl names it.
                     "configs": json.dumps({metadata_tls.CLIENT_SECRET: metadata_tls.CLIENT_DIR}),
                     **encryption_settings(encryption)},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[namespace]),
    )


def sidecar_defaults(parent: pulumi.Resource, namespace: pulumi.Resource) -> k8s.core.v1.LimitRange:
    """The LimitRange that sizes every container of the namespace the chart leaves without resources."""
    return k8s.core.v1.LimitRange(
        "juicefs-sidecar-defaults",
        metadata=k8s.meta.v1.ObjectMetaArgs(name="sidecar-defaults", namespace=NAMESPACE),
        spec=k8s.core.v1.LimitRangeSpecArgs(limits=[k8s.core.v1.LimitRangeItemArgs(
            type="Container", default_request=SIDECAR["requests"], default=SIDECAR["limits"])]),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[namespace]),
    )


# JuiceFS stops caching while a smaller share of the cache's disk than this is free.
CACHE_FREE_SPACE_RATIO = 0.2
# Guests' mounts keep no disk cache (see above).
NO_CACHE = ("cache-size=0",)


def node_cache(directory: str, size_mib: int) -> tuple[str, ...]:
    """Mount options for a cache of at most ``size_mib`` per mount in ``directory`` on the node."""
    return (f"cache-dir={directory}", f"cache-size={size_mib}", f"free-space-ratio={CACHE_FREE_SPACE_RATIO}")


def _parameters() -> dict[str, str]:
    secret = {f"csi.storage.k8s.io/{stage}-secret-{field}": value
              for stage in ("provisioner", "node-publish", "controller-expand")
              for field, value in (("name", VOLUME_SECRET), ("namespace", NAMESPACE))}
    mount = {"juicefs/mount-cpu-request": MOUNT_POD["requests"]["cpu"],
             "juicefs/mount-memory-request": MOUNT_POD["requests"]["memory"],
             "juicefs/mount-memory-limit": MOUNT_POD["limits"]["memory"]}
    return {**secret, **mount}


def storage_classes(parent: pulumi.Resource, driver: pulumi.Resource, depends_on: list[pulumi.Resource],
                    mount_options: tuple[str, ...]) -> list[k8s.storage.v1.StorageClass]:
    # The default class is also KubeVirt's and CDI's default for VM disks (see virtualization.vm_disk_profile).
    classes = {DEFAULT_CLASS: ("Delete", {"storageclass.kubernetes.io/is-default-class": "true",
                                          "storageclass.kubevirt.io/is-default-virt-class": "true"}),
               SHARED_CLASS: ("Retain", {})}
    return [
        k8s.storage.v1.StorageClass(
            name, metadata=k8s.meta.v1.ObjectMetaArgs(name=name, annotations=annotations),
            provisioner=PROVISIONER, parameters=_parameters(), reclaim_policy=reclaim,
            mount_options=list(mount_options), allow_volume_expansion=True, volume_binding_mode="Immediate",
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[driver, *depends_on]),
        )
        for name, (reclaim, annotations) in classes.items()
    ]
