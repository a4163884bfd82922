"""Alert rules as code: what should wake the owner, evaluated by Mimir's ruler from the file promtool tests.

Each rule reads a metric some component of this program really exports, under the name it has in Mimir: the
gateway scrapes the platform services' own Prometheus endpoints (components/platform/scrapes.py; the receiver
keeps their names, and Mimir adds no suffixes to OTLP names, ``-distributor.otel-metric-suffixes-enabled``
false at mimir-2.17.2 pkg/util/validation/limits.go), and the gateway's Kubernetes cluster receiver reports
node conditions, whose node name Mimir keeps as a label because the program promotes it
(``promote_otel_resource_attributes``; components/platform/metrics_store.py). The source of each metric is
cited beside its rule.

Every rule carries two examples, a series it must fire on and one it must stay silent on; the upstream tier
turns them into ``promtool test rules`` cases against the very rule file the ruler loads
(components/platform/alert_model.py). The scheduled jobs' freshness rules are in
components/platform/task_alerts.py.
"""

from dataclasses import dataclass
from datetime import timedelta

from components.config import BackupSettings
from components.platform.alert_model import AlertRule, Example
from components.platform.metric_catalogue import BY_NAME
from components.platform.task_alerts import TASKS, etcd_snapshot_task, longest_gap, task_rule
from components.platform.virtualization import LAUNCHER_PODS

# A backup run may take this long before its success is recorded.
BACKUP_SLACK = timedelta(hours=1)
ETCD, ETCD_SOURCE = "juicefs-meta", BY_NAME["etcd_server_has_leader"].source
_MEMBER = f'{{job="{ETCD}", instance="juicefs-meta-0:2381"}}'


def _metadata_engine_rules() -> list[AlertRule]:
    member_labels = {"job": ETCD, "instance": "juicefs-meta-0:2381"}
    return [
        AlertRule(
            "MetadataEngineMemberDown", f'up{{job="{ETCD}"}} == 0', "5m", "warning",
            "JuiceFS metadata member {{ $labels.instance }} is not answering scrapes",
            "the metadata engine: find the member's pod and node; two of three keep the filesystem up",
            "the prometheus receiver's up series per target",
            Example({f"up{_MEMBER}": "1 1 0x10"}, "10m", member_labels,
                    "JuiceFS metadata member juicefs-meta-0:2381 is not answering scrapes"),
            Example({f"up{_MEMBER}": "1x12"}, "10m")),
        AlertRule(
            "MetadataEngineNoLeader", f'etcd_server_has_leader{{job="{ETCD}"}} == 0', "1m", "critical",
            "JuiceFS metadata member {{ $labels.instance }} has no leader: every mount stalls",
            "the metadata engine: a lost quorum; bring a second member back before anything else", ETCD_SOURCE,
            Example({f"etcd_server_has_leader{_MEMBER}": "1 0x5"}, "5m", member_labels,
                    "JuiceFS metadata member juicefs-meta-0:2381 has no leader: every mount stalls"),
            Example({f"etcd_server_has_leader{_MEMBER}": "1x6"}, "5m")),
        AlertRule(
            "MetadataEngineNearQuota",
            f'etcd_mvcc_db_total_size_in_bytes{{job="{ETCD}"}} / etcd_server_quota_backend_bytes{{job="{ETCD}"}}'
            " > 0.8", "15m", "warning",
            "JuiceFS metadata member {{ $labels.instance }} holds {{ $value | humanizePercentage }} of its quota",
            "the metadata engine: compact and defragment, or raise --quota-backend-bytes",
            "server/storage/mvcc/metrics.go and server/storage/metrics.go@v3.6.14",
            Example({f"etcd_mvcc_db_total_size_in_bytes{_MEMBER}": "1900000000x20",
                     f"etcd_server_quota_backend_bytes{_MEMBER}": "2147483648x20"}, "20m", member_labels,
                    "JuiceFS metadata member juicefs-meta-0:2381 holds 88.48% of its quota"),
            Example({f"etcd_mvcc_db_total_size_in_bytes{_MEMBER}": "100000000x20",
                     f"etcd_server_quota_backend_bytes{_MEMBER}": "2147483648x20"}, "20m")),
    ]


K8S_CLUSTER_SOURCE = "receiver/k8sclusterreceiver internal/node/nodes.go@v0.149.0"
K8S_POD_PHASE_SOURCE = "receiver/k8sclusterreceiver internal/pod/pods.go@v0.149.0"
_NODE = '{k8s_node_name="pi-1"}'


