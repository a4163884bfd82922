"""Alert rules as code: what should wake the owner, evaluated by Mimir's ruler from the file promtool tests.

Each rule reads a metric some component of this program really exports, under the name it has in Mimir: the
gateway scrapes the platform services' own Prometheus endpoints (components/platform/scrapes.py; the receiver
keeps their names, and Mimir adds no suffixes to OTLP names, ``-distributor.otel-metric-suffixes-enabled``
false at mimir-2.17.2 pkg/util/validation/limits.go), and the gateway's Kubernetes cluster receiver reports
node conditions, whose node name Mimir keeps as a label because the program promotes it
(``promote_otel_resource_attributes``; components/platform/metrics_store.py). The source of each metric is
cited beside its rule.

Every rule carries two examples, a series it must fire on and one it must stay silent on; the upstream tier
turns them into ``promtool test rules`` cases against the very rule file the ruler loads.
"""

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import yaml
from croniter import croniter

from components.config import BackupSettings, EtcdBackupSettings
from components.platform import etcd_backup, replication, task_metrics
from components.platform.metric_catalogue import BY_NAME
from components.platform.virtualization import LAUNCHER_PODS

GROUP = "homelab"
RULES_FILE = f"{GROUP}.yaml"
EVALUATION_INTERVAL = "1m"
Severity = Literal["critical", "warning"]
RUNBOOK = "README.md#alerts"


@dataclass(frozen=True)
class Example:
    """A promtool case: ``series`` (selector → values, one sample per minute) evaluated at ``at``; when the rule
    fires, the alert's own labels (besides severity) and its rendered summary."""

    series: Mapping[str, str]
    at: str
    labels: Mapping[str, str] = field(default_factory=dict)
    summary: str = ""


@dataclass(frozen=True)
class AlertRule:
    alert: str
    expr: str
    wait: str  # the rule's ``for``
    severity: Severity
    summary: str
    runbook: str
    source: str  # where the metric is defined, file@tag
    fires: Example
    silent: Example

    def rule(self) -> dict[str, Any]:
        return {"alert": self.alert, "expr": self.expr, "for": self.wait, "labels": {"severity": self.severity},
                "annotations": {"summary": self.summary, "runbook": f"{RUNBOOK} ({self.runbook})"}}


def _period(schedule: str) -> timedelta:
    """How long the schedule takes to repeat itself: a day when it names no day or month, a week when it names
    only weekdays, else (at most) the four years of the leap-year cycle."""
    _, _, day, month, weekday = schedule.split()
    if day == month == "*":
        return timedelta(days=1) if weekday == "*" else timedelta(days=7)
    return timedelta(days=4 * 365 + 1)


@functools.lru_cache(maxsize=64)
def longest_gap(schedule: str, start: datetime | None = None) -> timedelta:
    """The longest time between two runs of a five-field cron ``schedule``, over two of its periods (so the gap
    across a period's end counts too)."""
    begin = start or datetime(2026, 1, 1, tzinfo=UTC)
    runs = croniter(schedule, begin)
    previous, gap = runs.get_next(datetime), timedelta(0)
    while previous < begin + 2 * _period(schedule):
        current = runs.get_next(datetime)
        gap, previous = max(gap, current - previous), current
    return gap


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


TASK_SOURCE = BY_NAME[task_metrics.metric("success")].source
DAY_SECONDS = 86400


@dataclass(frozen=True)
class Task:
    """A scheduled job of the program that reports its start and success (components/platform/task_metrics.py)."""

    alert: str
    task: str
    what: str
    schedule: str
    window: str
    run_limit: timedelta  # how long one run may take
    runbook: str
    service: str = replication.JOB  # the job that reports it (its ``job`` label)


TASKS = (
    # The first copy of a full lab to the cloud may take hours; later ones move only what changed.
    Task("OffsiteCopyFailing", replication.COPY_TASK, "The off-site copy of the storage layer", replication.SCHEDULE,
         replication.COPY_WINDOW, timedelta(hours=3),
         "backups: the newest `offsite-replication` Job's logs in `storage`, step by step (dump, chunks, dumps)"),
    Task("OffsiteRestoreCheckFailing", replication.CHECK_TASK, "The weekly restore check of the off-site copy",
         replication.CHECK_SCHEDULE, replication.CHECK_WINDOW, timedelta(hours=6),
         "backups: the newest `offsite-restore-check` Job's logs in `storage`; a failed fsck names the missing "
         "blocks"),
)


