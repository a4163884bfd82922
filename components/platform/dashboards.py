"""The lab's Grafana dashboards as code: what a person opens to see the nodes, the plan, the network, the VMs,
storage, backups, Argo CD, and the way into logs and traces.

Every panel reads metrics that a component of this program collects (components/platform/metric_catalogue.py:
the agent's kubelet receiver, the gateway's cluster receiver and scrapes, and the jobs' own success gauge),
under their names in Mimir. The capacity dashboard sets live requests beside the program's own plan for this
inventory, so the budget ``labctl capacity`` prints is the line the cluster is measured against.

Not shown: a Pi's temperature. Talos exposes the SoC's thermal zone only in sysfs, no receiver here reads it,
and an exporter on every node would cost memory the budget keeps for VMs (README, Dashboards).
"""

from collections.abc import Callable
from dataclasses import dataclass

from components.capacity import Amount, Budget
from components.platform.dashboard_panels import Dashboard, Panel, Query
from components.platform.etcd_backup import TASK as ETCD_TASK
from components.platform.replication import CHECK_TASK, CHECK_WINDOW, COPY_TASK, COPY_WINDOW
from components.platform.task_metrics import last, metric
from components.platform.virtualization import LAUNCHER_PODS as LAUNCHERS

NODE = "{{k8s_node_name}}"
NAMESPACE = "{{k8s_namespace_name}}"
ETCD = 'job="juicefs-meta"'
MIB = 2**20


def _nodes() -> Dashboard:
    return Dashboard("homelab-nodes", "Nodes (Talos)", "Each Pi's CPU, memory, disk and network, from its kubelet.", (
        Panel("CPU in use", (Query("sum by (k8s_node_name) (k8s_node_cpu_usage)", NODE),),
              ("k8s_node_cpu_usage",), unit="short", note="Cores busy on each node."),
        Panel("Memory in use (working set)", (Query("k8s_node_memory_working_set", NODE),),
              ("k8s_node_memory_working_set",), unit="bytes"),
        Panel("Memory available", (Query("k8s_node_memory_available", NODE),),
              ("k8s_node_memory_available",), unit="bytes",
              note="What the kubelet counts before it evicts pods (experiments first)."),
        Panel("Disk used (EPHEMERAL)",
              (Query("k8s_node_filesystem_usage / k8s_node_filesystem_capacity", NODE),),
              ("k8s_node_filesystem_usage", "k8s_node_filesystem_capacity"), unit="percentunit"),
        Panel("Network", (Query("sum by (k8s_node_name, direction) (rate(k8s_node_network_io[5m]))",
                                "{{k8s_node_name}} {{direction}}"),),
              ("k8s_node_network_io",), unit="Bps", width=16),
        # The receiver reports Ready as 1, not Ready as 0 and Unknown (a dead Pi) as -1.
        Panel("Nodes Ready", (Query("count(k8s_node_condition_ready == 1)", "ready"),
                              Query("count(k8s_node_condition_ready)", "nodes")),
              ("k8s_node_condition_ready",), kind="stat", width=8, instant=True),
    ))


@dataclass(frozen=True)
class _Resource:
    """One resource the plan budgets, as the cluster receiver's metrics and the plan's amounts name it."""

    title: str
    metric: str  # k8s_container_<metric>_request, k8s_node_allocatable_<metric>
    unit: str
    amount: Callable[[Amount], float]


RESOURCES = (_Resource("Memory", "memory", "bytes", lambda amount: amount.memory_mib * MIB),
             _Resource("CPU", "cpu", "short", lambda amount: amount.cpu_m / 1000))


def live(selector: str) -> str:
    """``selector``'s series of pods still Pending or Running: the receiver reports the requests of every pod it
    sees, finished Jobs' too, which hold nothing."""
    return f"({selector} and on (k8s_namespace_name, k8s_pod_name) k8s_pod_phase < 3)"


def _per_node(resource: _Resource) -> Panel:
    request, allocatable = f"k8s_container_{resource.metric}_request", f"k8s_node_allocatable_{resource.metric}"
    return Panel(f"{resource.title} requested, per node", (Query(
        f"sum by (k8s_node_name) {live(request)} / on (k8s_node_name) sum by (k8s_node_name) ({allocatable})",
        NODE),), (request, allocatable, "k8s_pod_phase"), unit="percentunit")


