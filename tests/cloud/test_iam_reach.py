"""Each off-site key reaches only its own prefix or bucket, judged by an evaluator that is not ours.

The IAM policies the prod stack registers are loaded into moto with its IAM enforcement on, and every
consumer's own key then makes real S3 calls through boto3: what it must be able to do, and what it must not.
moto 5.2 evaluates actions and resource ARNs; it does not evaluate the ``s3:prefix`` condition that confines
listing (moto/iam/utils.py passes it only ``sts:ExternalId``), so listing is judged by the policy test in
tests/cloud/test_offsite_backup.py, and here only for the consumer whose listing has no condition.
"""

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count

REGION = "eu-west-2"
VELERO, STORAGE = "example-homelab-velero", "example-homelab-storage-offsite"
INFRA, PRODUCTION = "homelab/backups/daily/velero-backup.json", "production/backups/daily/velero-backup.json"
CHUNK = "chunks/0/0/1_0_4194304"
SEEDED = {VELERO: [INFRA, PRODUCTION], STORAGE: [CHUNK]}
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def _client(service: str, key: dict[str, str]) -> Any:
    return boto3.client(service, region_name=REGION, aws_access_key_id=key["AccessKeyId"],
                        aws_secret_access_key=key["SecretAccessKey"])


def allowed(call: Any, **kwargs: Any) -> bool:
    try:
        call(**kwargs)
    except ClientError as error:
        if error.response["Error"]["Code"] == "AccessDenied":
            return False
        raise
    return True


def seed_and_judge(policies: dict[str, str], judge: Callable[[dict[str, Any]], Any],
                   locks: dict[str, dict[str, Any]] | None = None,
                   seeded: dict[str, list[str]] | None = None) -> Any:
    """Build the account as an administrator (the first three calls, which moto lets through unsigned, make
    it), put the ``seeded`` objects in their buckets, give each consumer the policy the stack registered for it
    and a key, and hand ``judge`` each consumer's S3 client, all while moto enforces IAM."""

    @set_initial_no_auth_action_count(3)
    def enforced() -> Any:
        iam = boto3.client("iam", region_name=REGION)
        iam.create_user(UserName="admin")
        iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=json.dumps(ADMIN_POLICY))
        admin = iam.create_access_key(UserName="admin")["AccessKey"]
        admin_iam, admin_s3 = _client("iam", admin), _client("s3", admin)
        for bucket, keys_ in (seeded or SEEDED).items():
            lock = (locks or {}).get(bucket)
            admin_s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION},
                                   ObjectLockEnabledForBucket=lock is not None)
            admin_s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
            if lock is not None:
                admin_s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
                    "ObjectLockEnabled": "Enabled",
                    "Rule": {"DefaultRetention": {"Mode": lock["mode"], "Days": lock["days"]}}})
            for key in keys_:
                admin_s3.put_object(Bucket=bucket, Key=key, Body=b"backup")
        clients = {}
        for consumer, document in policies.items():
            admin_iam.create_user(UserName=consumer)
            arn = admin_iam.create_policy(PolicyName=consumer, PolicyDocument=document)["Policy"]["Arn"]
            admin_iam.attach_user_policy(UserName=consumer, PolicyArn=arn)
            clients[consumer] = _client("s3", admin_iam.create_access_key(UserName=consumer)["AccessKey"])
        return judge({**clients, "_admin": admin_s3})

    with mock_aws():
        return enforced()


@pytest.fixture
def judged(prod) -> Callable[..., Any]:
    """``judged(judge, locks=None)``: what ``judge`` finds with every consumer's own key, under enforced IAM
    (and, with ``locks``, with the buckets Object-Locked as ``homelab:cloud.backup.objectLock`` says)."""
    policies = {p.name.removesuffix("-policy"): p.inputs["policy"] for p in prod.by_type("aws:iam/policy:Policy")}
    return lambda judge, locks=None: seed_and_judge(policies, judge, locks)


# What each key may do; everything else of REACH (every consumer on every seeded object) is denied.
WRITES = {("velero", VELERO, INFRA), ("velero-production", VELERO, PRODUCTION), ("storage-replication", STORAGE, CHUNK)}
READS = WRITES | {("restore-drill", VELERO, PRODUCTION)}
# (consumer, bucket, key, may read, may write)
REACH = [
    (consumer, bucket, key, (consumer, bucket, key) in READS, (consumer, bucket, key) in WRITES)
    for consumer in ("velero", "velero-production", "storage-replication", "restore-drill", "etcd-backup")
    for bucket, key in ((VELERO, INFRA), (VELERO, PRODUCTION), (STORAGE, CHUNK))
]
SNAPSHOTS = "etcd-snapshots/homelab"


def test_every_consumer_of_the_stack_is_judged():
    assert {case[0] for case in REACH} == {"velero", "velero-production", "storage-replication", "restore-drill",
                                           "etcd-backup"}


Case = tuple[str, str, str, bool, bool]


def reach(cases: list[Case]) -> Callable[[dict[str, Any]], list[Case]]:
    """A judge that tries, for each case, to read ``key`` and to write and delete beside it."""
    return lambda clients: [_try(clients, *case[:3]) for case in cases]


