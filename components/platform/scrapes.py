"""What the gateway collector scrapes besides OTLP: the platform services' own Prometheus endpoints.

The alert rules (components/platform/alert_rules.py) read these services' metrics; the gateway's Prometheus
receiver (in the collector's Kubernetes distribution, distributions/otelcol-k8s/manifest.yaml at v0.158.0) keeps
their names unchanged (``trim_metric_suffixes`` is off by default) and sends them on to Mimir with the rest, each
target's job and address becoming the ``job`` and ``instance`` labels. Targets are Service addresses (or a
headless Service's pod names), so a rescheduled pod needs no new config; the upstream tier checks that each
names a Service, or member, that the program or a rendered chart really serves on that port.

Per-node targets (Cilium's agents, the JuiceFS mount pods) are found instead by the receiver's Kubernetes pod
discovery: every declared container port of a matching pod is a target, and the job keeps the one port that
serves metrics. The pod's node becomes the ``k8s_node_name`` label, as the OTLP metrics have it. The gateway's
ClusterRole (the chart's clusterMetrics preset) already lists and watches pods.
"""

from dataclasses import dataclass
from typing import Any

from components.platform import metadata, shared_fs, storage

SCRAPE_INTERVAL = "60s"
CILIUM_AGENT_METRICS_PORT = 9962
JUICEFS_MOUNT_METRICS_PORT = 9567


@dataclass(frozen=True)
class Pods:
    """Every pod in ``namespace`` with the label ``selector`` (``key=value``), at its container port ``port``."""

    namespace: str
    selector: str
    port: int


@dataclass(frozen=True)
class Scrape:
    job: str
    targets: tuple[str, ...]
    source: str  # where the endpoint is served, file@tag
    path: str = "/metrics"
    pods: Pods | None = None

    def config(self) -> dict[str, Any]:
        job: dict[str, Any] = {"job_name": self.job, "scrape_interval": SCRAPE_INTERVAL, "metrics_path": self.path}
        if self.pods is None:
            return {**job, "static_configs": [{"targets": list(self.targets)}]}
        return {**job,
                "kubernetes_sd_configs": [{"role": "pod", "namespaces": {"names": [self.pods.namespace]},
                                           "selectors": [{"role": "pod", "label": self.pods.selector}]}],
                "relabel_configs": [
                    {"source_labels": ["__meta_kubernetes_pod_container_port_number"],
                     "regex": str(self.pods.port), "action": "keep"},
                    {"source_labels": ["__meta_kubernetes_pod_node_name"], "target_label": "k8s_node_name"},
                    {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "k8s_pod_name"}]}


def _service(name: str, namespace: str, port: int) -> str:
    return f"{name}.{namespace}.svc.cluster.local:{port}"


SCRAPES: tuple[Scrape, ...] = (
    Scrape(metadata.ETCD, metadata.member_metrics_addresses(),
           "server/embed/etcd.go@v3.6.14 (--listen-metrics-urls serves /metrics)"),
    # The chart's Service (templates/service.yaml at velero 12.1.0: port http-monitoring, metrics.enabled default).
    Scrape("velero", (_service("velero", "velero", 8085),), "pkg/cmd/server/config/config.go@v1.18.1"),
    # The chart's metrics Service (prometheus.enabled default in cert-manager v1.21.1).
    Scrape("cert-manager", (_service("cert-manager", "cert-manager", 9402),),
           "internal/apis/config/controller/v1alpha1/defaults.go@v1.21.1"),
    # Argo CD's application controller, with its metrics Service enabled (components/platform/gitops.py).
    Scrape("argocd-application-controller", (_service("argocd-application-controller-metrics", "argocd", 8082),),
           "common/common.go@v3.4.4"),
    # Any server answers for the whole cluster (cmd/metrics-router.go and cmd/metrics-v2.go at the image's tag).
    Scrape("minio", (_service(storage.MINIO, storage.NAMESPACE, storage.API_PORT),),
           "cmd/metrics-router.go@RELEASE.2025-09-07T16-13-09Z", path="/minio/v2/metrics/cluster"),
    # The agent's metrics port, declared as a container port when prometheus.enabled (cilium chart 1.20.0
    # templates/cilium-agent/daemonset.yaml); its pods carry k8s-app=cilium.
    Scrape("cilium-agent", (), "cilium chart 1.20.0 values.yaml prometheus.port",
           pods=Pods("kube-system", "k8s-app=cilium", CILIUM_AGENT_METRICS_PORT)),
    # Mount pods serve their filesystem's metrics on their "metrics" port (juicefs-csi-driver v0.27.0
    # pkg/juicefs/mount/builder/common.go; not host-networked here) and run in the driver's namespace.
    Scrape("juicefs-mount", (), "pkg/juicefs/mount/builder/common.go@v0.27.0 (juicefs-csi-driver)",
           pods=Pods(shared_fs.NAMESPACE, "app.kubernetes.io/name=juicefs-mount", JUICEFS_MOUNT_METRICS_PORT)),
)


def receiver_config() -> dict[str, Any]:
    """The gateway's ``prometheus`` receiver: one job per scrape."""
    return {"config": {"scrape_configs": [scrape.config() for scrape in SCRAPES]}}