def _against_plan(resource: _Resource, budget: Budget) -> Panel:
    request, allocatable = f"k8s_container_{resource.metric}_request", f"k8s_node_allocatable_{resource.metric}"
    planned = (("plan: Kubernetes + platform (and its jobs) + production", budget.reserved),
               ("plan with the experiments' quotas", budget.reserved + budget.experiment_quota),
               ("plan: allocatable", budget.allocatable))
    return Panel(f"{resource.title}: requested now and the plan", (
        Query(f"sum{live(request)}", "requested now"), Query(f"sum({allocatable})", "allocatable"),
        *(Query(f"vector({resource.amount(amount)})", legend) for legend, amount in planned)),
        (request, allocatable, "k8s_pod_phase"), unit=resource.unit,
        note="The plan's lines are this inventory's budget as the program computed it at `pulumi up`; its "
             "allocatable differing from the nodes' own means the plan's assumptions about the boards are off.")


def _capacity(budget: Budget) -> Dashboard:
    return Dashboard(
        "homelab-capacity", "Kubernetes and the capacity plan",
        "Requests against what the nodes can give, beside the program's budget for this inventory.", (
            *(_per_node(resource) for resource in RESOURCES),
            *(_against_plan(resource, budget) for resource in RESOURCES),
            Panel("Memory requested, by namespace",
                  (Query(f"topk(10, sum by (k8s_namespace_name) {live('k8s_container_memory_request')})",
                         NAMESPACE),),
                  ("k8s_container_memory_request", "k8s_pod_phase"), unit="bytes"),
            Panel("Pods running, per node", (Query("count by (k8s_node_name) (k8s_pod_phase == 2)", NODE),),
                  ("k8s_pod_phase",), note="Phase 2 is Running."),
            Panel("Containers that have restarted",
                  (Query("k8s_container_restarts > 0", "{{k8s_namespace_name}}/{{k8s_pod_name}}"),),
                  ("k8s_container_restarts",), kind="table", width=24, instant=True),
        ))


def _cilium() -> Dashboard:
    return Dashboard("homelab-cilium", "Cilium", "The agents on every node: endpoints, drops, forwarding, maps.", (
        Panel("Endpoints by state", (Query("sum by (endpoint_state) (cilium_endpoint_state)", "{{endpoint_state}}"),),
              ("cilium_endpoint_state",)),
        Panel("Dropped packets, by reason",
              (Query("sum by (reason, direction) (rate(cilium_drop_count_total[5m]))", "{{reason}} {{direction}}"),),
              ("cilium_drop_count_total",), unit="pps",
              note="Policy denials show here first: a NetworkPolicy stopping what it should, or what it should not."),
        Panel("Forwarded packets", (Query("sum by (direction) (rate(cilium_forward_count_total[5m]))",
                                          "{{direction}}"),),
              ("cilium_forward_count_total",), unit="pps"),
        Panel("BPF map pressure", (Query("max by (map_name) (cilium_bpf_map_pressure)", "{{map_name}}"),),
              ("cilium_bpf_map_pressure",), unit="percentunit"),
        Panel("Unreachable nodes, as each agent sees them",
              (Query("max by (k8s_node_name) (cilium_unreachable_nodes)", NODE),),
              ("cilium_unreachable_nodes",), kind="stat", instant=True),
        Panel("Agents answering", (Query('up{job="cilium-agent"}', NODE),), ("up",), kind="stat", instant=True),
    ))


