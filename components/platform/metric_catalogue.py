"""Every metric a dashboard panel or an alert rule may read: its name in Mimir, what collects it, and where
upstream defines it.

Names are as Mimir stores them. Metrics the OpenTelemetry receivers make arrive over OTLP, and Mimir adds no
suffixes to OTLP names (``-distributor.otel-metric-suffixes-enabled`` false at mimir-2.17.2
pkg/util/validation/limits.go), so ``k8s.node.cpu.usage`` becomes ``k8s_node_cpu_usage``. Metrics the gateway
scrapes keep their Prometheus names (components/platform/scrapes.py). The program's own jobs push one gauge
each (components/platform/task_metrics.py).

``collector`` names what collects a metric: ``kubeletstats`` (the agent's kubelet preset), ``k8s_cluster``
(the gateway's cluster receiver), a scrape job of components/platform/scrapes.py, or ``pushed`` (the task
gauge). The tests hold each name to a collector the program really configures, and each panel's query to
names in this catalogue, read from the query by the real PromQL parser.
"""

from dataclasses import dataclass

from components.platform.task_metrics import EVENTS, metric

# The collector the chart runs is v0.158.0; contrib is too large to fetch here, so these were read in the code
# index's copies, at the commits named.
CONTRIB = "opentelemetry-collector-contrib"
KUBELETSTATS = f"{CONTRIB} receiver/kubeletstatsreceiver/documentation.md@02a67488"
K8S_CLUSTER = f"{CONTRIB} receiver/k8sclusterreceiver/metadata.yaml@0053ca7f"
K8S_CLUSTER_NODES = f"{CONTRIB} receiver/k8sclusterreceiver/internal/node/nodes.go (index copy)"


@dataclass(frozen=True)
class Metric:
    name: str
    collector: str
    source: str  # where upstream defines it, file@tag


def _family(collector: str, source: str, *names: str) -> tuple[Metric, ...]:
    return tuple(Metric(name, collector, source) for name in names)


METRICS: tuple[Metric, ...] = (
    *_family("kubeletstats", KUBELETSTATS,
             "k8s_node_cpu_usage", "k8s_node_memory_working_set", "k8s_node_memory_available",
             "k8s_node_filesystem_usage", "k8s_node_filesystem_capacity", "k8s_node_network_io",
             "k8s_pod_cpu_usage", "k8s_pod_memory_working_set"),
    *_family("k8s_cluster", K8S_CLUSTER,
             "k8s_container_cpu_request", "k8s_container_memory_request", "k8s_container_restarts",
             "k8s_pod_phase"),
    # Reported for the conditions and resources the gateway's receiver is configured with
    # (components/platform/telemetry.py NODE_CONDITIONS and ALLOCATABLE).
    *_family("k8s_cluster", K8S_CLUSTER_NODES,
             "k8s_node_condition_ready", "k8s_node_condition_memory_pressure", "k8s_node_condition_disk_pressure",
             "k8s_node_allocatable_cpu", "k8s_node_allocatable_memory"),
    *_family("juicefs-meta", "server/etcdserver/metrics.go@v3.6.14",
             "etcd_server_has_leader", "etcd_server_leader_changes_seen_total", "etcd_server_quota_backend_bytes"),
    *_family("juicefs-meta", "server/storage/mvcc/metrics.go@v3.6.14", "etcd_mvcc_db_total_size_in_bytes"),
    *_family("juicefs-meta", "server/storage/wal/metrics.go@v3.6.14", "etcd_disk_wal_fsync_duration_seconds_bucket"),
    *_family("velero", "pkg/metrics/metrics.go@v1.18.1",
             "velero_backup_last_successful_timestamp", "velero_backup_success_total",
             "velero_backup_failure_total"),
    *_family("cert-manager", "internal/collectors/certificate_collector.go@v1.21.1",
             "certmanager_certificate_expiration_timestamp_seconds", "certmanager_certificate_ready_status"),
    *_family("argocd-application-controller", "controller/metrics/metrics.go@v3.4.4",
             "argocd_app_info", "argocd_app_sync_total"),
    *_family("minio", "cmd/metrics-v2.go@RELEASE.2025-09-07T16-13-09Z",
             "minio_cluster_capacity_usable_total_bytes", "minio_cluster_capacity_usable_free_bytes",
             "minio_cluster_drive_online_total", "minio_cluster_drive_offline_total",
             "minio_cluster_nodes_online_total", "minio_cluster_nodes_offline_total", "minio_s3_requests_total"),
    *_family("juicefs-mount", "pkg/meta/base.go@v1.3.1", "juicefs_used_space", "juicefs_used_inodes"),
    *_family("juicefs-mount", "pkg/vfs/accesslog.go@v1.3.1", "juicefs_fuse_ops_durations_histogram_seconds_count"),
    # Enabled by default (Documentation/observability/metrics.rst); names and labels as the chart's own dashboard
    # reads them (files/cilium-agent/dashboards/cilium-dashboard.json in chart 1.20.0).
    *_family("cilium-agent", "pkg/metrics/metrics.go (cilium 1.20)",
             "cilium_endpoint_state", "cilium_drop_count_total", "cilium_forward_count_total",
             "cilium_bpf_map_pressure", "cilium_unreachable_nodes"),
    # The prometheus receiver's own series, one per target of every scrape job.
    Metric("up", "scrape", "the prometheus receiver: one up series per target"),
    *_family("pushed", "components/platform/task_metrics.py", *(metric(event) for event in EVENTS)),
)
BY_NAME = {metric.name: metric for metric in METRICS}

# The OTLP resource attributes Loki indexes by default, as labels a LogQL stream selector may use (Loki 3.7
# pkg/loghttp/push/otlp_config.go, default_resource_attributes_as_index_labels; read, nothing of Loki's used).
LOKI_INDEX_LABELS = frozenset({
    "service_name", "service_namespace", "service_instance_id", "deployment_environment", "cloud_region",
    "cloud_availability_zone", "k8s_cluster_name", "k8s_namespace_name", "k8s_pod_name", "k8s_container_name",
    "container_name", "k8s_replicaset_name", "k8s_deployment_name", "k8s_statefulset_name", "k8s_daemonset_name",
    "k8s_cronjob_name", "k8s_job_name"})


def cite(names: tuple[str, ...]) -> str:
    """The line a panel carries under its title: each metric it reads and where that metric is defined."""
    return "Reads " + "; ".join(f"{name} ({BY_NAME[name].source})" for name in names) + "."
