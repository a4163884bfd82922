"""The object store's users: no consumer holds the root credentials, and each policy reaches only its own
bucket or prefix, judged by moto's IAM-enforcing S3 (MinIO evaluates the same AWS policy grammar)."""

import json
from typing import Any

from components.apps.production import ProductionSeams
from components.labels import OBJECT_STORE_USER_LABEL
from components.platform import object_store_users
from components.platform.object_store_users import Consumer, derive_key, job_spec, policy_document
from components.platform.storage import ROOT_USER, object_store_endpoint
from tests.cloud.test_iam_reach import allowed, reach, seed_and_judge
from tests.conftest import redacted

SECRET = "kubernetes:core/v1:Secret"
INFRA_CHUNK, PRODUCTION_CHUNK = "homelab/chunks/0/0/1_0_4194304", "production/chunks/0/0/1_0_4194304"
SEEDED = {"loki": ["index/table_1/db"], "tempo": ["single-tenant/trace/data.parquet"],
          "mimir": ["blocks/anonymous/01J/meta.json"], "juicefs": [INFRA_CHUNK, PRODUCTION_CHUNK]}
# (consumer, bucket, key) each consumer may read; what it may write is the same minus the off-site copy's.
OWN = {("loki", "loki", "index/table_1/db"), ("tempo", "tempo", "single-tenant/trace/data.parquet"),
       ("mimir", "mimir", "blocks/anonymous/01J/meta.json"), ("juicefs-homelab", "juicefs", INFRA_CHUNK),
       ("juicefs-production", "juicefs", PRODUCTION_CHUNK)}
READS = OWN | {("offsite-replication", "juicefs", INFRA_CHUNK), ("offsite-replication", "juicefs", PRODUCTION_CHUNK)}
CONSUMERS = ("loki", "tempo", "mimir", "juicefs-homelab", "juicefs-production", "offsite-replication")
REACH = [(consumer, bucket, key, (consumer, bucket, key) in READS, (consumer, bucket, key) in OWN)
         for consumer in CONSUMERS for bucket, keys in SEEDED.items() for key in keys]


def _policies(prod: Any) -> dict[str, str]:
    data = prod.one("kubernetes:core/v1:ConfigMap", object_store_users.POLICIES).inputs["data"]
    return {name.removesuffix(".json"): document for name, document in data.items()}


def test_every_consumer_has_a_user_and_a_policy(prod):
    assert set(_policies(prod)) == set(CONSUMERS)
    keys = prod.one(SECRET, object_store_users.KEYS_SECRET).inputs["stringData"]
    assert set(keys) == set(CONSUMERS) and all(redacted(value) for value in keys.values())


def test_each_user_reaches_only_its_own_bucket_or_prefix(prod):
    assert seed_and_judge(_policies(prod), reach(REACH), seeded=SEEDED) == REACH


def test_the_stores_list_their_buckets_and_nothing_else(prod):
    def listing(clients: dict[str, Any]) -> list[tuple[str, str, bool]]:
        return [(consumer, bucket, allowed(clients[consumer].list_objects_v2, Bucket=bucket))
                for consumer in ("loki", "tempo", "mimir", "offsite-replication") for bucket in SEEDED]

    own = {("loki", "loki"), ("tempo", "tempo"), ("mimir", "mimir"), ("offsite-replication", "juicefs")}
    assert seed_and_judge(_policies(prod), listing, seeded=SEEDED) == [
        (consumer, bucket, (consumer, bucket) in own)
        for consumer in ("loki", "tempo", "mimir", "offsite-replication") for bucket in SEEDED]


def test_a_filesystems_listing_is_confined_to_its_prefix():
    """moto does not evaluate ``s3:prefix`` (tests/cloud/test_iam_reach.py), so the condition is read here."""
    (listing, *_) = policy_document(Consumer("juicefs-production", "juicefs", prefix="production"))["Statement"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["production/*"]}}
    assert "Condition" not in policy_document(Consumer("loki", "loki"))["Statement"][0]


def test_the_prefix_condition_sits_only_on_listing(prod):
    """MinIO refuses the whole document when a condition key is set on an action that does not take it
    (minio/pkg v3.1.3 statement.go isValid): ``s3:prefix`` is ListBucket's alone."""
    for name, document in _policies(prod).items():
        for statement in json.loads(document)["Statement"]:
            if "Condition" in statement:
                assert statement["Action"] == ["s3:ListBucket"], name


def test_every_consumer_holds_its_own_keys_and_only_the_store_the_root_ones(prod):
    holders = sorted((s.inputs["metadata"]["name"], s.inputs["metadata"]["labels"][OBJECT_STORE_USER_LABEL])
                     for s in prod.by_type(SECRET)
                     if OBJECT_STORE_USER_LABEL in s.inputs.get("metadata", {}).get("labels", {}))
    assert holders == sorted([
        ("object-store-root", ROOT_USER), ("loki-object-store", "loki"), ("tempo-object-store", "tempo"),
        ("mimir-object-store", "mimir"), ("offsite-replication-object-store", "offsite-replication"),
        # The infrastructure cluster's volume secret, and production's, written into the guest.
        ("juicefs-volume", "juicefs-homelab"), ("juicefs-volume", "juicefs-production")])
    assert "storage_root_password" not in ProductionSeams.__dataclass_fields__


def test_the_setup_job_alone_holds_the_root_keys_and_makes_every_user(prod):
    job = prod.one("kubernetes:batch/v1:Job", object_store_users.JOB)
    (container,) = job.inputs["spec"]["template"]["spec"]["containers"]
    script = container["command"][2]
    for consumer in CONSUMERS:
        assert f"mc admin policy create homelab {consumer} /policies/{consumer}.json" in script
        assert f"mc admin policy attach homelab {consumer} --user {consumer}" in script
    assert {line.split()[-1] for line in script.splitlines() if line.startswith("mc mb")} == {
        f"homelab/{bucket}" for bucket in SEEDED}
    references = {e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"] if "valueFrom" in e}
    assert references == {"object-store-root", object_store_users.KEYS_SECRET}
    minio = prod.one("kubernetes:apps/v1:StatefulSet", "minio")
    assert minio.urn in job.dependencies
    classes = [c for c in prod.by_type("kubernetes:storage.k8s.io/v1:StorageClass")
               if c.inputs["provisioner"] == "csi.juicefs.com" and "InsideProduction" not in c.urn]
    assert classes and all(job.urn in c.dependencies for c in classes)


def test_a_changed_policy_replaces_the_job():
    store = object_store_endpoint()
    before = job_spec(store, [Consumer("loki", "loki")])
    after = job_spec(store, [Consumer("loki", "loki", writes=False)])
    annotation = "homelab.dev/policies-sha256"
    assert before["template"]["metadata"]["annotations"][annotation] != after["template"]["metadata"][
        "annotations"][annotation]


def test_keys_are_derived_per_consumer_and_fit_minio():
    keys = {derive_key(password, consumer) for password in ("correct horse", "battery staple")
            for consumer in ("loki", "tempo")}
    assert len(keys) == 4 and all(len(key) == object_store_users.KEY_LENGTH for key in keys)
    assert derive_key("correct horse", "loki") == derive_key("correct horse", "loki")
    assert "correct horse" not in derive_key("correct horse", "loki")
