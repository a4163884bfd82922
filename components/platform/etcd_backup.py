"""The infrastructure cluster's own etcd: snapshotted on a schedule, encrypted, and sent off-site.

Velero backs up Kubernetes objects, not etcd, and a cluster rebuilt from nothing starts from an etcd snapshot
(README, Disaster recovery). siderolabs/talos-backup runs in a CronJob: it asks the Talos API for a snapshot
(``EtcdSnapshot``), encrypts it to the stack's age recipient and uploads it as
``<prefix>/<cluster>-<RFC 3339 time>.snap.age`` (pkg/talos/talos.go, pkg/s3/s3.go at v0.1.0-beta.3).

- **Talos API access** is the narrowest that works: the ``os:etcd:backup`` role (pkg/machinery/role/role.go,
  Talos v1.12), which can take a snapshot and read etcd's status, members and alarms, and change nothing
  (internal/app/machined/pkg/system/services/machined.go), granted to Kubernetes only in this job's namespace
  (the control planes' ``kubernetesTalosAPIAccess``, components/metal/patches.py; components/platform/talos_api.py
  keeps the upgrader's role out of it). A ``talos.dev/v1alpha1``
  ServiceAccount asks for it; Talos writes the talosconfig into the Secret of the same name
  (internal/app/machined/pkg/controllers/kubeaccess/serviceaccount at v1.12.9), whose endpoint is the
  ``talos.default`` Service, and talos-backup reads it from /var/run/secrets/talos.dev.
- **The cloud key** (``etcd-backup``) may only add objects under its own prefix of Velero's bucket: it cannot
  list, read or delete (components/cloud/offsite_backup.py); the bucket's lifecycle expires old snapshots.
- **Encryption** is age to ``homelab:platform.backups.etcd.ageRecipient``; the identity that opens them is kept
  off the homelab. Encryption cannot be turned off here.
- **Freshness**: the job reports its start and success (components/platform/task_metrics.py), which the
  Backups dashboard shows and an alert rule watches.

``USE_PATH_STYLE`` is left unset on purpose: talos-backup reads it inverted ("false" turns path-style on,
pkg/config/service.go), and AWS wants virtual-hosted addressing.
"""

from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

from components.config import EtcdBackupSettings
from components.platform import talos_accounts, task_metrics
from components.platform.workloads import secret_env
from components.quantities import resources
from components.versions import TALOS_BACKUP_IMAGE

NAMESPACE = JOB = "etcd-backup"
TASK = "etcd-snapshot"
TALOS_ROLE = "os:etcd:backup"
# The talos.dev ServiceAccount, and the Secret Talos fills with its talosconfig.
ACCOUNT = "talos-backup"
CREDENTIALS_SECRET = "etcd-backup-credentials"
# Where the snapshots go in Velero's bucket: <prefix>/<cluster>/.
SNAPSHOTS_PREFIX = "etcd-snapshots"
WORK = "/snapshots"
# The snapshot and its encrypted copy sit here side by side until the upload ends: twice etcd's 2 GiB quota.
WORK_SIZE = "4Gi"


def prefix(cluster: str) -> str:
    return f"{SNAPSHOTS_PREFIX}/{cluster}"


def cronjob_spec(settings: EtcdBackupSettings, bucket: str, region: str, cluster: str) -> dict[str, Any]:
    backup = {
        "name": "talos-backup", "image": TALOS_BACKUP_IMAGE, "command": ["/talos-backup"], "workingDir": WORK,
        "env": [secret_env("AWS_ACCESS_KEY_ID", CREDENTIALS_SECRET, "accessKeyId"),
                secret_env("AWS_SECRET_ACCESS_KEY", CREDENTIALS_SECRET, "secretAccessKey"),
                {"name": "AWS_REGION", "value": region}, {"name": "BUCKET", "value": bucket},
                {"name": "CLUSTER_NAME", "value": cluster}, {"name": "S3_PREFIX", "value": prefix(cluster)},
                {"name": "AGE_X25519_PUBLIC_KEY", "value": settings.age_recipient}],
        "volumeMounts": [{"name": "work", "mountPath": WORK},
                         talos_accounts.MOUNT],
        "resources": resources("50m", "64Mi", memory_limit="256Mi"),
    }
    return task_metrics.reported_cronjob(settings.schedule, JOB, TASK, [backup], [
        {"name": "work", "emptyDir": {"sizeLimit": WORK_SIZE}}, talos_accounts.volume(ACCOUNT)])


def install(parent: pulumi.Resource, namespace: pulumi.Resource, settings: EtcdBackupSettings,
            bucket: pulumi.Output[str], region: str, credentials: pulumi.Output[dict[str, str]],
            cluster: str) -> list[pulumi.Resource]:
    child = pulumi.ResourceOptions(parent=parent, depends_on=[namespace])
    secret = k8s.core.v1.Secret(
        CREDENTIALS_SECRET, metadata=k8s.meta.v1.ObjectMetaArgs(name=CREDENTIALS_SECRET, namespace=NAMESPACE),
        type="Opaque", string_data={"accessKeyId": credentials.apply(lambda c: c["accessKeyId"]),
                                    "secretAccessKey": credentials.apply(lambda c: c["secretAccessKey"])},
        opts=child)
    account = talos_accounts.service_account(ACCOUNT, NAMESPACE, TALOS_ROLE, child)
    job = k8s.batch.v1.CronJob(
        JOB, metadata=k8s.meta.v1.ObjectMetaArgs(name=JOB, namespace=NAMESPACE),
        spec=bucket.apply(lambda name: cast(k8s.batch.v1.CronJobSpecArgsDict,
                                            cronjob_spec(settings, name, region, cluster))),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[namespace, secret, account]))
    return [secret, account, job]
