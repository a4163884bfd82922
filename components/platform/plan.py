"""The platform's plan, decided before anything is registered: every chart's values and the budget.

Deciding first means a plan that does not fit the boards is refused with the whole table before the
first resource exists, and the budget is computed from the very values dicts that are then registered.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from components.capacity import Budget, CapacityError, Demand, plan, pod_template_demand
from components.config import ClusterSettings, Node, PlatformSettings, Versions
from components.metal import control_plane
from components.platform import (
    backups,
    cluster_api,
    etcd_backup,
    exposure,
    gitops,
    metadata,
    metadata_tls,
    metrics_store,
    monitoring,
    replication,
    shared_fs,
    storage,
    talos_upgrade,
    telemetry,
    virtualization,
)
from components.platform.certificates import CERT_MANAGER_CHART, cert_manager_values
from components.platform.chart import ChartSpec
from components.platform.network import CILIUM_CHART, cilium_values

PLATFORM_CHARTS: dict[str, ChartSpec] = {
    spec.release: spec for spec in (CILIUM_CHART, CERT_MANAGER_CHART, cluster_api.OPERATOR_CHART,
                                    gitops.ARGO_CD_CHART, backups.VELERO_CHART, exposure.TAILSCALE_CHART,
                                    shared_fs.JUICEFS_CHART, telemetry.AGENT_CHART, telemetry.GATEWAY_CHART,
                                    monitoring.LOKI_CHART, monitoring.TEMPO_CHART, monitoring.GRAFANA_CHART)
}


@dataclass(frozen=True)
class ChartPlan:
    spec: ChartSpec
    values: dict[str, Any]

    def at(self, version: str) -> "ChartPlan":
        """The same chart and values at the version this stack runs (a per-stack override, or the pin)."""
        return replace(self, spec=replace(self.spec, version=version))


@dataclass(frozen=True)
class PlatformPlan:
    cluster: ClusterSettings
    nodes: tuple[Node, ...]
    charts: dict[str, ChartPlan]
    kubevirt: dict[str, Any]
    cdi: dict[str, Any]
    object_store: dict[str, Any]
    metadata_engine: dict[str, Any]
    metrics_store: dict[str, Any]
    budget: Budget

    @property
    def lan_links(self) -> list[str]:
        return sorted({node.lan_link for node in self.nodes})


def object_demands(kind: str, body: Mapping[str, Any], node_count: int, vm_host_count: int) -> list[Demand]:
    """What one registered object asks of the nodes: chart values, operator CR patches, provider deployments.

    The plan calls this on the bodies it is about to register, and synth and tests on what was registered,
    so the budget has one source.
    """
    if kind == "Release":
        return PLATFORM_CHARTS[body["name"]].demands(body["values"], node_count)
    if kind == "KubeVirt":
        spec = body["spec"]
        return virtualization.demands(spec["customizeComponents"]["patches"], vm_host_count, spec["infra"]["replicas"])
    if kind == "CDI":
        return virtualization.demands(body["spec"]["customizeComponents"]["patches"], node_count, replicas=1)
    if kind == "DaemonSet":
        return [pod_template_demand("platform", body["metadata"]["name"], body["spec"]["template"]["spec"],
                                    pods=node_count, per_node=True)]
    if kind in ("StatefulSet", "Deployment"):
        spec = body["spec"]
        return [pod_template_demand("platform", body["metadata"]["name"], spec["template"]["spec"],
                                    pods=int(spec.get("replicas", 1)))]
    if kind == "CronJob":
        # One pod of each: every scheduled job forbids a second concurrent run.
        return [pod_template_demand("scheduled", body["metadata"]["name"],
                                    body["spec"]["jobTemplate"]["spec"]["template"]["spec"], pods=1)]
    if kind == "Job" and body["metadata"].get("namespace") == talos_upgrade.NAMESPACE:
        # The Talos upgrade Jobs run one after another: one pod at a time, whichever node's it is.
        return [pod_template_demand("scheduled", talos_upgrade.NAMESPACE, body["spec"]["template"]["spec"], pods=1)]
    if kind == "ConfigFile":
        return virtualization.manifest_demands(body["file"])
    if kind in cluster_api.PROVIDER_KINDS:
        deployment = body["spec"]["deployment"]
        name = body["metadata"]["name"]
        return [pod_template_demand("platform", f"{kind}/{name}", {"containers": deployment["containers"]},
                                    pods=int(deployment["replicas"]))]
    return []


def scheduled_jobs(cluster: ClusterSettings, nodes: tuple[Node, ...], settings: PlatformSettings,
                   versions: Versions) -> list[tuple[str, dict[str, Any]]]:
    """The platform's CronJobs, and the Talos upgrade Job that runs at a time, as the budget sees them: their
    pods' requests do not depend on the bucket, region, filesystems or node they are given at `pulumi up`."""
    store = storage.object_store_endpoint()
    jobs = [(replication.JOB, replication.cronjob_spec(store, "", "", ())),
            (replication.CHECK, replication.check_spec("", "", ()))]
    if settings.backups.etcd is not None:
        jobs.append((etcd_backup.JOB, etcd_backup.cronjob_spec(settings.backups.etcd, "", "", cluster.name)))
    upgrade = ("Job", {"metadata": {"name": talos_upgrade.NAMESPACE, "namespace": talos_upgrade.NAMESPACE},
                       "spec": talos_upgrade.job_spec(nodes[0], versions.talos, "")})
    return [*(("CronJob", {"metadata": {"name": name}, "spec": spec}) for name, spec in jobs), upgrade]


