"""Backups: Velero on the infrastructure cluster, writing to the off-site bucket from the cloud layer.

Velero backs up what runs in its own cluster: the platform's namespaces and the guest clusters' VMs and
disks (KubeVirt's Velero plugin keeps a VM, its DataVolumes and PVCs consistent). JuiceFS volumes have no
CSI snapshots, so file-system backup through the node agent copies them (FIELD-NOTES). The bucket's
credentials reach the cluster only as a Kubernetes Secret built from the Pulumi secret; the backup
location and schedules are objects this program declares, one prefix per cluster.
"""

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.capacity import Workload
from components.config import BackupSettings
from components.platform.chart import ChartSpec
from components.quantities import resources
from components.versions import KUBEVIRT_VELERO_PLUGIN, VELERO, VELERO_AWS_PLUGIN

NAMESPACE = "velero"
LOCATION = "offsite"
CREDENTIALS_SECRET = "velero-offsite-credentials"
# Where the production guest cluster's VMs live on the infrastructure cluster (components/clusters).
GUEST_NAMESPACES = ("production",)

VELERO_CHART = ChartSpec(
    release="velero", chart="velero", repo="https://vmware-tanzu.github.io/helm-charts", version=VELERO,
    namespace=NAMESPACE, privileged=True,
    workloads=(
        Workload("velero", ("resources",)),
        Workload("node-agent", ("nodeAgent", "resources"), per_node=True),
    ),
)


def _plugin(name: str, image: str) -> dict[str, Any]:
    return {"name": name, "image": image, "imagePullPolicy": "IfNotPresent",
            "volumeMounts": [{"mountPath": "/target", "name": "plugins"}],
            "resources": resources("10m", "32Mi", memory_limit="64Mi")}


def velero_values() -> dict[str, Any]:
    return {
        "initContainers": [
            _plugin("velero-plugin-for-aws", f"velero/velero-plugin-for-aws:{VELERO_AWS_PLUGIN}"),
            _plugin("kubevirt-velero-plugin", f"quay.io/kubevirt/kubevirt-velero-plugin:{KUBEVIRT_VELERO_PLUGIN}"),
        ],
        "resources": resources("50m", "192Mi", memory_limit="512Mi"),
        "deployNodeAgent": True,
        "nodeAgent": {"resources": resources("25m", "64Mi", memory_limit="512Mi")},
        "credentials": {"useSecret": True, "existingSecret": CREDENTIALS_SECRET},
        # The location and schedules are declared below as objects of their own.
        "backupsEnabled": False,
        "snapshotsEnabled": False,
        "configuration": {"uploaderType": "kopia", "defaultVolumesToFsBackup": True},
        "kubectl": {"resources": resources("10m", "32Mi", memory_limit="64Mi")},
        # The hook Job that applies Velero's CRDs on install and upgrade (templates/upgrade-crds).
        "upgradeJobResources": resources("50m", "96Mi", memory_limit="256Mi"),
    }


def retention_ttl(settings: BackupSettings) -> str:
    """A backup's time to live in Velero's duration format."""
    return f"{settings.retention_days * 24}h0m0s"


def credentials_file(keys: dict[str, str]) -> str:
    """The AWS shared-credentials file the AWS plugin reads."""
    return ("[default]\n"
            f"aws_access_key_id={keys['accessKeyId']}\n"
            f"aws_secret_access_key={keys['secretAccessKey']}\n")


def credentials_secret(parent: pulumi.Resource, namespace: pulumi.Resource,
                       credentials: pulumi.Output[dict[str, str]]) -> k8s.core.v1.Secret:
    return k8s.core.v1.Secret(
        CREDENTIALS_SECRET, metadata=k8s.meta.v1.ObjectMetaArgs(name=CREDENTIALS_SECRET, namespace=NAMESPACE),
        type="Opaque", string_data={"cloud": credentials.apply(credentials_file)},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[namespace]),
    )


def location_and_schedules(parent: pulumi.Resource, velero: pulumi.Resource, settings: BackupSettings,
                           cluster: str, bucket: pulumi.Input[str], region: str,
                           platform_namespaces: list[str]) -> list[pulumi.Resource]:
    """The off-site location (this cluster's prefix) and the daily schedules, after Velero's CRDs exist."""
    location = k8s.apiextensions.CustomResource(
        "backup-location", api_version="velero.io/v1", kind="BackupStorageLocation",
        metadata={"name": LOCATION, "namespace": NAMESPACE},
        spec={
            "provider": "aws", "default": True, "accessMode": "ReadWrite",
            "objectStorage": {"bucket": bucket, "prefix": cluster},
            "config": {"region": region},
            "credential": {"name": CREDENTIALS_SECRET, "key": "cloud"},
        },
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[velero]),
    )
    ttl = retention_ttl(settings)
    schedules = {
        "platform": {"includedNamespaces": platform_namespaces},
        "guest-vms": {"includedNamespaces": list(GUEST_NAMESPACES)},
    }
    return [location, *(
        k8s.apiextensions.CustomResource(
            f"schedule-{name}", api_version="velero.io/v1", kind="Schedule",
            metadata={"name": name, "namespace": NAMESPACE},
            spec={"schedule": settings.schedule, "useOwnerReferencesInBackup": False,
                  "template": {**template, "storageLocation": LOCATION, "ttl": ttl,
                               "defaultVolumesToFsBackup": True, "snapshotVolumes": False}},
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[velero, location]),
        )
        for name, template in schedules.items()
    )]
