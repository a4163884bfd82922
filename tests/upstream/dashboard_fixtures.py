"""Series for every catalogued metric, in promtool's input notation, labelled as the real collectors label them:
three hours of a small lab at one sample a minute. The dashboards' queries are evaluated over them by the
Prometheus engine (promql-eval), and the README's picture draws what they return.
"""

import math
from collections.abc import Iterator

from components.platform import etcd_backup, metric_catalogue, task_metrics
from components.platform.replication import CHECK_TASK, COPY_TASK, JOB

MINUTES = 180
INTERVAL = "1m"
NODES = ("pi-1", "pi-2", "pi-3")
GIB = 2**30


def _wave(base: float, swing: float, period: float = 60, phase: float = 0) -> str:
    return " ".join(f"{base + swing * math.sin((minute + phase) / period * 2 * math.pi):.6g}"
                    for minute in range(MINUTES))


def _counter(per_second: float) -> str:
    return f"0+{per_second * 60:g}x{MINUTES - 1}"


def _flat(value: float) -> str:
    return f"{value:g}x{MINUTES - 1}"


def _labels(metric: str, /, **labels: str) -> str:
    return metric + "{" + ", ".join(f'{key}="{value}"' for key, value in labels.items()) + "}"


def _nodes() -> Iterator[tuple[str, str]]:
    for index, node in enumerate(NODES):
        on = {"k8s_node_name": node}
        yield _labels("k8s_node_cpu_usage", **on), _wave(0.8 + index * 0.4, 0.3, phase=index * 15)
        yield _labels("k8s_node_memory_working_set", **on), _wave((3 + index) * GIB, 0.4 * GIB, 90, index * 20)
        yield _labels("k8s_node_memory_available", **on), _wave((4 - index) * GIB, 0.4 * GIB, 90, index * 20 + 45)
        yield _labels("k8s_node_filesystem_usage", **on), _flat((20 + 5 * index) * GIB)
        yield _labels("k8s_node_filesystem_capacity", **on), _flat(100 * GIB)
        for direction in ("receive", "transmit"):
            yield (_labels("k8s_node_network_io", **on, interface="end0", direction=direction),
                   _counter((2 + index) * 1e6 if direction == "receive" else 1e6))
        for condition in ("ready", "memory_pressure", "disk_pressure"):
            yield _labels(f"k8s_node_condition_{condition}", **on), _flat(1 if condition == "ready" else 0)
        yield _labels("k8s_node_allocatable_cpu", **on), _flat(3.8)
        yield _labels("k8s_node_allocatable_memory", **on), _flat(7.5 * GIB)


PODS = (("monitoring", "mimir-0", "mimir"), ("storage", "minio-0", "minio"),
        ("production", "virt-launcher-production-cp-0-abcde", "compute"),
        ("production", "virt-launcher-production-workers-0-fghij", "compute"),
        ("exp-demo", "virt-launcher-exp-demo-cp-0-klmno", "compute"),
        ("exp-demo", "virt-launcher-exp-demo-workers-0-pqrst", "compute"))
# The last experiment VM waits for room (Pending) for the second half of the window.
WAITING = PODS[-1][1]


def _pods() -> Iterator[tuple[str, str]]:
    for index, (namespace, pod, container) in enumerate(PODS):
        node = NODES[index % len(NODES)]
        at = {"k8s_node_name": node, "k8s_namespace_name": namespace, "k8s_pod_name": pod}
        within = {"k8s_namespace_name": namespace, "k8s_pod_name": pod}
        yield _labels("k8s_pod_phase", **at), "2x89 1x89" if pod == WAITING else _flat(2)
        yield _labels("k8s_pod_memory_working_set", **within), _wave((1 + index % 2) * GIB, 0.1 * GIB)
        yield _labels("k8s_pod_cpu_usage", **within), _wave(0.2 + 0.1 * index, 0.05)
        yield _labels("k8s_container_memory_request", **at, k8s_container_name=container), _flat((1 + index % 2) * GIB)
        yield _labels("k8s_container_cpu_request", **at, k8s_container_name=container), _flat(0.5)
        yield _labels("k8s_container_restarts", **at, k8s_container_name=container), _flat(index % 2)


