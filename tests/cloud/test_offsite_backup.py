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
    lifecycle, *expiring = _for_bucket(prod, "bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                                       key).inputs["rules"]
    # Velero's bucket also expires the etcd snapshots, which their add-only key cannot delete.
    assert expiring == ([{"id": "expire-etcd-snapshots-homelab", "status": "Enabled",
                          "filter": {"prefix": "etcd-snapshots/homelab/"}, "expiration": {"days": 30}}]
                        if key == "velero" else [])
    assert lifecycle["status"] == "Enabled"
    assert lifecycle["noncurrentVersionExpiration"] == {"noncurrentDays": 30}
    assert lifecycle["transitions"] == [{"days": 30, "storageClass": "GLACIER_IR"}]


def test_kms_key_and_object_lock_per_bucket_when_configured(build, prod):
    from labctl.synth import read_stack_file

    cloud = read_stack_file("prod")["homelab:cloud"]
    key_arn = "arn:aws:kms:eu-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    locks = {"velero": {"mode": "GOVERNANCE", "days": 30}, "storage": {"mode": "COMPLIANCE", "days": 90}}
    cloud = {**cloud, "backup": {**cloud["backup"], "kmsKeyArn": key_arn, "objectLock": locks}}
    result = build("prod", {"homelab:cloud": cloud})
    (rule,) = result.one(f"{S3}bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                         "velero-encryption").inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key_arn}
    for bucket, lock in locks.items():
        configured = result.one(f"{S3}bucketObjectLockConfiguration:BucketObjectLockConfiguration",
                                f"{bucket}-object-lock")
        assert configured.inputs["rule"] == {"defaultRetention": lock}
        assert result.one(f"{S3}bucket:Bucket", f"{bucket}-bucket").inputs["objectLockEnabled"] is True
    assert not prod.by_type(f"{S3}bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    assert prod.one(f"{S3}bucket:Bucket", "storage-bucket").inputs["objectLockEnabled"] is False
    # With the key, S3 uses it on each consumer's behalf: every one may decrypt, and writers get data keys.
    for policy in result.by_type("aws:iam/policy:Policy"):
        (key,) = [s for s in json.loads(policy.inputs["policy"])["Statement"] if s["Sid"] == "Key"]
        assert key["Resource"] == key_arn and "kms:Decrypt" in key["Action"]
        assert ("kms:GenerateDataKey" in key["Action"]) is (policy.name != "restore-drill-policy"), policy.name
    assert all(s["Sid"] != "Key" for p in prod.by_type("aws:iam/policy:Policy")
               for s in json.loads(p.inputs["policy"])["Statement"])


def _statements(prod, consumer):
    document = json.loads(prod.one("aws:iam/policy:Policy", f"{consumer}-policy").inputs["policy"])
    assert all(statement["Effect"] == "Allow" for statement in document["Statement"])
    return {statement["Sid"]: statement for statement in document["Statement"]}


READ = {"s3:GetObject", "s3:GetObjectVersion"}


@pytest.mark.parametrize(("consumer", "bucket", "prefix"), [
    ("velero", "velero", "homelab"), ("velero-production", "velero", "production"),
    ("storage-replication", "storage", None)])
def test_writers_read_and_write_their_own_prefix_or_bucket_only(prod, consumer, bucket, prefix):
    arn = f"arn:aws:s3:::{BUCKETS[bucket]}"
    statements = _statements(prod, consumer)
    assert set(statements) == {"Bucket", "List", "Objects", "Uploads"}
    assert statements["Objects"]["Resource"] == (f"{arn}/{prefix}/*" if prefix else f"{arn}/*")
    assert set(statements["Objects"]["Action"]) == READ | set(OBJECT_WRITE)
    assert statements["List"]["Resource"] == arn and statements["List"]["Action"] == ["s3:ListBucket"]
    expected = {"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}} if prefix else None
    assert statements["List"].get("Condition") == expected
    assert statements["Uploads"]["Action"] == ["s3:ListBucketMultipartUploads"]


def test_restore_drill_can_only_read_productions_prefix(prod):
    arn = f"arn:aws:s3:::{BUCKETS['velero']}"
    statements = _statements(prod, "restore-drill")
    assert set(statements) == {"Bucket", "List", "Objects"}
    assert statements["Objects"] == {"Sid": "Objects", "Effect": "Allow", "Action": sorted(READ),
                                     "Resource": f"{arn}/production/*"}
    assert statements["List"]["Condition"] == {"StringLike": {"s3:prefix": ["production", "production/*"]}}


def test_every_consumer_has_a_user_and_key_of_its_own(prod):
    users = [key.inputs["user"] for key in prod.by_type("aws:iam/accessKey:AccessKey")]
    assert sorted(users) == ["homelab-etcd-backup", "homelab-restore-drill", "homelab-storage-replication",
                             "homelab-velero", "homelab-velero-production"]


def test_every_credential_is_a_secret(prod):
    for name in ("veleroCredentials", "productionVeleroCredentials", "storageReplicationCredentials",
                 "restoreDrillCredentials"):
        assert redacted(prod.outputs[name]), name
    assert redacted(prod.outputs["tailscaleOperatorCredentials"])
    for key in prod.by_type("aws:iam/accessKey:AccessKey"):
        assert key.inputs["user"].startswith("homelab-")
