"""What the gateway collector scrapes besides OTLP: the platform services' own Prometheus endpoints.

The alert rules (components/platform/alert_rules.py) read these services' metrics; the gateway's Prometheus
receiver (in the collector's Kubernetes distribution, distributions/otelcol-k8s/manifest.yaml at v0.158.0) keeps
their names unchanged (``trim_metric_suffixes`` is off by default) and sends them on to Mimir with the rest, each
target's job and address becoming the ``job`` and ``instance`` labels. Targets are Service addresses (or a
headless Service's pod names), so a rescheduled pod needs no new config; the upstream tier checks that each
names a Service, or member, that the program or a rendered chart really serves on that port.
"""

from dataclasses import dataclass
from typing import Any

from components.platform import metadata

SCRAPE_INTERVAL = "60s"


@dataclass(frozen=True)
class Scrape:
    job: str
    targets: tuple[str, ...]
    source: str  # where the endpoint is served, file@tag


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
)


def receiver_config() -> dict[str, Any]:
    """The gateway's ``prometheus`` receiver: one static job per scrape."""
    return {"config": {"scrape_configs": [
        {"job_name": scrape.job, "scrape_interval": SCRAPE_INTERVAL,
         "static_configs": [{"targets": list(scrape.targets)}]} for scrape in SCRAPES]}}