def _node_rules() -> list[AlertRule]:
    node = {"k8s_node_name": "pi-1"}
    pressure = [
        AlertRule(
            f"Node{condition}", f"k8s_node_condition_{metric} == 1", "5m", "warning",
            f"Node {{{{ $labels.k8s_node_name }}}} reports {condition}: the kubelet evicts pods, experiments first",
            f"nodes: see what fills the node ({what}); experiments go first, then platform pods", K8S_CLUSTER_SOURCE,
            Example({f"k8s_node_condition_{metric}{_NODE}": "0 1x10"}, "10m", node,
                    f"Node pi-1 reports {condition}: the kubelet evicts pods, experiments first"),
            Example({f"k8s_node_condition_{metric}{_NODE}": "0x10"}, "10m"))
        for condition, metric, what in (("MemoryPressure", "memory_pressure", "memory"),
                                        ("DiskPressure", "disk_pressure", "EPHEMERAL or the user volume"))]
    return [
        AlertRule(
            "NodeNotReady", "k8s_node_condition_ready != 1", "5m", "critical",
            "Node {{ $labels.k8s_node_name }} is not Ready",
            "nodes: power, network, then `talosctl -n <node> health`; a dead Pi is replaced by name",
            K8S_CLUSTER_SOURCE,
            Example({f"k8s_node_condition_ready{_NODE}": "1 0x10"}, "10m", node, "Node pi-1 is not Ready"),
            Example({f"k8s_node_condition_ready{_NODE}": "1x10"}, "10m")),
        *pressure,
    ]


VELERO_SOURCE = BY_NAME["velero_backup_last_successful_timestamp"].source