def _services() -> Iterator[tuple[str, str]]:
    for member in range(3):
        etcd = {"job": "juicefs-meta", "instance": f"juicefs-meta-{member}:2381"}
        yield _labels("up", **etcd), _flat(1)
        yield _labels("etcd_server_has_leader", **etcd), _flat(1)
        yield _labels("etcd_server_leader_changes_seen_total", **etcd), _flat(1)
        yield _labels("etcd_mvcc_db_total_size_in_bytes", **etcd), f"{50e6:g}+{1e5:g}x{MINUTES - 1}"
        yield _labels("etcd_server_quota_backend_bytes", **etcd), _flat(2 * GIB)
        for le in ("0.001", "0.01", "0.1", "+Inf"):
            share = {"0.001": 0.2, "0.01": 0.9, "0.1": 0.99, "+Inf": 1.0}[le]
            yield _labels("etcd_disk_wal_fsync_duration_seconds_bucket", **etcd, le=le), _counter(10 * share)
    velero = {"job": "velero", "instance": "velero.velero.svc.cluster.local:8085"}
    for schedule in ("platform", "production-apps"):
        yield _labels("velero_backup_last_successful_timestamp", **velero, schedule=schedule), "0+60x179"
        yield _labels("velero_backup_success_total", **velero, schedule=schedule), "0x60 1x119"
        yield _labels("velero_backup_failure_total", **velero, schedule=schedule), _flat(0)
    yield (_labels("certmanager_certificate_expiration_timestamp_seconds", name="juicefs-meta-server",
                   namespace="storage"), _flat(90 * 86400))
    yield (_labels("certmanager_certificate_ready_status", name="juicefs-meta-server", namespace="storage",
                   condition="True"), _flat(1))
    for app, health, sync in (("home-assistant", "Healthy", "Synced"), ("pihole", "Progressing", "OutOfSync")):
        yield (_labels("argocd_app_info", name=f"production-{app}", namespace="argocd", project="production",
                       health_status=health, sync_status=sync), _flat(1))
        yield _labels("argocd_app_sync_total", name=f"production-{app}", phase="Succeeded"), "0x90 1x89"


def _storage_and_network() -> Iterator[tuple[str, str]]:
    minio = {"job": "minio", "server": "minio-0.minio-hl.storage.svc.cluster.local:9000"}
    yield _labels("minio_cluster_capacity_usable_total_bytes", **minio), _flat(200 * GIB)
    yield _labels("minio_cluster_capacity_usable_free_bytes", **minio), f"{150 * GIB}-{GIB / 100:g}x{MINUTES - 1}"
    for state, count in (("online", 3), ("offline", 0)):
        yield _labels(f"minio_cluster_drive_{state}_total", **minio), _flat(count)
        yield _labels(f"minio_cluster_nodes_{state}_total", **minio), _flat(count)
    for api in ("PutObject", "GetObject"):
        yield _labels("minio_s3_requests_total", **minio, api=api), _counter(30)
    for volume in ("homelab", "production"):
        mount = {"job": "juicefs-mount", "vol_name": volume, "k8s_node_name": "pi-1"}
        yield _labels("juicefs_used_space", **mount), f"{10 * GIB}+{GIB / 60:g}x{MINUTES - 1}"
        yield _labels("juicefs_used_inodes", **mount), f"1000+5x{MINUTES - 1}"
        yield _labels("juicefs_fuse_ops_durations_histogram_seconds_count", **mount), _counter(120)
    for node in NODES:
        agent = {"job": "cilium-agent", "k8s_node_name": node}
        yield _labels("up", **agent), _flat(1)
        yield _labels("cilium_endpoint_state", **agent, endpoint_state="ready"), _flat(12)
        yield _labels("cilium_drop_count_total", **agent, reason="Policy denied", direction="INGRESS"), _counter(2)
        yield _labels("cilium_forward_count_total", **agent, direction="EGRESS"), _counter(6000)
        yield _labels("cilium_bpf_map_pressure", **agent, map_name="policy_00001"), _flat(0.1)
        yield _labels("cilium_unreachable_nodes", **agent), _flat(0)
    for job, task in ((JOB, COPY_TASK), (JOB, CHECK_TASK), (etcd_backup.JOB, etcd_backup.TASK)):
        reported = {"job": job, task_metrics.TASK_ATTRIBUTE: task}
        yield _labels(task_metrics.metric("start"), **reported), "_x100 6000 _x78"
        yield _labels(task_metrics.metric("success"), **reported), "_x110 6600 _x68"


def series() -> list[dict[str, str]]:
    found = [{"series": selector, "values": values}
             for selector, values in (*_nodes(), *_pods(), *_services(), *_storage_and_network())]
    return found


def covered() -> set[str]:
    """The metric names the fixtures have series of."""
    return {item["series"].split("{", 1)[0] for item in series()}


def uncovered() -> set[str]:
    return {metric.name for metric in metric_catalogue.METRICS} - covered()
