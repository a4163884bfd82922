"""Off-site replication of the storage layer, and the weekly proof that the copy restores.

The Pis' disks are not a backup of themselves. Every hour a Job copies each JuiceFS filesystem off-site as a
pair that belongs together: first ``juicefs dump`` writes each filesystem's metadata as it is now, then rclone
syncs the data chunks to the cloud layer's storage bucket (under the same keys JuiceFS uses, so the copy is a
JuiceFS bucket in its own right), and only then are the dumps uploaded (``juicefs-meta/<filesystem>/``). So
every dump off-site has its chunks off-site: JuiceFS never rewrites a chunk, and a chunk deleted after the
dump stays in the trash for a day (the default ``trash-days``), far longer than one run. The keys are the
``storage-replication`` credentials, which can touch that bucket and nothing else. JuiceFS's own hourly
``meta/`` dumps, made at other moments than the chunk copy, are carried along but are not the restore path.

The restore path, which the weekly check runs for real: load the newest dump into a scratch metadata engine
(SQLite), point it at the off-site bucket, and ``juicefs fsck`` it, which reads the bucket's object list
and fails on any block a file needs that is not there. A real restore is the same load into the metadata
etcd, then either the same bucket setting or an rclone copy of the chunks back (README).
"""

from collections.abc import Callable
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

from components.platform import metadata_tls, rclone, task_metrics
from components.platform.metadata import metadata_url
from components.platform.object_store_users import Consumer, credentials_secret
from components.platform.shared_fs import BUCKET, PASSPHRASE_ENV, Encryption
from components.platform.storage import NAMESPACE, ObjectStore
from components.platform.workloads import secret_env
from components.quantities import resources
from components.versions import JUICEFS_MOUNT_IMAGE

JOB, CHECK = "offsite-replication", "offsite-restore-check"
# The names their success is reported under (components/platform/task_metrics.py).
COPY_TASK, CHECK_TASK = "offsite-copy", "offsite-restore-check"
# How far back the rules and dashboards look for those reports: several runs of each schedule.
COPY_WINDOW, CHECK_WINDOW = "7d", "22d"
CREDENTIALS_SECRET = "offsite-replication-credentials"
ENCRYPTION_SECRET = "shared-fs-encryption"
# The copy reads every filesystem's chunks and changes nothing in the house.
READER = Consumer("offsite-replication", BUCKET, writes=False)
SCHEDULE, CHECK_SCHEDULE = "17 * * * *", "47 4 * * 0"
DUMPS = "juicefs-meta"
WORK = "/work"


def dump_key(bucket: str, filesystem: str) -> str:
    """Where the newest metadata dump of ``filesystem`` lies off-site, as an rclone path."""
    return f"offsite:{bucket}/{DUMPS}/{filesystem}/latest.json.gz"


def _offsite_env(region: str) -> list[dict[str, Any]]:
    return rclone.s3_remote("offsite", "AWS", CREDENTIALS_SECRET, "accessKeyId", "secretAccessKey", region=region)


def _with_work(container: dict[str, Any]) -> dict[str, Any]:
    return {**container, "volumeMounts": [{"name": "work", "mountPath": WORK}]}


