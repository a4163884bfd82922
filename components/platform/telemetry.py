"""Telemetry: OpenTelemetry collectors, an agent on every node and one gateway, from the same chart.

The agent (a DaemonSet) reads every pod's logs from the node, the kubelet's and the host's metrics, tags
them with Kubernetes attributes and forwards everything, with OTLP from the node's own pods, to the
gateway. The gateway (one Deployment) adds cluster-level metrics and events and is the only thing that
knows the stores: logs to Loki, traces to Tempo, metrics to Mimir, all over OTLP. Guest clusters' collectors
can later send to the same gateway without any of them learning where data is kept.
"""

from typing import Any

from components.capacity import Workload
from components.platform import scrapes
from components.platform.chart import ChartSpec
from components.platform.priority import PLATFORM
from components.platform.workloads import CONTAINER_SECURITY, pod_security_context
from components.quantities import resources
from components.versions import OTEL_COLLECTOR

NAMESPACE = "monitoring"
REPO = "https://open-telemetry.github.io/opentelemetry-helm-charts"
# The Kubernetes distribution of the collector: the receivers and processors a cluster needs, nothing else.
IMAGE_REPOSITORY = "otel/opentelemetry-collector-k8s"
AGENT, GATEWAY = "otel-agent", "otel-gateway"
# The collector image's own user (its Dockerfile: USER 10001).
COLLECTOR_USER = 10001
OTLP_GRPC_PORT = 4317
# The node conditions the cluster receiver reports, each its own metric.
NODE_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")
# The node resources it reports allocatable amounts of (k8s.node.allocatable_<type>; none by default), which the
# capacity dashboard sets requests against.
ALLOCATABLE = ("cpu", "memory")
# Receivers of other protocols the chart opens by default; nothing here speaks them.
UNUSED_PORTS = ("jaeger-compact", "jaeger-thrift", "jaeger-grpc", "zipkin")

# The agent needs the hosts' filesystems, which Pod Security grants per namespace: it gets one of its own, so the
# stores and Grafana stay restricted.
AGENT_NAMESPACE = AGENT
AGENT_CHART = ChartSpec(
    release=AGENT, chart="opentelemetry-collector", repo=REPO, version=OTEL_COLLECTOR, namespace=AGENT_NAMESPACE,
    workloads=(Workload("agent", ("resources",), per_node=True),),
)
GATEWAY_CHART = ChartSpec(
    release=GATEWAY, chart="opentelemetry-collector", repo=REPO, version=OTEL_COLLECTOR, namespace=NAMESPACE,
    workloads=(Workload("gateway", ("resources",), replicas=("replicaCount",)),),
)


def gateway_endpoint() -> str:
    return f"{GATEWAY}.{NAMESPACE}.svc.cluster.local:{OTLP_GRPC_PORT}"


def _pipelines(exporters: dict[str, str], receivers: list[str]) -> dict[str, Any]:
    """One pipeline per signal; the chart's presets append their own receivers to these lists."""
    return {signal: {"receivers": list(receivers), "processors": ["memory_limiter", "batch"],
                     "exporters": [exporter]}
            for signal, exporter in exporters.items()}


def _common(name: str, mode: str) -> dict[str, Any]:
    return {
        "mode": mode,
        "fullnameOverride": name,
        "image": {"repository": IMAGE_REPOSITORY},
        "priorityClassName": PLATFORM.name,
        "ports": {port: {"enabled": False} for port in UNUSED_PORTS},
    }


def agent_values() -> dict[str, Any]:
    exporter = {"endpoint": gateway_endpoint(), "tls": {"insecure": True}}
    return {
        **_common(AGENT, "daemonset"),
        "presets": {"logsCollection": {"enabled": True}, "kubeletMetrics": {"enabled": True},
                    "hostMetrics": {"enabled": True}, "kubernetesAttributes": {"enabled": True}},
        "config": {
            "exporters": {"otlp": exporter},
            "service": {"pipelines": _pipelines({"logs": "otlp", "metrics": "otlp", "traces": "otlp"},
                                                ["otlp"])},
        },
        "resources": resources("50m", "64Mi", memory_limit="256Mi"),
    }


def gateway_values(loki: str, tempo: str, mimir: str) -> dict[str, Any]:
    """``loki`` and ``mimir`` are HTTP base URLs, ``tempo`` is Tempo's OTLP gRPC host:port."""
    return {
        **_common(GATEWAY, "deployment"),
        "replicaCount": 1,
        # The gateway needs nothing of its node: it runs restricted beside the stores.
        "podSecurityContext": pod_security_context(COLLECTOR_USER),
        "securityContext": CONTAINER_SECURITY,
        "presets": {"clusterMetrics": {"enabled": True}, "kubernetesEvents": {"enabled": True}},
        "config": {
            "receivers": {
                # The chart's preset reports only Ready; the alert rules also read the pressure conditions
                # (k8sclusterreceiver config.go node_conditions_to_report; metric k8s.node.condition_<snake case>).
                "k8s_cluster": {"node_conditions_to_report": list(NODE_CONDITIONS),
                                "allocatable_types_to_report": list(ALLOCATABLE)},
                # Replaces the chart's default scrape of the collector itself.
                "prometheus": scrapes.receiver_config(),
            },
            "exporters": {
                "otlphttp/loki": {"endpoint": f"{loki}/otlp"},
                "otlp/tempo": {"endpoint": tempo, "tls": {"insecure": True}},
                "otlphttp/mimir": {"endpoint": f"{mimir}/otlp"},
            },
            "service": {"pipelines": {
                **_pipelines({"logs": "otlphttp/loki", "traces": "otlp/tempo"}, ["otlp"]),
                **_pipelines({"metrics": "otlphttp/mimir"}, ["otlp", "prometheus"])}},
        },
        "resources": resources("50m", "128Mi", memory_limit="384Mi"),
    }
