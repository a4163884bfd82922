"""Pod-spec pieces the platform's own workloads share: secret-backed variables and node-spread StatefulSets."""

from typing import Any

from components.platform.priority import PLATFORM


def secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    """An environment variable read from one key of a Secret (never a literal value)."""
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def object_store_keys_env(secret: str) -> list[dict[str, Any]]:
    """The object store's keys (a Secret with ``user`` and ``password``) as ``S3_ACCESS_KEY_ID`` and
    ``S3_SECRET_ACCESS_KEY``, the variables the stores' configurations expand."""
    return [secret_env("S3_ACCESS_KEY_ID", secret, "user"), secret_env("S3_SECRET_ACCESS_KEY", secret, "password")]


def spread_statefulset(service: str, replicas: int, labels: dict[str, str], container: dict[str, Any],
                       claims: list[dict[str, Any]]) -> dict[str, Any]:
    """A StatefulSet of platform priority with at most one pod per node, all started at once.

    For replicated stores: one member per node is what lets them survive a dead node, and starting in
    parallel lets the members find each other.
    """
    return {
        "serviceName": service,
        "replicas": replicas,
        "podManagementPolicy": "Parallel",
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "priorityClassName": PLATFORM.name,
                "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": {"matchLabels": labels}, "topologyKey": "kubernetes.io/hostname"}]}},
                "containers": [container],
            },
        },
        "volumeClaimTemplates": claims,
    }