def plan_platform(cluster: ClusterSettings, nodes: tuple[Node, ...], settings: PlatformSettings,
                  stack_versions: Versions, production: Sequence[Demand] = ()) -> PlatformPlan:
    """Every chart's values for this inventory, and the budget they add up to with the production cluster's
    reservation; raises CapacityError."""
    lan_links = sorted({node.lan_link for node in nodes})
    store = storage.object_store_endpoint()
    planned_charts = (
        ChartPlan(CILIUM_CHART, cilium_values(lan_links)),
        ChartPlan(CERT_MANAGER_CHART, cert_manager_values()),
        ChartPlan(cluster_api.OPERATOR_CHART, cluster_api.operator_values()),
        ChartPlan(gitops.ARGO_CD_CHART, gitops.argocd_values()),
        ChartPlan(backups.VELERO_CHART, backups.velero_values()),
        ChartPlan(exposure.TAILSCALE_CHART, exposure.tailscale_values(cluster.name)),
        ChartPlan(shared_fs.JUICEFS_CHART, shared_fs.juicefs_values()),
        ChartPlan(telemetry.AGENT_CHART, telemetry.agent_values()),
        ChartPlan(telemetry.GATEWAY_CHART, telemetry.gateway_values(
            monitoring.loki_url(), monitoring.tempo_otlp(), metrics_store.endpoint(telemetry.NAMESPACE))),
        ChartPlan(monitoring.LOKI_CHART, monitoring.loki_values(store)),
        ChartPlan(monitoring.TEMPO_CHART, monitoring.tempo_values(store)),
        ChartPlan(monitoring.GRAFANA_CHART, monitoring.grafana_values()),
    )
    charts = {chart.spec.release: chart.at(stack_versions.chart(chart.spec.release)) for chart in planned_charts}
    kubevirt, cdi = virtualization.kubevirt_spec(nodes), virtualization.cdi_spec()
    object_store = storage.minio_statefulset_spec(settings.object_store)
    metadata_engine = metadata.etcd_statefulset_spec()
    metrics = metrics_store.statefulset_spec(store, metrics_store.USER.secret)
    planned: list[tuple[str, dict[str, Any]]] = [
        *(("Release", {"name": release, "values": chart.values}) for release, chart in charts.items()),
        ("KubeVirt", {"spec": kubevirt}),
        ("CDI", {"spec": cdi}),
        *(("ConfigFile", {"file": operator.url}) for operator in virtualization.OPERATORS),
        ("StatefulSet", {"metadata": {"name": storage.MINIO}, "spec": object_store}),
        ("StatefulSet", {"metadata": {"name": metadata.ETCD}, "spec": metadata_engine}),
        ("DaemonSet", {"metadata": {"name": metadata_tls.CLIENT_FILES_SYNC},
                       "spec": metadata_tls.client_files_daemonset_spec()}),
        ("StatefulSet", {"metadata": {"name": metrics_store.NAME}, "spec": metrics}),
        *((p.kind, {"metadata": {"name": p.name}, "spec": cluster_api.provider_spec(p)})
          for p in cluster_api.PROVIDERS),
        *scheduled_jobs(cluster, nodes, settings, stack_versions),
    ]
    vm_hosts = len(virtualization.vm_hosts(nodes))
    demands = [*control_plane.demands(nodes), *production,
               *(d for kind, body in planned for d in object_demands(kind, body, len(nodes), vm_hosts))]
    budget = plan(nodes, cluster, demands)
    if budget.problems():
        raise CapacityError(budget)
    return PlatformPlan(cluster, nodes, charts, kubevirt, cdi, object_store, metadata_engine, metrics, budget)
