"""The object store's users: one per consumer, each with a policy that reaches only its own bucket or prefix.

No consumer holds the root credentials; only the setup Job does, which makes the buckets, writes each policy
and user, and attaches them (``mc mb --ignore-existing``, ``mc admin policy create``, ``mc admin user add``
and ``mc admin policy attach``, which MinIO's client treats as done when the attachment exists: cmd/
admin-policy-attach.go at RELEASE.2025-08-13T08-35-41Z). Each run therefore converges whatever exists, and
a changed consumer list or policy replaces the Job, so it runs again.

Each consumer's secret key is derived from the root password (HMAC-SHA256 keyed with it, over the
consumer's name), so the stack config holds one secret for the whole object store, a rebuilt homelab gets
the same keys back, and a consumer's key says nothing about the root password or another consumer's key.
Changing the root password changes every key: replace the setup Job and restart the consumers then.

The policies are S3 IAM documents, which MinIO evaluates in the AWS grammar; the tests hand them to moto's
IAM-enforcing S3 as an evaluator that is not ours.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

from components.labels import OBJECT_STORE_USER_LABEL
from components.platform.priority import PLATFORM
from components.platform.storage import NAMESPACE, ROOT_SECRET, ObjectStore
from components.platform.workloads import restricted, secret_env
from components.quantities import resources
from components.versions import MINIO_CLIENT_IMAGE

JOB = "object-store-setup"
POLICIES = "object-store-policies"
KEYS_SECRET = "object-store-users"
ALIAS = "homelab"
# MinIO's longest secret key (40 characters).
KEY_LENGTH = 40


@dataclass(frozen=True)
class Consumer:
    """One user of the object store: what it may reach, and whether it may change anything there."""

    name: str
    bucket: str
    # Within the bucket; None is the whole bucket.
    prefix: str | None = None
    writes: bool = True

    @property
    def secret(self) -> str:
        """The Secret its keys are in, in its own namespace."""
        return f"{self.name}-object-store"

    @property
    def key_variable(self) -> str:
        return "KEY_" + self.name.upper().replace("-", "_")


def policy_document(consumer: Consumer) -> dict[str, Any]:
    """List the bucket (only under the prefix, if there is one) and read, or also write and delete, the objects
    under it.

    Listing stands alone in its statement: MinIO refuses a whole policy in which a condition key is set on an
    action that does not take it (``s3:prefix`` belongs to ListBucket; minio/pkg v3.1.3 policy/action.go and
    statement.go isValid, the package MinIO RELEASE.2025-09-07T16-13-09Z parses policies with). Neither JuiceFS
    nor rclone asks for the bucket's location from MinIO, so GetBucketLocation is not granted."""
    bucket_arn = f"arn:aws:s3:::{consumer.bucket}"
    listing: dict[str, Any] = {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [bucket_arn]}
    if consumer.prefix is not None:
        listing["Condition"] = {"StringLike": {"s3:prefix": [f"{consumer.prefix}/*"]}}
    actions = ["s3:GetObject"]
    if consumer.writes:
        actions += ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    objects = f"{bucket_arn}/{consumer.prefix}/*" if consumer.prefix is not None else f"{bucket_arn}/*"
    statements = [listing, {"Effect": "Allow", "Action": actions, "Resource": [objects]}]
    if consumer.writes:
        statements.append({"Effect": "Allow", "Action": ["s3:ListBucketMultipartUploads"], "Resource": [bucket_arn]})
    return {"Version": "2012-10-17", "Statement": statements}


def derive_key(root_password: str, consumer: str) -> str:
    digest = hmac.new(root_password.encode(), f"homelab object store user {consumer}".encode(), hashlib.sha256)
    return digest.hexdigest()[:KEY_LENGTH]


def consumer_key(root_password: pulumi.Output[str], consumer: Consumer) -> pulumi.Output[str]:
    """``consumer``'s secret key, secret in state like the root password it comes from."""
    return pulumi.Output.secret(root_password.apply(lambda password: derive_key(password, consumer.name)))


