"""``OffsiteBackup``: the off-site S3 buckets on AWS and one least-privilege IAM user per consumer.

Two buckets: Velero's backups, and the storage layer's off-site copy (the Pis' disks are not a backup of
themselves). Each is versioned, encrypted (SSE-S3, or SSE-KMS with a configured key), closed to the
public, TLS-only, lifecycle-managed, Object-Locked where configured (per bucket, in its own mode), and
protected in prod. Each consumer gets
its own user and access key, scoped to its own prefix or bucket:

- ``velero`` (the infrastructure cluster's Velero) reads and writes the infrastructure cluster's prefix of
  Velero's bucket; ``velero-production`` (production's own Velero) reads and writes production's prefix;
- ``storage-replication`` reads and writes the storage copy's bucket;
- ``restore-drill``, whose key lives in throwaway experiment clusters, only reads production's prefix;
- ``etcd-backup`` (the infrastructure cluster's etcd snapshots) may only add objects under its own prefix of
  Velero's bucket: it cannot list, read or delete, so a stolen key cannot take the snapshots away. Snapshots
  expire by a lifecycle rule on that prefix instead.

So no key that leaves the infrastructure cluster can read its backups, which hold that cluster's Secrets.
Exports the bucket names, the region's endpoint and each consumer's credentials (secret from birth).
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from components.config import OffsiteBackupSettings
from components.outputs import as_secret

# Reading objects: get them (and their old versions).
OBJECT_READ = ["s3:GetObject", "s3:GetObjectVersion"]
# Writing: multipart uploads (Velero and rclone upload large files in parts) and deletes (retention).
BUCKET_WRITE = ["s3:ListBucketMultipartUploads"]
OBJECT_WRITE = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
# Adding objects only: a multipart upload (CreateMultipartUpload, UploadPart and CompleteMultipartUpload are
# s3:PutObject) and giving one up (aws-sdk-go-v2 feature/s3/manager upload.go, which talos-backup uses).
OBJECT_APPEND = ["s3:PutObject", "s3:AbortMultipartUpload"]


@dataclass(frozen=True)
class Consumer:
    name: str
    bucket: str  # "velero" or "storage"
    writes: bool
    # The key prefix it owns in that bucket (each Velero's backup location prefix); None: the whole bucket.
    prefix: str | None = None
    # Writes only, never reads, lists or deletes (``writes`` must be true).
    append_only: bool = False


@dataclass(frozen=True)
class VeleroPrefixes:
    """Where each Velero keeps its backups in Velero's bucket (its BackupStorageLocation's prefix)."""

    infrastructure: str
    production: str
    # Not Velero's: the infrastructure cluster's etcd snapshots, if the stack takes them.
    etcd_snapshots: str | None = None


def consumers(prefixes: VeleroPrefixes) -> tuple[Consumer, ...]:
    return (
        Consumer("velero", "velero", writes=True, prefix=prefixes.infrastructure),
        Consumer("velero-production", "velero", writes=True, prefix=prefixes.production),
        Consumer("storage-replication", "storage", writes=True),
        Consumer("restore-drill", "velero", writes=False, prefix=prefixes.production),
        *((Consumer("etcd-backup", "velero", writes=True, prefix=prefixes.etcd_snapshots, append_only=True),)
          if prefixes.etcd_snapshots else ()),
    )


def append_policy(bucket_arn: str, prefix: str) -> dict[str, Any]:
    """Adding objects under ``prefix`` of one bucket, and nothing else: no listing, no reading, no deleting."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "Append", "Effect": "Allow", "Action": OBJECT_APPEND, "Resource": f"{bucket_arn}/{prefix}/*"}]}


def consumer_policy(bucket_arn: str, writes: bool, prefix: str | None = None) -> dict[str, Any]:
    """Exactly what one consumer needs on its prefix of one bucket (or the whole bucket), nothing elsewhere.

    Listing is confined to the prefix by the ``s3:prefix`` condition key; listing in-progress multipart
    uploads takes no such key, so a writer may see other prefixes' upload ids, never their contents."""
    objects = f"{bucket_arn}/{prefix}/*" if prefix else f"{bucket_arn}/*"
    listing: dict[str, Any] = {"Sid": "List", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": bucket_arn}
    if prefix:
        listing["Condition"] = {"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}}
    statements = [
        {"Sid": "Bucket", "Effect": "Allow", "Action": ["s3:GetBucketLocation"], "Resource": bucket_arn},
        listing,
        {"Sid": "Objects", "Effect": "Allow", "Action": OBJECT_READ + (OBJECT_WRITE if writes else []),
         "Resource": objects},
    ]
    if writes:
        statements.append({"Sid": "Uploads", "Effect": "Allow", "Action": BUCKET_WRITE, "Resource": bucket_arn})
    return {"Version": "2012-10-17", "Statement": statements}


def tls_only_policy(bucket_arn: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }],
    }


def lifecycle_rules(settings: OffsiteBackupSettings,
                    expiring: Mapping[str, int] | None = None) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    """Old versions expire, abandoned uploads are cleaned up, and (optionally) objects move to a colder class;
    objects under each prefix of ``expiring`` expire after its days (what nothing else deletes)."""
    transitions = None
    if settings.transition_days is not None:
        transitions = [aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
            days=settings.transition_days, storage_class=settings.transition_storage_class)]
    return [aws.s3.BucketLifecycleConfigurationRuleArgs(
        id="homelab-retention",
        status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(),
        noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
            noncurrent_days=settings.noncurrent_version_days),
        abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
            days_after_initiation=7),
        transitions=transitions,
    ), *(aws.s3.BucketLifecycleConfigurationRuleArgs(
        id=f"expire-{prefix.replace('/', '-')}", status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=f"{prefix}/"),
        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=days))
        for prefix, days in sorted((expiring or {}).items()))]


def encryption_rule(settings: OffsiteBackupSettings) -> aws.s3.BucketServerSideEncryptionConfigurationRuleArgs:
    """SSE-S3 by default; SSE-KMS (with S3 bucket keys to cut KMS calls) when a key is configured."""
    kms = settings.kms_key_arn
    return aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
        apply_server_side_encryption_by_default=(
            aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="aws:kms" if kms else "AES256", kms_master_key_id=kms)),
        bucket_key_enabled=kms is not None,
    )


def _access(consumer: Consumer) -> str:
    return "add-only" if consumer.append_only else "read/write" if consumer.writes else "read-only"


def kms_statement(kms_key_arn: str, writes: bool) -> dict[str, Any]:
    """With SSE-KMS, S3 asks the key on the caller's behalf: a data key to write (and Decrypt to finish a
    multipart upload), Decrypt to read."""
    return {"Sid": "Key", "Effect": "Allow", "Action": ["kms:Decrypt", *(["kms:GenerateDataKey"] if writes else [])],
            "Resource": kms_key_arn}


def _policy(consumer: Consumer, bucket_arn: str, kms_key_arn: str | None = None) -> dict[str, Any]:
    if consumer.append_only:
        assert consumer.prefix is not None, "an add-only consumer owns a prefix"
        policy = append_policy(bucket_arn, consumer.prefix)
    else:
        policy = consumer_policy(bucket_arn, consumer.writes, consumer.prefix)
    if kms_key_arn:
        policy["Statement"].append(kms_statement(kms_key_arn, consumer.writes))
    return policy


def _json(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True)


@dataclass(frozen=True)
class OffsiteBackupArgs:
    settings: OffsiteBackupSettings
    protect: bool
    velero_prefixes: VeleroPrefixes
    # How long the etcd snapshots are kept.
    etcd_snapshot_days: int = 30


class OffsiteBackup(pulumi.ComponentResource):
    """Hardened off-site buckets and per-consumer credentials."""

    bucket_names: dict[str, pulumi.Output[str]]
    credentials: dict[str, pulumi.Output[dict[str, str]]]

    def __init__(self, name: str, args: OffsiteBackupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:cloud:OffsiteBackup", name, None, opts)
        settings = args.settings
        self.region = settings.region
        self.endpoint = f"https://s3.{settings.region}.amazonaws.com"
        buckets = {
            "velero": self._bucket("velero", settings.velero_bucket, args),
            "storage": self._bucket("storage", settings.storage_bucket, args),
        }
        self.bucket_names = {key: bucket.bucket for key, bucket in buckets.items()}
        self.credentials = {consumer.name: self._consumer(consumer, buckets[consumer.bucket], settings.kms_key_arn)
                            for consumer in consumers(args.velero_prefixes)}
        self.register_outputs({"region": self.region, "endpoint": self.endpoint, "buckets": self.bucket_names,
                               "credentials": self.credentials})

    def _bucket(self, key: Literal["velero", "storage"], bucket_name: str, args: OffsiteBackupArgs) -> aws.s3.Bucket:
        settings, region = args.settings, args.settings.region
        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(
            f"{key}-bucket", bucket=bucket_name, region=region,
            object_lock_enabled=key in settings.object_lock, force_destroy=False,
            tags={"homelab": "offsite-backup", "managed-by": "pulumi"},
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        aws.s3.BucketVersioning(f"{key}-versioning", bucket=bucket.id, region=region,
                                versioning_configuration={"status": "Enabled"}, opts=child)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{key}-encryption", bucket=bucket.id, region=region, rules=[encryption_rule(settings)], opts=child)
        public_block = aws.s3.BucketPublicAccessBlock(
            f"{key}-public-access-block", bucket=bucket.id, region=region, block_public_acls=True,
            block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True, opts=child,
        )
        aws.s3.BucketPolicy(f"{key}-tls-only", bucket=bucket.id, region=region,
                            policy=bucket.arn.apply(lambda arn: _json(tls_only_policy(arn))),
                            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_block]))
        snapshots = args.velero_prefixes.etcd_snapshots
        expiring = {snapshots: args.etcd_snapshot_days} if key == "velero" and snapshots else {}
        aws.s3.BucketLifecycleConfiguration(f"{key}-lifecycle", bucket=bucket.id, region=region,
                                            rules=lifecycle_rules(settings, expiring), opts=child)
        lock = settings.object_lock.get(key)
        if lock is not None:
            aws.s3.BucketObjectLockConfiguration(
                f"{key}-object-lock", bucket=bucket.id, region=region,
                rule={"default_retention": {"mode": lock.mode, "days": lock.days}}, opts=child,
            )
        return bucket

    def _consumer(self, consumer: Consumer, bucket: aws.s3.Bucket,
                  kms_key_arn: str | None) -> pulumi.Output[dict[str, str]]:
        child = pulumi.ResourceOptions(parent=self)
        user = aws.iam.User(consumer.name, name=f"homelab-{consumer.name}", path="/homelab/",
                            tags={"homelab": consumer.name}, opts=child)
        policy = aws.iam.Policy(
            f"{consumer.name}-policy", name=f"homelab-{consumer.name}", path="/homelab/",
            description=f"homelab {consumer.name}: {_access(consumer)} "
                        f"on {f'the {consumer.prefix} prefix of ' if consumer.prefix else ''}its bucket only",
            policy=bucket.arn.apply(lambda arn: _json(_policy(consumer, arn, kms_key_arn))),
            opts=child,
        )
        aws.iam.UserPolicyAttachment(f"{consumer.name}-policy", user=user.name, policy_arn=policy.arn, opts=child)
        key = aws.iam.AccessKey(f"{consumer.name}-key", user=user.name,
                                opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["secret"]))
        return as_secret(pulumi.Output.all(key.id, key.secret).apply(
            lambda pair: {"accessKeyId": pair[0], "secretAccessKey": pair[1]}))