def _vms(production_namespace: str | None) -> Dashboard:
    launchers = live(f"k8s_container_memory_request{{{LAUNCHERS}}}")
    production = live(f'k8s_container_memory_request{{{LAUNCHERS}, k8s_namespace_name="{production_namespace}"}}')
    share = () if production_namespace is None else (Panel("Production's share of VM memory requests", (Query(
        f"sum{production} / sum{launchers}", "production"),),
        ("k8s_container_memory_request", "k8s_pod_phase"), unit="percentunit", kind="stat", width=24, instant=True),)
    return Dashboard(
        "homelab-vms", "KubeVirt VMs per guest cluster",
        "Each guest cluster's VMs are launcher pods in its own namespace: production against the experiments.", (
            Panel("VMs running", (Query(f"count by (k8s_namespace_name) (k8s_pod_phase{{{LAUNCHERS}}} == 2)",
                                        NAMESPACE),),
                  ("k8s_pod_phase",), note="A VM is running when its launcher pod is (phase 2)."),
            Panel("VMs waiting for room", (Query(f"count by (k8s_namespace_name) (k8s_pod_phase{{{LAUNCHERS}}} == 1)",
                                                 NAMESPACE),),
                  ("k8s_pod_phase",), note="Pending launchers: experiments wait, production never should."),
            Panel("VM memory in use", (Query(f"sum by (k8s_namespace_name) (k8s_pod_memory_working_set{{{LAUNCHERS}}})",
                                             NAMESPACE),),
                  ("k8s_pod_memory_working_set",), unit="bytes"),
            Panel("VM CPU in use", (Query(f"sum by (k8s_namespace_name) (k8s_pod_cpu_usage{{{LAUNCHERS}}})",
                                          NAMESPACE),),
                  ("k8s_pod_cpu_usage",), unit="short"),
            *share,
        ))


def _storage() -> Dashboard:
    return Dashboard("homelab-storage", "Storage", "The object store, the shared filesystem and its metadata engine.", (
        Panel("Object store: usable capacity used", (Query(
            "1 - max(minio_cluster_capacity_usable_free_bytes) / max(minio_cluster_capacity_usable_total_bytes)",
            "used"),),
            ("minio_cluster_capacity_usable_free_bytes", "minio_cluster_capacity_usable_total_bytes"),
            unit="percentunit", kind="stat", width=8, instant=True),
        Panel("Object store: drives", (Query("max(minio_cluster_drive_online_total)", "online"),
                                       Query("max(minio_cluster_drive_offline_total)", "offline")),
              ("minio_cluster_drive_online_total", "minio_cluster_drive_offline_total"), kind="stat", width=8,
              instant=True, note="Erasure coding keeps objects readable with a drive offline, not with many."),
        Panel("Object store: servers", (Query("max(minio_cluster_nodes_online_total)", "online"),
                                        Query("max(minio_cluster_nodes_offline_total)", "offline")),
              ("minio_cluster_nodes_online_total", "minio_cluster_nodes_offline_total"), kind="stat", width=8,
              instant=True),
        Panel("Object store: S3 requests", (Query("sum by (api) (rate(minio_s3_requests_total[5m]))", "{{api}}"),),
              ("minio_s3_requests_total",), unit="reqps"),
        Panel("JuiceFS: space used, per filesystem", (Query("max by (vol_name) (juicefs_used_space)", "{{vol_name}}"),),
              ("juicefs_used_space",), unit="bytes"),
        Panel("JuiceFS: files, per filesystem", (Query("max by (vol_name) (juicefs_used_inodes)", "{{vol_name}}"),),
              ("juicefs_used_inodes",)),
        Panel("JuiceFS: file operations", (Query(
            "sum by (vol_name) (rate(juicefs_fuse_ops_durations_histogram_seconds_count[5m]))", "{{vol_name}}"),),
            ("juicefs_fuse_ops_durations_histogram_seconds_count",), unit="ops"),
        Panel("Metadata engine: members with a leader", (Query(f"etcd_server_has_leader{{{ETCD}}}", "{{instance}}"),),
              ("etcd_server_has_leader",), kind="stat", instant=True,
              note="Every mount stalls without a leader; two of three members keep one."),
        Panel("Metadata engine: database against its quota", (Query(
            f"etcd_mvcc_db_total_size_in_bytes{{{ETCD}}} / etcd_server_quota_backend_bytes{{{ETCD}}}",
            "{{instance}}"),),
            ("etcd_mvcc_db_total_size_in_bytes", "etcd_server_quota_backend_bytes"), unit="percentunit"),
        Panel("Metadata engine: WAL fsync, 99th percentile", (Query(
            f"histogram_quantile(0.99, sum by (le, instance) (rate(etcd_disk_wal_fsync_duration_seconds_bucket"
            f"{{{ETCD}}}[5m])))", "{{instance}}"),),
            ("etcd_disk_wal_fsync_duration_seconds_bucket",), unit="s", note="A slow SSD shows here first."),
        Panel("Metadata engine: leader changes in the last hour", (Query(
            f"increase(etcd_server_leader_changes_seen_total{{{ETCD}}}[1h])", "{{instance}}"),),
            ("etcd_server_leader_changes_seen_total",), width=24),
    ))


