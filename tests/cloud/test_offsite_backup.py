"""Off-site buckets are hardened and protected; each IAM user can do exactly its job on its own bucket."""

import json

import pytest

from components.cloud.offsite_backup import OBJECT_WRITE
from tests.conftest import redacted

S3 = "aws:s3/"
BUCKETS = {"velero": "example-homelab-velero", "storage": "example-homelab-storage-offsite"}


_SUFFIX = {
    "bucketVersioning:BucketVersioning": "versioning",
    "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": "encryption",
    "bucketPublicAccessBlock:BucketPublicAccessBlock": "public-access-block",
    "bucketPolicy:BucketPolicy": "tls-only",
    "bucketLifecycleConfiguration:BucketLifecycleConfiguration": "lifecycle",
}


def _for_bucket(prod, type_, key):
    return prod.one(f"{S3}{type_}", f"{key}-{_SUFFIX[type_]}")


@pytest.mark.parametrize("key", sorted(BUCKETS))
def test_bucket_is_versioned_encrypted_private_tls_only_and_lifecycled(prod, key):
    bucket = prod.one(f"{S3}bucket:Bucket", f"{key}-bucket")
    assert bucket.inputs["bucket"] == BUCKETS[key] and bucket.inputs["region"] == "eu-west-2"
    assert bucket.protect is True
    versioning = _for_bucket(prod, "bucketVersioning:BucketVersioning", key).inputs
    assert versioning["versioningConfiguration"] == {"status": "Enabled"}
    (rule,) = _for_bucket(prod, "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                          key).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    block = _for_bucket(prod, "bucketPublicAccessBlock:BucketPublicAccessBlock", key).inputs
    assert all(block[flag] is True for flag in
               ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    (statement,) = json.loads(_for_bucket(prod, "bucketPolicy:BucketPolicy", key).inputs["policy"])["Statement"]
    assert statement["Effect"] == "Deny" and statement["Action"] == "s3:*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"] == [f"arn:aws:s3:::{BUCKETS[key]}", f"arn:aws:s3:::{BUCKETS[key]}/*"]
    (lifecycle,) = _for_bucket(prod, "bucketLifecycleConfiguration:BucketLifecycleConfiguration", key).inputs["rules"]
    assert lifecycle["status"] == "Enabled"
    assert lifecycle["noncurrentVersionExpiration"] == {"noncurrentDays": 30}
    assert lifecycle["transitions"] == [{"days": 30, "storageClass": "GLACIER_IR"}]


def test_kms_key_and_object_lock_when_configured(build):
    from labctl.synth import read_stack_file

    cloud = read_stack_file("prod")["homelab:cloud"]
    key_arn = "arn:aws:kms:eu-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    cloud = {**cloud, "backup": {**cloud["backup"], "kmsKeyArn": key_arn, "objectLockDays": 14}}
    result = build("prod", {"homelab:cloud": cloud})
    (rule,) = result.one(f"{S3}bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                         "velero-encryption").inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key_arn}
    lock = result.one(f"{S3}bucketObjectLockConfiguration:BucketObjectLockConfiguration", "velero-object-lock")
    assert lock.inputs["rule"] == {"defaultRetention": {"mode": "GOVERNANCE", "days": 14}}
    assert result.one(f"{S3}bucket:Bucket", "velero-bucket").inputs["objectLockEnabled"] is True


def _policy(prod, consumer):
    document = json.loads(prod.one("aws:iam/policy:Policy", f"{consumer}-policy").inputs["policy"])
    return {s["Resource"]: set(s["Action"]) for s in document["Statement"] if s["Effect"] == "Allow"}


@pytest.mark.parametrize(("consumer", "bucket"), [("velero", "velero"), ("storage-replication", "storage")])
def test_writers_read_and_write_their_own_bucket_only(prod, consumer, bucket):
    arn = f"arn:aws:s3:::{BUCKETS[bucket]}"
    assert _policy(prod, consumer) == {
        arn: {"s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"},
        f"{arn}/*": {"s3:GetObject", "s3:GetObjectVersion", *OBJECT_WRITE},
    }


def test_restore_drill_can_only_read_velero_backups(prod):
    arn = f"arn:aws:s3:::{BUCKETS['velero']}"
    policy = _policy(prod, "restore-drill")
    assert policy == {arn: {"s3:ListBucket", "s3:GetBucketLocation"},
                      f"{arn}/*": {"s3:GetObject", "s3:GetObjectVersion"}}
    assert not any(action.startswith(("s3:Put", "s3:Delete")) for actions in policy.values() for action in actions)


def test_every_credential_is_a_secret(prod):
    for name in ("veleroCredentials", "storageReplicationCredentials", "restoreDrillCredentials"):
        assert redacted(prod.outputs[name]), name
    assert redacted(prod.outputs["tailscaleOperatorCredentials"])
    for key in prod.by_type("aws:iam/accessKey:AccessKey"):
        assert key.inputs["user"].startswith("homelab-")