def _juicefs(name: str, script: str, env: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return _with_work({"name": name, "image": JUICEFS_MOUNT_IMAGE, "command": ["sh", "-ec", script],
                       "env": env or [], "resources": resources("100m", "128Mi", memory_limit="512Mi")})


def _metadata_client(container: dict[str, Any]) -> dict[str, Any]:
    """``container`` with the copy's own client certificate of the metadata engine mounted."""
    return {**container, "volumeMounts": [*container["volumeMounts"], metadata_tls.client_mount()[1]]}


def _cronjob(schedule: str, task: str, steps: list[dict[str, Any]],
             volumes: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    return task_metrics.reported_cronjob(schedule, JOB, task, steps,
                                         [{"name": "work", "emptyDir": {"sizeLimit": "2Gi"}}, *volumes])


def cronjob_spec(store: ObjectStore, bucket: str, region: str, filesystems: tuple[str, ...]) -> dict[str, Any]:
    """Dump every filesystem's metadata, then sync the chunks, then upload the dumps."""
    # Quoted: the metaurl's query joins its TLS files with "&".
    dumps = "\n".join(f"juicefs dump '{metadata_url(fs)}' {WORK}/{fs}.json.gz" for fs in filesystems)
    chunks = rclone.container(
        "chunks", ["rclone", "sync", f"{rclone.LOCAL_REMOTE}:{BUCKET}", f"offsite:{bucket}", "--checksum",
                   "--fast-list", "--transfers=4", "--s3-no-check-bucket", f"--exclude=/{DUMPS}/**"],
        [*rclone.object_store_remote(store, READER.secret), *_offsite_env(region)], memory_limit="512Mi")
    uploads = " && ".join(
        f'rclone copyto {WORK}/{fs}.json.gz offsite:{bucket}/{DUMPS}/{fs}/"$stamp".json.gz --s3-no-check-bucket'
        f" && rclone copyto {WORK}/{fs}.json.gz {dump_key(bucket, fs)} --s3-no-check-bucket"
        for fs in filesystems)
    upload = rclone.container("dumps", ["sh", "-ec", f"stamp=$(date -u +%Y%m%dT%H%M%SZ) && {uploads}"],
                              _offsite_env(region), memory_limit="256Mi")
    return _cronjob(SCHEDULE, COPY_TASK, [_metadata_client(_juicefs("dump", dumps)), chunks, _with_work(upload)],
                    volumes=(metadata_tls.client_mount()[0],))


def check_spec(bucket: str, region: str, filesystems: tuple[str, ...], encrypted: bool = False) -> dict[str, Any]:
    """Fetch each newest dump, load it into SQLite, point it at the off-site bucket, fsck it. An encrypted
    filesystem's dump carries its key, still passphrase-protected: fsck reads the blocks with the passphrase,
    which is all a restore needs besides the copy."""
    fetch = rclone.container(
        "fetch", ["sh", "-ec", " && ".join(f"rclone copyto {dump_key(bucket, fs)} {WORK}/{fs}.json.gz"
                                           for fs in filesystems)],
        _offsite_env(region), memory_limit="256Mi")
    bucket_url = f"https://{bucket}.s3.{region}.amazonaws.com"
    checks = "\n".join(
        f"juicefs load sqlite3://{WORK}/{fs}.db {WORK}/{fs}.json.gz\n"
        f'juicefs config sqlite3://{WORK}/{fs}.db --storage s3 --bucket {bucket_url} --access-key "$ACCESS_KEY"'
        f' --secret-key "$SECRET_KEY" --force --yes\n'
        f"juicefs fsck sqlite3://{WORK}/{fs}.db"
        for fs in filesystems)
    keys = [secret_env("ACCESS_KEY", CREDENTIALS_SECRET, "accessKeyId"),
            secret_env("SECRET_KEY", CREDENTIALS_SECRET, "secretAccessKey"),
            *([secret_env(PASSPHRASE_ENV, ENCRYPTION_SECRET, "passphrase")] if encrypted else [])]
    return _cronjob(CHECK_SCHEDULE, CHECK_TASK, [_with_work(fetch), _juicefs("fsck", checks, keys)])


def install(parent: pulumi.Resource, namespace: pulumi.Resource, depends_on: list[pulumi.Resource],
            store: ObjectStore, bucket: pulumi.Output[str], region: str,
            credentials: pulumi.Output[dict[str, str]], filesystems: tuple[str, ...],
            reader_key: pulumi.Output[str], encryption: Encryption | None) -> list[pulumi.Resource]:
    reader = credentials_secret(parent, NAMESPACE, READER, reader_key, [namespace])
    made: list[pulumi.Resource] = [reader]
    if encryption is not None:
        made.append(k8s.core.v1.Secret(
            ENCRYPTION_SECRET, metadata=k8s.meta.v1.ObjectMetaArgs(name=ENCRYPTION_SECRET, namespace=NAMESPACE),
            type="Opaque", string_data={"passphrase": encryption.passphrase},
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[namespace])))
    secret = k8s.core.v1.Secret(
        CREDENTIALS_SECRET,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=CREDENTIALS_SECRET, namespace=NAMESPACE), type="Opaque",
        string_data={"accessKeyId": credentials.apply(lambda c: c["accessKeyId"]),
                     "secretAccessKey": credentials.apply(lambda c: c["secretAccessKey"])},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[namespace]),
    )
    made.append(secret)
    opts = pulumi.ResourceOptions(parent=parent, depends_on=[*made, *depends_on])

    def cronjob(name: str, spec: Callable[[str], dict[str, Any]]) -> k8s.batch.v1.CronJob:
        return k8s.batch.v1.CronJob(
            name, metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=NAMESPACE),
            spec=bucket.apply(lambda bucket_name: cast(k8s.batch.v1.CronJobSpecArgsDict, spec(bucket_name))),
            opts=opts)

    return [*made, cronjob(JOB, lambda name: cronjob_spec(store, name, region, filesystems)),
            cronjob(CHECK, lambda name: check_spec(name, region, filesystems, encrypted=encryption is not None))]
