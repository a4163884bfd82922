"""The metrics store: Mimir in monolithic mode, one replica, its blocks in the object store.

Mimir speaks PromQL to Grafana and accepts OTLP from the gateway collector, so the metrics path needs no
Prometheus server. Monolithic mode (``-target=all``) with replication factor 1 is the smallest sane shape
for four Pis: the blocks live in the erasure-coded object store, and only the ingester's write-ahead log
sits on the pod's ``emptyDir`` — a restart loses at most the last two hours not yet shipped, the price of
not pinning the pod to one node's disk.

Mimir runs as user 10001, and the image's working directory (``/``) is root's: every path Mimir 2.17.2 defaults
relative to it (``-activity-tracker.filepath=./metrics-activity.log``, ``-ruler.rule-path=./data-ruler/``, the
TSDB, sync and compactor directories; cmd/mimir/help-all.txt.tmpl at mimir-2.17.2) is set under the data
volume, and the container starts there too. Without that the activity tracker, which the server module
needs, cannot create its file and ``-target=all`` exits at start.
"""

import hashlib
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.platform.alert_model import RULES_FILE
from components.platform.notifications import SECRET as ALERTMANAGER_SECRET
from components.platform.notifications import TENANT
from components.platform.object_store_users import Consumer
from components.platform.priority import PLATFORM
from components.platform.storage import ObjectStore
from components.platform.workloads import object_store_keys_env, restricted
from components.quantities import resources
from components.versions import MIMIR_IMAGE

NAME = "mimir"
BUCKET = "mimir"
USER = Consumer(NAME, BUCKET)
HTTP_PORT, GRPC_PORT = 8080, 9095
CONFIG_PATH = "/etc/mimir/mimir.yaml"
RETENTION = "30d"
DATA_DIR = "/data"
# The ruler's local store reads <directory>/<tenant>/<file> (pkg/ruler/rulestore/local/local.go at mimir-2.17.2).
RULES_DIR, ALERTMANAGER_DIR = "/etc/mimir-rules", "/etc/mimir-alertmanager"
RULES_CONFIG_MAP = f"{NAME}-rules"
# The Kubernetes receivers set no service.name or service.instance.id, so Mimir gives their series no job or
# instance label (pkg/util/validation/limits.go at mimir-2.17.2: only promoted attributes become labels). Each
# object's name must then be a label, or two Deployments' (or pods', or containers') series in one namespace
# would be one series. A pod's owners follow from its name, so promoting them adds no series.
PROMOTED_RESOURCE_ATTRIBUTES = tuple(f"k8s.{kind}.name" for kind in (
    "node", "namespace", "pod", "container", "deployment", "replicaset", "statefulset", "daemonset", "job",
    "cronjob", "resourcequota"))
# The user Mimir's own deployments run it as; the image sets none (cmd/mimir/Dockerfile at mimir-2.17.2 has no
# USER), so the program states it.
MIMIR_USER = 10001


def config(store: ObjectStore) -> dict[str, Any]:
    """Mimir's configuration: one tenant, one bucket with a prefix per store, credentials from the env."""
    return {
        "multitenancy_enabled": False,
        "server": {"http_listen_port": HTTP_PORT, "grpc_listen_port": GRPC_PORT, "log_level": "warn"},
        "common": {"storage": {"backend": "s3", "s3": {
            "endpoint": store.endpoint.removeprefix("http://"), "insecure": True, "bucket_name": BUCKET,
            "access_key_id": "${S3_ACCESS_KEY_ID}", "secret_access_key": "${S3_SECRET_ACCESS_KEY}"}}},
        "blocks_storage": {"storage_prefix": "blocks", "tsdb": {"dir": f"{DATA_DIR}/tsdb"},
                           "bucket_store": {"sync_dir": f"{DATA_DIR}/tsdb-sync"}},
        "activity_tracker": {"filepath": f"{DATA_DIR}/metrics-activity.log"},
        # The rules and the Alertmanager's configuration come from files the program writes (read-only stores).
        "ruler": {"rule_path": f"{DATA_DIR}/ruler"},
        "ruler_storage": {"backend": "local", "local": {"directory": RULES_DIR}},
        "alertmanager": {"data_dir": f"{DATA_DIR}/alertmanager", "sharding_ring": {"replication_factor": 1}},
        "alertmanager_storage": {"backend": "local", "local": {"path": ALERTMANAGER_DIR}},
        "compactor": {"data_dir": f"{DATA_DIR}/compactor"},
        "ingester": {"ring": {"replication_factor": 1}},
        "store_gateway": {"sharding_ring": {"replication_factor": 1}},
        "limits": {"compactor_blocks_retention_period": RETENTION,
                   # The ruler's alerts go to the Alertmanager in the same process (its default HTTP prefix).
                   "ruler_alertmanager_client_config": {"alertmanager_url": f"http://localhost:{HTTP_PORT}/alertmanager"},
                   # Resource attributes as labels (k8s.node.name becomes k8s_node_name); the rest stay in
                   # target_info.
                   "promote_otel_resource_attributes": ",".join(PROMOTED_RESOURCE_ATTRIBUTES)},
        "usage_stats": {"enabled": False},
    }


