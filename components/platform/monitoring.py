"""Monitoring stores and dashboards: Loki for logs, Tempo for traces, Mimir for metrics, Grafana on top.

Each store runs in its smallest sane mode for four Pis — one replica, monolithic, replication factor 1 —
because durability comes from where they keep their data: their own bucket in the erasure-coded object
store. Their write-ahead logs sit on ``emptyDir``, so a restarted store can move to any node and loses only
what it had not shipped yet. Grafana has no database worth keeping: its data sources are provisioned here
and its dashboards belong in Git. All three stores read the object store's credentials from one Secret in
their namespace, expanded into their configuration from the environment, never written into values.
"""

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.capacity import Workload
from components.platform import metrics_store
from components.platform.chart import ChartSpec
from components.platform.dashboard_panels import Dashboard, build
from components.platform.object_store_users import Consumer, credentials_secret
from components.platform.priority import PLATFORM
from components.platform.storage import ObjectStore
from components.platform.telemetry import NAMESPACE
from components.platform.workloads import CONTAINER_SECURITY, object_store_keys_env
from components.quantities import resources
from components.versions import GRAFANA, LOKI, TEMPO

REPO = "https://grafana-community.github.io/helm-charts"
GRAFANA_ADMIN = "grafana-admin"
LOKI_BUCKET, TEMPO_BUCKET = "loki", "tempo"
# Each store's own user of the object store, on its own bucket.
LOKI_USER, TEMPO_USER = Consumer("loki", LOKI_BUCKET), Consumer("tempo", TEMPO_BUCKET)
STORE_USERS = (LOKI_USER, TEMPO_USER, metrics_store.USER)
LOKI_PORT, TEMPO_PORT, TEMPO_OTLP_PORT = 3100, 3200, 4317
LOG_RETENTION, TRACE_RETENTION = "720h", "168h"
DASHBOARD_PROVIDER, DASHBOARDS_CONFIG_MAP = "homelab", "grafana-dashboards"

LOKI_CHART = ChartSpec(
    release="loki", chart="loki", repo=REPO, version=LOKI, namespace=NAMESPACE,
    workloads=(Workload("loki", ("singleBinary", "resources"), replicas=("singleBinary", "replicas")),),
)
TEMPO_CHART = ChartSpec(
    release="tempo", chart="tempo", repo=REPO, version=TEMPO, namespace=NAMESPACE,
    workloads=(Workload("tempo", ("tempo", "resources"), replicas=("replicas",)),),
)
GRAFANA_CHART = ChartSpec(
    release="grafana", chart="grafana", repo=REPO, version=GRAFANA, namespace=NAMESPACE,
    workloads=(Workload("grafana", ("resources",), replicas=("replicas",)),),
)


def _service(name: str, port: int) -> str:
    return f"{name}.{NAMESPACE}.svc.cluster.local:{port}"


def loki_url() -> str:
    return f"http://{_service('loki', LOKI_PORT)}"


def tempo_url() -> str:
    return f"http://{_service('tempo', TEMPO_PORT)}"


def tempo_otlp() -> str:
    return _service("tempo", TEMPO_OTLP_PORT)


def loki_values(store: ObjectStore) -> dict[str, Any]:
    disabled = {"enabled": False}
    return {
        "deploymentMode": "SingleBinary",
        "loki": {
            "auth_enabled": False,
            "commonConfig": {"replication_factor": 1},
            "schemaConfig": {"configs": [{"from": "2026-01-01", "store": "tsdb", "object_store": "s3",
                                          "schema": "v13", "index": {"prefix": "index_", "period": "24h"}}]},
            "storage": {
                "type": "s3",
                "bucketNames": {"chunks": LOKI_BUCKET, "ruler": LOKI_BUCKET, "admin": LOKI_BUCKET},
                "s3": {"endpoint": store.endpoint.removeprefix("http://"), "insecure": True,
                       "s3ForcePathStyle": True, "accessKeyId": "${S3_ACCESS_KEY_ID}",
                       "secretAccessKey": "${S3_SECRET_ACCESS_KEY}"},
            },
            "limits_config": {"retention_period": LOG_RETENTION},
            "compactor": {"retention_enabled": True, "delete_request_store": "s3"},
        },
        "singleBinary": {
            "replicas": 1,
            "extraArgs": ["-config.expand-env=true"],
            "extraEnv": object_store_keys_env(LOKI_USER.secret),
            "persistence": disabled,
            "priorityClassName": PLATFORM.name,
            "resources": resources("100m", "256Mi", memory_limit="1Gi"),
        },
        # The simple-scalable targets, caches, gateway and canary are for clusters far larger than this.
        "read": {"replicas": 0}, "write": {"replicas": 0}, "backend": {"replicas": 0},
        "chunksCache": disabled, "resultsCache": disabled, "gateway": disabled, "lokiCanary": disabled,
        "sidecar": {"rules": disabled}, "test": disabled, "minio": disabled,
    }