def _task_rule(task: Task) -> AlertRule:
    limit = int(task.run_limit.total_seconds())
    allowed = int((longest_gap(task.schedule) + task.run_limit).total_seconds())
    labels = {"job": task.service, "task": task.task}
    selector = f'{{job="{task.service}", task="{task.task}"}}'
    start, success = task_metrics.metric("start") + selector, task_metrics.metric("success") + selector
    summary = f"{task.what} is failing: no success for over {allowed // 3600}h"
    expr = (f"{task_metrics.stale(task.task, task.window, allowed)} or "
            f"({task_metrics.never_succeeded(task.task, task.window, limit)})")
    if allowed <= DAY_SECONDS:
        # Forty minutes past what is allowed (and the rule's ``for``): a success ten minutes in, then none; and
        # another half an hour before the evaluation.
        at_minute = allowed // 60 + 40
        fires = Example({success: f"_x10 600 _x{at_minute}"}, f"{at_minute}m", labels, summary)
        silent = Example({success: f"_x10 600 _x{at_minute - 41} {(at_minute - 30) * 60} _x40"}, f"{at_minute}m")
    else:
        # A week of samples a minute apart would make promtool evaluate every rule ten thousand times: a longer
        # schedule's cases take the other branch, which the same functions build (the stale branch is the
        # copy's case): a first run at minute one that never succeeds, and one that succeeds at minute twenty.
        at_minute = limit // 60 + 40
        fires = Example({start: f"_ 60 _x{at_minute}"}, f"{at_minute}m", labels, summary)
        silent = Example({start: f"_ 60 _x{at_minute}", success: f"_x20 1200 _x{at_minute}"}, f"{at_minute}m")
    return AlertRule(task.alert, expr, "15m", "critical", summary, task.runbook, TASK_SOURCE, fires, silent)


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


def etcd_snapshot_task(settings: EtcdBackupSettings) -> Task:
    return Task("EtcdSnapshotFailing", etcd_backup.TASK, "The infrastructure cluster's etcd snapshot",
                settings.schedule, "7d", timedelta(hours=1),
                "backups: the newest `etcd-backup` Job's logs in `etcd-backup`; the talos.dev ServiceAccount's "
                "status names a refused role", service=etcd_backup.JOB)


def alert_rules(backups: BackupSettings, backup_schedule: str,
                production: ProductionVms | None = None) -> list[AlertRule]:
    tasks = [*TASKS, *((etcd_snapshot_task(backups.etcd),) if backups.etcd else ())]
    return [*_node_rules(), *_metadata_engine_rules(), *_backup_rules(backup_schedule, backups),
            *(_task_rule(task) for task in tasks), *_certificate_rules(), *_gitops_rules(),
            *((_production_rule(production),) if production else ())]


def rule_file(rules: list[AlertRule]) -> dict[str, Any]:
    return {"groups": [{"name": GROUP, "interval": EVALUATION_INTERVAL, "rules": [r.rule() for r in rules]}]}


def rule_file_text(rules: list[AlertRule]) -> str:
    """The rule file exactly as the ruler reads it and promtool checks it."""
    return yaml.safe_dump(rule_file(rules), sort_keys=False, width=1000)


def _case(rule: AlertRule, example: Example, fires: bool) -> dict[str, Any]:
    expected = [{"exp_labels": {**example.labels, "severity": rule.severity},
                 "exp_annotations": {"summary": example.summary, "runbook": rule.rule()["annotations"]["runbook"]}}]
    return {"interval": "1m",
            "input_series": [{"series": series, "values": values} for series, values in example.series.items()],
            "alert_rule_test": [{"eval_time": example.at, "alertname": rule.alert,
                                 "exp_alerts": expected if fires else []}]}


def unit_tests(rules: list[AlertRule], rule_file_name: str = RULES_FILE) -> dict[str, Any]:
    """``promtool test rules`` input: each rule's firing and silent example."""
    return {"rule_files": [rule_file_name], "evaluation_interval": EVALUATION_INTERVAL,
            "tests": [case for rule in rules for case in (_case(rule, rule.fires, True),
                                                          _case(rule, rule.silent, False))]}