def _backup_rules(schedule: str, settings: BackupSettings) -> list[AlertRule]:
    allowed = longest_gap(settings.schedule) + BACKUP_SLACK
    hours = int(allowed.total_seconds() // 3600)
    labels = {"schedule": schedule}
    stale_at, samples = f"{hours + 2}h", (hours + 3) * 60
    return [
        AlertRule(
            "BackupStale",
            f'time() - velero_backup_last_successful_timestamp{{schedule="{schedule}"}} > '
            f"{int(allowed.total_seconds())}",
            "10m", "critical",
            f"Velero schedule {{{{ $labels.schedule }}}} has not succeeded for over {hours}h (it runs "
            f"'{settings.schedule}')",
            "backups: `velero backup describe` the newest backup of the schedule; the location's key and bucket",
            VELERO_SOURCE,
            # The last success at t=0, and the clock runs on past what the schedule allows.
            Example({f'velero_backup_last_successful_timestamp{{schedule="{schedule}"}}': f"0+0x{samples}"}, stale_at,
                    labels, f"Velero schedule {schedule} has not succeeded for over {hours}h (it runs "
                            f"'{settings.schedule}')"),
            # A success recorded every minute.
            Example({f'velero_backup_last_successful_timestamp{{schedule="{schedule}"}}': f"0+60x{samples}"},
                    stale_at)),
        AlertRule(
            "BackupFailed", f'increase(velero_backup_failure_total{{schedule="{schedule}"}}[1h]) > 0', "0m", "warning",
            "A backup of Velero schedule {{ $labels.schedule }} failed in the last hour",
            "backups: `velero backup logs` of the failed backup", VELERO_SOURCE,
            Example({f'velero_backup_failure_total{{schedule="{schedule}"}}': "0x30 1x30"}, "40m", labels,
                    f"A backup of Velero schedule {schedule} failed in the last hour"),
            Example({f'velero_backup_failure_total{{schedule="{schedule}"}}': "0x60"}, "40m")),
    ]


CERT_MANAGER_SOURCE = BY_NAME["certmanager_certificate_ready_status"].source
# cert-manager renews at two thirds of a certificate's life (a 90-day one 30 days before it ends): two weeks left
# means renewal has failed for two weeks.
CERTIFICATE_WARNING = timedelta(days=14)
_CERTIFICATE = '{name="juicefs-meta-server", namespace="storage"}'


def _certificate_rules() -> list[AlertRule]:
    labels = {"name": "juicefs-meta-server", "namespace": "storage"}
    seconds = int(CERTIFICATE_WARNING.total_seconds())
    return [
        AlertRule(
            "CertificateExpiringSoon",
            # The time left is the value (an unset expiry is 0, not a certificate about to end).
            f"certmanager_certificate_expiration_timestamp_seconds - time() < {seconds} and "
            "certmanager_certificate_expiration_timestamp_seconds > 0", "1h", "warning",
            "Certificate {{ $labels.namespace }}/{{ $labels.name }} expires in {{ $value | humanizeDuration }} "
            "and has not been renewed",
            "certificates: `kubectl describe certificate` and its CertificateRequest; the issuer's status",
            CERT_MANAGER_SOURCE,
            # Expiring at 10 days (864000 s) from t=0.
            Example({f"certmanager_certificate_expiration_timestamp_seconds{_CERTIFICATE}": "864000x120"}, "2h",
                    labels, "Certificate storage/juicefs-meta-server expires in 9d 22h 0m 0s and has not "
                            "been renewed"),
            Example({f"certmanager_certificate_expiration_timestamp_seconds{_CERTIFICATE}": "7776000x120"}, "2h")),
        AlertRule(
            "CertificateNotReady", 'certmanager_certificate_ready_status{condition="False"} == 1', "30m", "warning",
            "Certificate {{ $labels.namespace }}/{{ $labels.name }} is not Ready",
            "certificates: `kubectl describe certificate`; the issuer's status", CERT_MANAGER_SOURCE,
            Example({'certmanager_certificate_ready_status{name="juicefs-meta-server", namespace="storage", '
                     'condition="False"}': "1x40"}, "40m", {**labels, "condition": "False"},
                    "Certificate storage/juicefs-meta-server is not Ready"),
            Example({'certmanager_certificate_ready_status{name="juicefs-meta-server", namespace="storage", '
                     'condition="False"}': "0x40"}, "40m")),
    ]


ARGO_CD_SOURCE = BY_NAME["argocd_app_info"].source


def _gitops_rules() -> list[AlertRule]:
    app = '{name="production-home-assistant", project="production"'
    return [AlertRule(
        "ArgoCDAppDegraded", 'argocd_app_info{health_status="Degraded"} == 1', "15m", "warning",
        "Argo CD application {{ $labels.name }} ({{ $labels.project }}) is Degraded",
        "apps: `argocd app get` the application; the events of its Degraded resources", ARGO_CD_SOURCE,
        Example({f'argocd_app_info{app}, health_status="Degraded"}}': "1x30"}, "20m",
                {"name": "production-home-assistant", "project": "production", "health_status": "Degraded"},
                "Argo CD application production-home-assistant (production) is Degraded"),
        Example({f'argocd_app_info{app}, health_status="Healthy"}}': "1x30"}, "20m"))]


@dataclass(frozen=True)
class ProductionVms:
    """The production cluster's VMs: the namespace their launcher pods run in, and how many there should be."""

    namespace: str
    count: int


def _production_rule(production: ProductionVms) -> AlertRule:
    launchers = f'k8s_namespace_name="{production.namespace}", {LAUNCHER_PODS}'
    summary = f"Only {{{{ $value }}}} of production's {production.count} VMs are running"

    def pods(phases: list[int]) -> dict[str, str]:
        return {f'k8s_pod_phase{{k8s_namespace_name="{production.namespace}", '
                f'k8s_pod_name="virt-launcher-production-{index}-x"}}': f"{phase}x20"
                for index, phase in enumerate(phases)}

    return AlertRule(
        "ProductionVMsNotRunning",
        f"(count(k8s_pod_phase{{{launchers}}} == 2) or vector(0)) < {production.count}", "10m", "critical",
        summary, "production: `kubectl get vmi -n production`; a Pending launcher is waiting for room, which "
                 "experiments should have given up", K8S_POD_PHASE_SOURCE,
        # One launcher back in Pending (phase 1).
        Example(pods([2] * (production.count - 1) + [1]), "15m", {},
                summary.replace("{{ $value }}", str(production.count - 1))),
        Example(pods([2] * production.count), "15m"))


def alert_rules(backups: BackupSettings, backup_schedule: str,
                production: ProductionVms | None = None) -> list[AlertRule]:
    tasks = [*TASKS, *((etcd_snapshot_task(backups.etcd),) if backups.etcd else ())]
    return [*_node_rules(), *_metadata_engine_rules(), *_backup_rules(backup_schedule, backups),
            *(task_rule(task) for task in tasks), *_certificate_rules(), *_gitops_rules(),
            *((_production_rule(production),) if production else ())]


