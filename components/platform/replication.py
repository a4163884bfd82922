"""Off-site replication: the object store's data copied to the storage bucket on AWS every hour.

The Pis' disks are not a backup of themselves. A CronJob runs rclone to sync the shared filesystem's
bucket — data chunks and the metadata dumps JuiceFS writes into it hourly — to the cloud layer's storage
bucket with the ``storage-replication`` credentials, which can touch that bucket and nothing else.
"""

from typing import cast

import pulumi
import pulumi_kubernetes as k8s

from components.platform.chart import resources
from components.platform.priority import PLATFORM
from components.platform.shared_fs import BUCKET
from components.platform.storage import NAMESPACE, ROOT_SECRET, ObjectStore
from components.versions import RCLONE_IMAGE

JOB = "offsite-replication"
CREDENTIALS_SECRET = "offsite-replication-credentials"
SCHEDULE = "17 * * * *"


def _env(name: str, value: str) -> dict[str, object]:
    return {"name": name, "value": value}


def _secret_env(name: str, secret: str, key: str) -> dict[str, object]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def cronjob_spec(store: ObjectStore, bucket: str, region: str) -> dict[str, object]:
    container = {
        "name": "rclone",
        "image": RCLONE_IMAGE,
        "args": ["sync", f"homelab:{BUCKET}", f"offsite:{bucket}/{BUCKET}", "--checksum", "--fast-list",
                 "--transfers=4", "--s3-no-check-bucket"],
        "env": [
            _env("RCLONE_CONFIG_HOMELAB_TYPE", "s3"), _env("RCLONE_CONFIG_HOMELAB_PROVIDER", "Minio"),
            _env("RCLONE_CONFIG_HOMELAB_ENDPOINT", store.endpoint),
            _secret_env("RCLONE_CONFIG_HOMELAB_ACCESS_KEY_ID", ROOT_SECRET, "user"),
            _secret_env("RCLONE_CONFIG_HOMELAB_SECRET_ACCESS_KEY", ROOT_SECRET, "password"),
            _env("RCLONE_CONFIG_OFFSITE_TYPE", "s3"), _env("RCLONE_CONFIG_OFFSITE_PROVIDER", "AWS"),
            _env("RCLONE_CONFIG_OFFSITE_REGION", region),
            _secret_env("RCLONE_CONFIG_OFFSITE_ACCESS_KEY_ID", CREDENTIALS_SECRET, "accessKeyId"),
            _secret_env("RCLONE_CONFIG_OFFSITE_SECRET_ACCESS_KEY", CREDENTIALS_SECRET, "secretAccessKey"),
        ],
        "resources": resources("100m", "128Mi", memory_limit="512Mi"),
    }
    return {
        "schedule": SCHEDULE,
        "concurrencyPolicy": "Forbid",
        "successfulJobsHistoryLimit": 2,
        "failedJobsHistoryLimit": 3,
        "jobTemplate": {"spec": {"backoffLimit": 2, "template": {"spec": {
            "restartPolicy": "OnFailure", "priorityClassName": PLATFORM.name, "containers": [container]}}}},
    }


def install(parent: pulumi.Resource, namespace: pulumi.Resource, depends_on: list[pulumi.Resource],
            store: ObjectStore, bucket: pulumi.Output[str], region: str,
            credentials: pulumi.Output[dict[str, str]]) -> list[pulumi.Resource]:
    secret = k8s.core.v1.Secret(
        CREDENTIALS_SECRET,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=CREDENTIALS_SECRET, namespace=NAMESPACE), type="Opaque",
        string_data={"accessKeyId": credentials.apply(lambda c: c["accessKeyId"]),
                     "secretAccessKey": credentials.apply(lambda c: c["secretAccessKey"])},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[namespace]),
    )
    job = k8s.batch.v1.CronJob(
        JOB, metadata=k8s.meta.v1.ObjectMetaArgs(name=JOB, namespace=NAMESPACE),
        spec=bucket.apply(lambda name: cast(k8s.batch.v1.CronJobSpecArgsDict, cronjob_spec(store, name, region))),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[secret, *depends_on]),
    )
    return [secret, job]
