"""Storage: the object store every other storage service builds on.

The object store sits behind one interface (``ObjectStore``: where it listens, which Secret holds its
root credentials) so another S3-compatible server can replace MinIO. MinIO runs distributed, one server and
one drive per node on a node-pinned local volume (components/platform/local_volumes.py) on the Talos user
volume, so its erasure coding survives a dead node. MinIO archived
its community server in April 2026 and its Docker Hub images are gone (FIELD-NOTES): the image is pinned
to its last release from a registry that still serves it, and is configurable
(``homelab:platform.objectStore.image``).
"""

from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

from components.config import ObjectStoreSettings
from components.labels import OBJECT_STORE_USER_LABEL
from components.platform.local_volumes import LocalVolumeClaim
from components.platform.workloads import secret_env, spread_statefulset
from components.quantities import resources

NAMESPACE = "storage"
ROOT_SECRET = "object-store-root"
ROOT_USER = "homelab-root"
MINIO = "minio"
API_PORT, CONSOLE_PORT = 9000, 9001
DRIVES = LocalVolumeClaim(consumer=MINIO, size="100Gi")


@dataclass(frozen=True)
class ObjectStore:
    """Where a consumer reaches the object store (each with its own user: object_store_users.py)."""

    endpoint: str


def object_store_endpoint() -> ObjectStore:
    return ObjectStore(f"http://{MINIO}.{NAMESPACE}.svc.cluster.local:{API_PORT}")


def minio_statefulset_spec(settings: ObjectStoreSettings) -> dict[str, Any]:
    """One MinIO server per node on its user volume; distributed (erasure-coded) when there are several."""
    replicas = settings.servers
    volume = "/data"
    if replicas > 1:
        volume = f"http://{MINIO}-{{0...{replicas - 1}}}.{MINIO}-hl.{NAMESPACE}.svc.cluster.local{volume}"
    labels = {"app.kubernetes.io/name": MINIO}
    container = {
        "name": MINIO,
        "image": settings.image,
        "args": ["server", volume, "--console-address", f":{CONSOLE_PORT}"],
        "env": [secret_env("MINIO_ROOT_USER", ROOT_SECRET, "user"),
                secret_env("MINIO_ROOT_PASSWORD", ROOT_SECRET, "password"),
                # The gateway scrapes the cluster metrics without a token (cmd/metrics-router.go): they are
                # capacity and drive counts, and the object store is reachable only inside the cluster.
                {"name": "MINIO_PROMETHEUS_AUTH_TYPE", "value": "public"}],
        "ports": [{"name": "api", "containerPort": API_PORT}, {"name": "console", "containerPort": CONSOLE_PORT}],
        "volumeMounts": [{"name": "data", "mountPath": "/data", "subPath": MINIO}],
        "livenessProbe": {"httpGet": {"path": "/minio/health/live", "port": API_PORT}, "periodSeconds": 20},
        "readinessProbe": {"httpGet": {"path": "/minio/health/ready", "port": API_PORT}, "periodSeconds": 15},
        "resources": resources(settings.cpu, settings.memory, memory_limit=settings.memory_limit),
    }
    return spread_statefulset(f"{MINIO}-hl", replicas, labels, container, [DRIVES.claim_template()])


def install(parent: pulumi.Resource, namespace: pulumi.Resource, drives: list[pulumi.Resource], spec: dict[str, Any],
            root_password: pulumi.Output[str]) -> tuple[list[pulumi.Resource], k8s.core.v1.Service]:
    """The servers and what they need; also returns the client Service on its own (guests need its address)."""
    opts = pulumi.ResourceOptions(parent=parent, depends_on=[namespace])
    secret = k8s.core.v1.Secret(
        ROOT_SECRET, metadata=k8s.meta.v1.ObjectMetaArgs(name=ROOT_SECRET, namespace=NAMESPACE,
                                                         labels={OBJECT_STORE_USER_LABEL: ROOT_USER}),
        type="Opaque",
        string_data={"user": ROOT_USER, "password": root_password}, opts=opts,
    )
    labels = spec["selector"]["matchLabels"]
    headless = k8s.core.v1.Service(
        f"{MINIO}-hl", metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{MINIO}-hl", namespace=NAMESPACE),
        spec=k8s.core.v1.ServiceSpecArgs(cluster_ip="None", publish_not_ready_addresses=True, selector=labels,
                                         ports=[k8s.core.v1.ServicePortArgs(name="api", port=API_PORT)]),
        opts=opts,
    )
    service = k8s.core.v1.Service(
        MINIO, metadata=k8s.meta.v1.ObjectMetaArgs(name=MINIO, namespace=NAMESPACE),
        spec=k8s.core.v1.ServiceSpecArgs(selector=labels, ports=[
            k8s.core.v1.ServicePortArgs(name="api", port=API_PORT),
            k8s.core.v1.ServicePortArgs(name="console", port=CONSOLE_PORT)]),
        opts=opts,
    )
    servers = k8s.apps.v1.StatefulSet(
        MINIO, metadata=k8s.meta.v1.ObjectMetaArgs(name=MINIO, namespace=NAMESPACE),
        # The spec is plain data so the plan can read its resources before anything is registered.
        spec=cast(k8s.apps.v1.StatefulSetSpecArgsDict, spec),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[namespace, secret, headless, *drives]),
    )
    return [secret, headless, service, servers], service
