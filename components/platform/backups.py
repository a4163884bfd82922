"""Backups: Velero on the infrastructure cluster, writing to the off-site bucket from the cloud layer.

Each layer is copied once, by the tool that can put it back (README, "What is backed up"). Velero here backs
up the platform namespaces' objects only: every volume of this cluster belongs to the storage layer (MinIO's
drives, the metadata etcd, VM disks on JuiceFS), whose live files a file-system backup cannot restore
consistently and which the off-site copy already carries (components/platform/replication.py). The guest VMs
are not backed up at all: Cluster API rebuilds them from code, and the state worth keeping, production's app
data, is backed up by the Velero inside production (components/apps/production.py), file by file through its
node agent, in a Kopia repository encrypted with the stack's repository password. So this Velero runs no node
agent and no KubeVirt plugin. The bucket's credentials reach the cluster only as a Kubernetes Secret built
from the Pulumi secret; the backup location and schedule are objects this program declares, one prefix per
cluster.
"""

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.capacity import Workload
from components.config import BackupSettings
from components.platform.chart import ChartSpec
from components.quantities import resources
from components.versions import VELERO, VELERO_AWS_PLUGIN

NAMESPACE = "velero"
LOCATION = "offsite"
CREDENTIALS_SECRET = "velero-offsite-credentials"
# Velero's server and its repository maintenance create this Secret with a static password only when it is
# absent (pkg/repository/keys/keys.go at v1.18.1), so it is written before Velero starts.
REPOSITORY_SECRET, REPOSITORY_KEY = "velero-repo-credentials", "repository-password"

VELERO_CHART = ChartSpec(
    release="velero", chart="velero", repo="https://vmware-tanzu.github.io/helm-charts", version=VELERO,
    namespace=NAMESPACE,
    workloads=(
        Workload("velero", ("resources",)),
        Workload("node-agent", ("nodeAgent", "resources"), per_node=True, enabled=("deployNodeAgent",)),
    ),
)


def _plugin(name: str, image: str) -> dict[str, Any]:
    return {"name": name, "image": image, "imagePullPolicy": "IfNotPresent",
            "volumeMounts": [{"mountPath": "/target", "name": "plugins"}],
            "resources": resources("10m", "32Mi", memory_limit="64Mi")}


def velero_values(file_system_backup: bool = False) -> dict[str, Any]:
    """Velero with the AWS plugin; the node agent only where volumes are copied file by file."""
    return {
        "initContainers": [_plugin("velero-plugin-for-aws", f"velero/velero-plugin-for-aws:{VELERO_AWS_PLUGIN}")],
        "resources": resources("50m", "192Mi", memory_limit="512Mi"),
        "deployNodeAgent": file_system_backup,
        "nodeAgent": {"resources": resources("25m", "64Mi", memory_limit="512Mi")},
        "credentials": {"useSecret": True, "existingSecret": CREDENTIALS_SECRET},
        # The location and schedules are declared below as objects of their own.
        "backupsEnabled": False,
        "snapshotsEnabled": False,
        "configuration": {"uploaderType": "kopia", "defaultVolumesToFsBackup": file_system_backup},
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


def repository_secret(parent: pulumi.Resource, namespace: pulumi.Resource, password: pulumi.Input[str],
                      name: str = REPOSITORY_SECRET) -> k8s.core.v1.Secret:
    """The password Kopia encrypts this Velero's backup repository with."""
    return k8s.core.v1.Secret(
        name, metadata=k8s.meta.v1.ObjectMetaArgs(name=REPOSITORY_SECRET, namespace=NAMESPACE),
        type="Opaque", string_data={REPOSITORY_KEY: password},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[namespace]),
    )


# The infrastructure cluster's one schedule (the alert rules watch its last success).
PLATFORM_SCHEDULE = "platform"


def location_and_schedules(parent: pulumi.Resource, velero: pulumi.Resource, settings: BackupSettings,
                           cluster: str, bucket: pulumi.Input[str], region: str,
                           platform_namespaces: list[str]) -> list[pulumi.Resource]:
    """The off-site location (this cluster's prefix) and the daily schedule of the platform's objects, after
    Velero's CRDs exist."""
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
    schedule = k8s.apiextensions.CustomResource(
        "schedule-platform", api_version="velero.io/v1", kind="Schedule",
        metadata={"name": PLATFORM_SCHEDULE, "namespace": NAMESPACE},
        spec={"schedule": settings.schedule, "useOwnerReferencesInBackup": False,
              "template": {"includedNamespaces": platform_namespaces, "storageLocation": LOCATION,
                           "ttl": retention_ttl(settings), "defaultVolumesToFsBackup": False,
                           "snapshotVolumes": False}},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[velero, location]),
    )
    return [location, schedule]