def config_text(store: ObjectStore) -> str:
    return yaml.safe_dump(config(store), sort_keys=True)


def statefulset_spec(store: ObjectStore, credentials_secret: str) -> dict[str, Any]:
    """The pod restarts when its configuration changes: the config's digest is a pod annotation."""
    digest = hashlib.sha256(config_text(store).encode()).hexdigest()
    labels = {"app.kubernetes.io/name": NAME}
    return {
        "serviceName": NAME,
        "replicas": 1,
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels, "annotations": {"homelab.dev/config-sha256": digest}},
            "spec": restricted({
                "priorityClassName": PLATFORM.name,
                "containers": [{
                    "name": NAME,
                    "image": MIMIR_IMAGE,
                    # The ruler is part of `all`; the Alertmanager is not (pkg/mimir/modules.go at mimir-2.17.2).
                    "args": ["-target=all,alertmanager", f"-config.file={CONFIG_PATH}", "-config.expand-env=true"],
                    "workingDir": DATA_DIR,
                    "env": object_store_keys_env(credentials_secret),
                    "ports": [{"name": "http", "containerPort": HTTP_PORT},
                              {"name": "grpc", "containerPort": GRPC_PORT}],
                    "readinessProbe": {"httpGet": {"path": "/ready", "port": HTTP_PORT}, "periodSeconds": 15},
                    "volumeMounts": [{"name": "config", "mountPath": "/etc/mimir"},
                                     {"name": "rules", "mountPath": f"{RULES_DIR}/{TENANT}", "readOnly": True},
                                     {"name": "alertmanager", "mountPath": ALERTMANAGER_DIR, "readOnly": True},
                                     {"name": "data", "mountPath": DATA_DIR}],
                    # The ruler and the Alertmanager run in this process too.
                    "resources": resources("100m", "320Mi", memory_limit="1Gi"),
                }],
                "volumes": [{"name": "config", "configMap": {"name": f"{NAME}-config"}},
                            {"name": "rules", "configMap": {"name": RULES_CONFIG_MAP}},
                            {"name": "alertmanager", "secret": {"secretName": ALERTMANAGER_SECRET}},
                            {"name": "data", "emptyDir": {"sizeLimit": "10Gi"}}],
            }, user=MIMIR_USER),
        },
    }


def endpoint(namespace: str) -> str:
    return f"http://{NAME}.{namespace}.svc.cluster.local:{HTTP_PORT}"


def install(parent: pulumi.Resource, namespace: str, store: ObjectStore, spec: dict[str, Any], rules: str,
            depends_on: list[pulumi.Resource]) -> k8s.apps.v1.StatefulSet:
    """Mimir, its configuration, and the rule file (``rules``) its ruler loads; the Alertmanager's configuration
    Secret is among ``depends_on`` (components/platform/notifications.py)."""
    opts = pulumi.ResourceOptions(parent=parent, depends_on=depends_on)
    config_map = k8s.core.v1.ConfigMap(
        f"{NAME}-config", metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{NAME}-config", namespace=namespace),
        data={"mimir.yaml": config_text(store)}, opts=opts,
    )
    # The ruler re-reads its store every minute (-ruler.poll-interval), so a changed rule needs no restart.
    rule_file = k8s.core.v1.ConfigMap(
        RULES_CONFIG_MAP, metadata=k8s.meta.v1.ObjectMetaArgs(name=RULES_CONFIG_MAP, namespace=namespace),
        data={RULES_FILE: rules}, opts=opts,
    )
    service = k8s.core.v1.Service(
        NAME, metadata=k8s.meta.v1.ObjectMetaArgs(name=NAME, namespace=namespace),
        spec=k8s.core.v1.ServiceSpecArgs(selector=spec["selector"]["matchLabels"], ports=[
            k8s.core.v1.ServicePortArgs(name="http", port=HTTP_PORT),
            k8s.core.v1.ServicePortArgs(name="grpc", port=GRPC_PORT)]),
        opts=opts,
    )
    return k8s.apps.v1.StatefulSet(
        NAME, metadata=k8s.meta.v1.ObjectMetaArgs(name=NAME, namespace=namespace),
        spec=cast(k8s.apps.v1.StatefulSetSpecArgsDict, spec),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[config_map, rule_file, service, *depends_on]),
    )
