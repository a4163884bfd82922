"""Off-site replication: the object store's data copied to the storage bucket on AWS every hour.

The Pis' disks are not a backup of themselves. A CronJob runs rclone to sync the shared filesystem's
bucket — data chunks and the metadata dumps JuiceFS writes into it hourly — to the cloud layer's storage
bucket with the ``storage-replication`` credentials, which can touch that bucket and nothing else.
"""

from typing import cast

import pulumi
import pulumi_kubernetes as k8s

from components.platform import rclone
from components.platform.priority import PLATFORM
from components.platform.shared_fs import BUCKET
from components.platform.storage import NAMESPACE, ObjectStore

JOB = "offsite-replication"
CREDENTIALS_SECRET = "offsite-replication-credentials"
SCHEDULE = "17 * * * *"


def cronjob_spec(store: ObjectStore, bucket: str, region: str) -> dict[str, object]:
    env = [*rclone.object_store_remote(store),
           *rclone.s3_remote("offsite", "AWS", CREDENTIALS_SECRET, "accessKeyId", "secretAccessKey", region=region)]
    container = rclone.container(
        "rclone", ["rclone", "sync", f"{rclone.LOCAL_REMOTE}:{BUCKET}", f"offsite:{bucket}/{BUCKET}", "--checksum",
                   "--fast-list", "--transfers=4", "--s3-no-check-bucket"], env, memory_limit="512Mi")
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