def _backups() -> Dashboard:
    def since(task: str, window: str) -> str:
        return f"time() - {last('success', task, window)}"

    reported = (metric("success"),)

    return Dashboard(
        "homelab-backups", "Backups",
        "Velero's schedules, the hourly off-site copy of the storage layer, and its weekly restore check.", (
            Panel("Since the last successful Velero backup",
                  (Query("time() - velero_backup_last_successful_timestamp", "{{schedule}}"),),
                  ("velero_backup_last_successful_timestamp",), unit="s", kind="stat", instant=True),
            Panel("Velero backups in the last day", (
                Query("sum by (schedule) (increase(velero_backup_success_total[1d]))", "{{schedule}} succeeded"),
                Query("sum by (schedule) (increase(velero_backup_failure_total[1d]))", "{{schedule}} failed")),
                ("velero_backup_success_total", "velero_backup_failure_total"), kind="stat", instant=True),
            Panel("Since the last off-site copy", (Query(since(COPY_TASK, COPY_WINDOW), "off-site copy"),),
                  reported, unit="s", kind="stat", instant=True, empty=f"none in {COPY_WINDOW}",
                  note="The copy runs hourly and reports only when every step passed."),
            Panel("Since the restore check last passed", (Query(since(CHECK_TASK, CHECK_WINDOW), "restore check"),),
                  reported, unit="s", kind="stat", instant=True, empty=f"none in {CHECK_WINDOW}",
                  note="Weekly: the newest dump loaded and fsck'd against the off-site bucket."),
            Panel("Since the last etcd snapshot", (Query(since(ETCD_TASK, "7d"), "etcd snapshot"),),
                  reported, unit="s", kind="stat", instant=True, empty="none in 7d (or not configured)",
                  note="The infrastructure cluster's etcd, encrypted and sent off-site on its schedule."),
        ))


def _argocd() -> Dashboard:
    return Dashboard("homelab-argocd", "Argo CD", "What the guests' applications look like to Argo CD.", (
        Panel("Applications by health", (Query("count by (health_status) (argocd_app_info)", "{{health_status}}"),),
              ("argocd_app_info",)),
        Panel("Applications by sync status", (Query("count by (sync_status) (argocd_app_info)", "{{sync_status}}"),),
              ("argocd_app_info",)),
        Panel("Applications not Healthy or not Synced", (Query(
            'argocd_app_info{health_status!="Healthy"} or argocd_app_info{sync_status!="Synced"}',
            "{{name}} ({{project}})"),), ("argocd_app_info",), kind="table", instant=True),
        Panel("Syncs in the last hour, by result", (Query("sum by (phase) (increase(argocd_app_sync_total[1h]))",
                                                          "{{phase}}"),),
              ("argocd_app_sync_total",)),
    ))


def _logs_and_traces() -> Dashboard:
    streams = '{k8s_namespace_name=~".+"}'
    errors = f'{streams} |~ "(?i)(error|fail|panic)"'
    return Dashboard(
        "homelab-logs-traces", "Logs and traces", "Where to start looking: log volume and errors from Loki, failing "
        "spans from Tempo. Explore takes any of these queries further.", (
            Panel("Log lines, by namespace",
                  (Query(f"sum by (k8s_namespace_name) (count_over_time({streams}[5m]))", NAMESPACE),),
                  language="logql", note="Loki indexes k8s_namespace_name from the OTLP resource."),
            Panel("Lines that mention an error, by namespace",
                  (Query(f"sum by (k8s_namespace_name) (count_over_time({errors}[5m]))", NAMESPACE),),
                  language="logql"),
            Panel("Newest error lines", (Query(errors),), kind="logs", language="logql", width=24, height=10),
            Panel("Failed spans", (Query("{ status = error }"),), kind="table", language="traceql", width=24,
                  note="The newest traces with a span that ended in error."),
        ))


def dashboards(budget: Budget, production_namespace: str | None) -> tuple[Dashboard, ...]:
    return (_nodes(), _capacity(budget), _cilium(), _vms(production_namespace), _storage(), _backups(), _argocd(),
            _logs_and_traces())
