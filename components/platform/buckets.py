"""The object store's buckets for the platform's own services, made before any of them starts.

Loki, Tempo and the metrics store refuse to start against a bucket that does not exist (JuiceFS makes its
own). One Job creates them all with rclone; the program waits for it to complete, and a changed bucket list
replaces the Job, which makes the new buckets and leaves existing ones (and their data) alone.
"""

from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

from components.platform import rclone
from components.platform.priority import PLATFORM
from components.platform.storage import NAMESPACE, ObjectStore
from components.platform.workloads import restricted

JOB = "object-store-buckets"


def job_spec(store: ObjectStore, buckets: list[str]) -> dict[str, Any]:
    script = "set -e\n" + "".join(f"rclone mkdir {rclone.LOCAL_REMOTE}:{bucket}\n" for bucket in sorted(buckets))
    container = rclone.container("mkdir", ["sh", "-c", script], rclone.object_store_remote(store),
                                 memory_limit="128Mi")
    return {"backoffLimit": 6, "template": {"spec": restricted({
        "restartPolicy": "OnFailure", "priorityClassName": PLATFORM.name, "containers": [container]})}}


def install(parent: pulumi.Resource, store: ObjectStore, buckets: list[str],
            depends_on: list[pulumi.Resource]) -> k8s.batch.v1.Job:
    return k8s.batch.v1.Job(
        JOB, metadata=k8s.meta.v1.ObjectMetaArgs(name=JOB, namespace=NAMESPACE),
        spec=cast(k8s.batch.v1.JobSpecArgsDict, job_spec(store, buckets)),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on),
    )