def setup_script(consumers: list[Consumer]) -> str:
    """Every consumer's bucket, then each consumer's policy, user and attachment."""
    lines = ['mc alias set homelab "$ENDPOINT" "$ROOT_USER" "$ROOT_PASSWORD"',
             *(f"mc mb --ignore-existing {ALIAS}/{bucket}" for bucket in sorted({c.bucket for c in consumers}))]
    for consumer in consumers:
        lines += [f"mc admin policy create {ALIAS} {consumer.name} /policies/{consumer.name}.json",
                  f'mc admin user add {ALIAS} {consumer.name} "${consumer.key_variable}"',
                  f"mc admin policy attach {ALIAS} {consumer.name} --user {consumer.name}"]
    return "set -e\n" + "\n".join(lines) + "\n"


def job_spec(store: ObjectStore, consumers: list[Consumer]) -> dict[str, Any]:
    env = [{"name": "ENDPOINT", "value": store.endpoint},
           secret_env("ROOT_USER", ROOT_SECRET, "user"), secret_env("ROOT_PASSWORD", ROOT_SECRET, "password"),
           *(secret_env(c.key_variable, KEYS_SECRET, c.name) for c in consumers)]
    container = {"name": "setup", "image": MINIO_CLIENT_IMAGE,
                 "command": ["sh", "-c", setup_script(consumers)], "env": env,
                 "volumeMounts": [{"name": "policies", "mountPath": "/policies", "readOnly": True}],
                 "resources": resources("50m", "64Mi", memory_limit="128Mi")}
    # The policies are in the pod's spec through this digest, so a changed policy replaces the Job.
    digest = hashlib.sha256(json.dumps(policies(consumers), sort_keys=True).encode()).hexdigest()
    return {"backoffLimit": 6, "template": {
        "metadata": {"annotations": {"homelab.dev/policies-sha256": digest}},
        "spec": restricted({"restartPolicy": "OnFailure", "priorityClassName": PLATFORM.name,
                            "containers": [container],
                            "volumes": [{"name": "policies", "configMap": {"name": POLICIES}}]})}}


def policies(consumers: list[Consumer]) -> dict[str, str]:
    return {f"{c.name}.json": json.dumps(policy_document(c), indent=2, sort_keys=True) for c in consumers}


def install(parent: pulumi.Resource, store: ObjectStore, consumers: list[Consumer], root_password: pulumi.Output[str],
            depends_on: list[pulumi.Resource]) -> k8s.batch.v1.Job:
    """The policies, the users' keys and the Job that makes the buckets and users; done when it completes."""
    opts = pulumi.ResourceOptions(parent=parent, depends_on=depends_on)
    config = k8s.core.v1.ConfigMap(POLICIES, metadata=k8s.meta.v1.ObjectMetaArgs(name=POLICIES, namespace=NAMESPACE),
                                   data=policies(consumers), opts=opts)
    keys = k8s.core.v1.Secret(
        KEYS_SECRET, metadata=k8s.meta.v1.ObjectMetaArgs(name=KEYS_SECRET, namespace=NAMESPACE), type="Opaque",
        string_data={c.name: consumer_key(root_password, c) for c in consumers}, opts=opts)
    return k8s.batch.v1.Job(
        JOB, metadata=k8s.meta.v1.ObjectMetaArgs(name=JOB, namespace=NAMESPACE),
        spec=cast(k8s.batch.v1.JobSpecArgsDict, job_spec(store, consumers)),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[*depends_on, config, keys]),
    )


def credentials_secret(parent: pulumi.Resource, namespace: str, consumer: Consumer, key: pulumi.Output[str],
                       depends_on: list[pulumi.Resource]) -> k8s.core.v1.Secret:
    """``consumer``'s keys as a Secret with ``user`` and ``password`` in ``namespace``."""
    return k8s.core.v1.Secret(
        consumer.secret, metadata=k8s.meta.v1.ObjectMetaArgs(name=consumer.secret, namespace=namespace,
                                                             labels={OBJECT_STORE_USER_LABEL: consumer.name}),
        type="Opaque",
        string_data={"user": consumer.name, "password": key},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on))