def tempo_values(store: ObjectStore) -> dict[str, Any]:
    return {
        "replicas": 1,
        # Merged into the chart's pod context (user 10001, non-root): the namespace is restricted.
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "tempo": {
            "securityContext": CONTAINER_SECURITY,
            "reportingEnabled": False,
            "retention": TRACE_RETENTION,
            "storage": {"trace": {
                "backend": "s3",
                "s3": {"bucket": TEMPO_BUCKET, "endpoint": store.endpoint.removeprefix("http://"), "insecure": True,
                       "forcepathstyle": True, "access_key": "${S3_ACCESS_KEY_ID}",
                       "secret_key": "${S3_SECRET_ACCESS_KEY}"},
                "wal": {"path": "/var/tempo/wal"},
            }},
            "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": f"0.0.0.0:{TEMPO_OTLP_PORT}"}}}},
            "extraArgs": {"config.expand-env": "true"},
            "extraEnv": object_store_keys_env(TEMPO_USER.secret),
            "resources": resources("50m", "192Mi", memory_limit="768Mi"),
        },
        "persistence": {"enabled": False},
        "priorityClassName": PLATFORM.name,
    }


def datasources() -> list[dict[str, Any]]:
    """Grafana's data sources, linked: traces to their logs, and to the service graph in Mimir; Mimir's ruler
    (its rules API under /prometheus) and its Alertmanager, so Grafana lists the alerts with no contact point."""
    mimir = metrics_store.endpoint(NAMESPACE)
    return [
        {"name": "Mimir", "type": "prometheus", "uid": "mimir", "access": "proxy", "isDefault": True,
         "url": f"{mimir}/prometheus",
         "jsonData": {"prometheusType": "Mimir", "manageAlerts": True, "alertmanagerUid": "mimir-alertmanager"}},
        {"name": "Mimir Alertmanager", "type": "alertmanager", "uid": "mimir-alertmanager", "access": "proxy",
         "url": mimir, "jsonData": {"implementation": "mimir", "handleGrafanaManagedAlerts": False}},
        {"name": "Loki", "type": "loki", "uid": "loki", "access": "proxy", "url": loki_url()},
        {"name": "Tempo", "type": "tempo", "uid": "tempo", "access": "proxy", "url": tempo_url(),
         "jsonData": {"tracesToLogsV2": {"datasourceUid": "loki"}, "serviceMap": {"datasourceUid": "mimir"}}},
    ]


def dashboard_provisioning() -> dict[str, Any]:
    """Grafana's file provider for the program's dashboards, which the chart mounts from their ConfigMap
    (``dashboardsConfigMaps``: at /var/lib/grafana/dashboards/<provider>, templates/_pod.tpl in chart 11.1.7)."""
    return {
        "dashboardProviders": {"dashboardproviders.yaml": {"apiVersion": 1, "providers": [{
            "name": DASHBOARD_PROVIDER, "orgId": 1, "folder": "Homelab", "type": "file", "disableDeletion": False,
            "allowUiUpdates": False, "options": {"path": f"/var/lib/grafana/dashboards/{DASHBOARD_PROVIDER}"}}]}},
        "dashboardsConfigMaps": {DASHBOARD_PROVIDER: DASHBOARDS_CONFIG_MAP},
    }


def dashboards_config_map(parent: pulumi.Resource, boards: Sequence[Dashboard],
                          depends_on: Sequence[pulumi.Resource]) -> k8s.core.v1.ConfigMap:
    """Every dashboard's JSON, one key per dashboard; Grafana's provider reloads them when the files change."""
    return k8s.core.v1.ConfigMap(
        DASHBOARDS_CONFIG_MAP,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=DASHBOARDS_CONFIG_MAP, namespace=NAMESPACE,
                                            labels={"app.kubernetes.io/part-of": "homelab-dashboards"}),
        data={board.file_name: json.dumps(build(board), indent=1, sort_keys=True) for board in boards},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)))


def grafana_values() -> dict[str, Any]:
    return {
        "replicas": 1,
        **dashboard_provisioning(),
        "admin": {"existingSecret": GRAFANA_ADMIN, "userKey": "admin-user", "passwordKey": "admin-password"},
        "persistence": {"enabled": False},
        "datasources": {"datasources.yaml": {"apiVersion": 1, "datasources": datasources()}},
        "grafana.ini": {"analytics": {"reporting_enabled": False, "check_for_updates": False}},
        "testFramework": {"enabled": False},
        "priorityClassName": PLATFORM.name,
        "resources": resources("50m", "128Mi", memory_limit="384Mi"),
    }


def secrets(parent: pulumi.Resource, namespace: pulumi.Resource, keys: Mapping[str, pulumi.Output[str]],
            grafana_password: pulumi.Output[str]) -> list[k8s.core.v1.Secret]:
    """Each store's object-store keys (``keys`` by user name) and Grafana's admin login."""
    stores = [credentials_secret(parent, NAMESPACE, user, keys[user.name], [namespace]) for user in STORE_USERS]
    grafana = k8s.core.v1.Secret(
        GRAFANA_ADMIN, metadata=k8s.meta.v1.ObjectMetaArgs(name=GRAFANA_ADMIN, namespace=NAMESPACE), type="Opaque",
        string_data={"admin-user": "admin", "admin-password": grafana_password},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[namespace]))
    return [*stores, grafana]