def _try(clients: dict[str, Any], consumer: str, bucket: str, key: str) -> Case:
    s3 = clients[consumer]
    reads = allowed(s3.get_object, Bucket=bucket, Key=key)
    writes = allowed(s3.put_object, Bucket=bucket, Key=key.rsplit("/", 1)[0] + "/new", Body=b"x")
    deletes = allowed(s3.delete_object, Bucket=bucket, Key=key.rsplit("/", 1)[0] + "/new")
    assert deletes is writes, f"{consumer} on {bucket}/{key}: delete and write differ"
    return consumer, bucket, key, reads, writes


def test_each_key_reads_and_writes_exactly_where_its_policy_says(judged):
    assert judged(reach(REACH)) == REACH


def test_the_storage_copy_lists_its_whole_bucket_and_nothing_else(judged):
    def listing(clients: dict[str, Any]) -> tuple[bool, bool]:
        s3 = clients["storage-replication"]
        return allowed(s3.list_objects_v2, Bucket=STORAGE), allowed(s3.list_objects_v2, Bucket=VELERO)

    assert judged(listing) == (True, False)


def test_no_key_can_change_a_bucket(judged):
    def changes(clients: dict[str, Any]) -> list[bool]:
        return [allowed(s3.put_bucket_versioning, Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
                or allowed(s3.delete_bucket, Bucket=bucket)
                for name, s3 in clients.items() if name != "_admin" for bucket in SEEDED]

    assert judged(changes) == [False] * 10


def test_the_etcd_snapshot_key_only_adds_snapshots_under_its_own_prefix(judged):
    """It uploads (in parts, as talos-backup's uploader does) and can neither read, list nor delete what is
    there, so a stolen key cannot take the snapshots away; nor write anywhere else."""
    def reach_of_snapshots(clients: dict[str, Any]) -> dict[str, bool]:
        s3, admin = clients["etcd-backup"], clients["_admin"]
        key = f"{SNAPSHOTS}/homelab-2026-12-01T00:00:00Z.snap.age"
        found = {"put": allowed(s3.put_object, Bucket=VELERO, Key=key, Body=b"age-encryption.org/v1")}
        upload = s3.create_multipart_upload(Bucket=VELERO, Key=f"{key}.large")
        part = s3.upload_part(Bucket=VELERO, Key=f"{key}.large", UploadId=upload["UploadId"], PartNumber=1,
                              Body=b"x" * 5 * 2**20)
        s3.complete_multipart_upload(Bucket=VELERO, Key=f"{key}.large", UploadId=upload["UploadId"],
                                     MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]})
        found["multipart"] = admin.head_object(Bucket=VELERO, Key=f"{key}.large")["ContentLength"] == 5 * 2**20
        found["get"] = allowed(s3.get_object, Bucket=VELERO, Key=key)
        found["list"] = allowed(s3.list_objects_v2, Bucket=VELERO, Prefix=f"{SNAPSHOTS}/")
        found["delete"] = allowed(s3.delete_object, Bucket=VELERO, Key=key)
        found["elsewhere"] = allowed(s3.put_object, Bucket=VELERO, Key="homelab/snap.age", Body=b"x")
        found["other bucket"] = allowed(s3.put_object, Bucket=STORAGE, Key=f"{SNAPSHOTS}/snap.age", Body=b"x")
        return found

    assert judged(reach_of_snapshots) == {"put": True, "multipart": True, "get": False, "list": False,
                                          "delete": False, "elsewhere": False, "other bucket": False}


LOCKS = {STORAGE: {"mode": "COMPLIANCE", "days": 90}, VELERO: {"mode": "GOVERNANCE", "days": 30}}


def _erase(admin: Any, s3: Any, bucket: str, key: str, bypass: bool = False) -> bool:
    """Whether ``s3`` can delete every version of ``key`` (the version ids read by the administrator: the
    homelab's keys cannot even list versions)."""
    versions = admin.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]
    try:
        for version in versions:
            s3.delete_object(Bucket=bucket, Key=key, VersionId=version["VersionId"],
                             **({"BypassGovernanceRetention": True} if bypass else {}))
    except ClientError as error:
        if error.response["Error"]["Code"] == "AccessDenied":
            return False
        raise
    return True


def test_a_locked_copy_survives_the_key_that_writes_it_and_the_account_itself(judged):
    """What `rclone sync` or an intruder with the replication key can do to the storage copy: hide the current
    version behind a delete marker, never erase a version (the key has no s3:DeleteObjectVersion). Under the
    COMPLIANCE lock not even the account's administrator can; without a lock, the administrator could."""
    key = CHUNK

    def attack(clients: dict[str, Any]) -> tuple[bool, bool, bool, bool]:
        admin, s3 = clients["_admin"], clients["storage-replication"]
        hidden = allowed(s3.delete_object, Bucket=STORAGE, Key=key)
        by_key, by_admin = _erase(admin, s3, STORAGE, key), _erase(admin, admin, STORAGE, key)
        readable = bool(admin.list_object_versions(Bucket=STORAGE, Prefix=key).get("Versions"))
        return hidden, by_key, by_admin, readable

    assert judged(attack, LOCKS) == (True, False, False, True)
    assert judged(attack) == (True, False, True, False)


def test_no_homelab_key_lifts_the_governance_lock_on_velero_backups(judged):
    key = PRODUCTION

    def attack(clients: dict[str, Any]) -> tuple[bool, bool]:
        admin = clients["_admin"]
        return (_erase(admin, clients["velero-production"], VELERO, key, bypass=True),
                _erase(admin, admin, VELERO, key, bypass=True))

    # The production Velero cannot; an administrator holding s3:BypassGovernanceRetention can.
    assert judged(attack, LOCKS) == (False, True)
