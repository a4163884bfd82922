"""The dashboards Grafana provisions: built with the foundation SDK, each panel citing metrics the program
really collects. The upstream tier parses and evaluates every query with the real parsers."""

import json

import pytest
import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard as DashboardModel

from components.capacity import Budget
from components.platform import dashboard_panels, dashboards, metric_catalogue, monitoring, scrapes, telemetry
from components.platform.replication import CHECK_TASK, COPY_TASK
from components.platform.task_metrics import TASK_ATTRIBUTE

BOARDS = dashboards.dashboards(Budget(nodes=[]), "production")
PANELS = [(board, panel) for board in BOARDS for panel in board.panels]


def _provisioned(prod) -> dict[str, dict]:
    data = prod.one("kubernetes:core/v1:ConfigMap", monitoring.DASHBOARDS_CONFIG_MAP).inputs["data"]
    return {name: json.loads(text) for name, text in data.items()}


def test_grafana_provisions_every_dashboard_from_its_config_map(prod):
    provisioned = _provisioned(prod)
    assert {model["title"] for model in provisioned.values()} == {
        "Nodes (Talos)", "Kubernetes and the capacity plan", "Cilium", "KubeVirt VMs per guest cluster", "Storage",
        "Backups", "Argo CD", "Logs and traces"}
    assert all(name == f"{model['uid']}.json" for name, model in provisioned.items())
    values = prod.one("kubernetes:helm.sh/v3:Release", "grafana").inputs["values"]
    (provider,) = values["dashboardProviders"]["dashboardproviders.yaml"]["providers"]
    assert provider["type"] == "file" and provider["options"]["path"].endswith(f"/{provider['name']}")
    assert values["dashboardsConfigMaps"] == {provider["name"]: monitoring.DASHBOARDS_CONFIG_MAP}
    grafana = prod.one("kubernetes:helm.sh/v3:Release", "grafana")
    config_map = prod.one("kubernetes:core/v1:ConfigMap", monitoring.DASHBOARDS_CONFIG_MAP)
    assert config_map.urn in grafana.dependencies, "Grafana starts with its dashboards' volume there"


def _round_trip(model: dict) -> dict:
    return json.loads(json.dumps(DashboardModel.from_json(model), cls=JSONEncoder))


def test_every_provisioned_dashboard_is_exactly_what_the_sdk_types_hold(prod):
    for name, model in _provisioned(prod).items():
        assert _round_trip(model) == model, name
    # A field the schema does not have is lost on the way, so the comparison can fail.
    model = next(iter(_provisioned(prod).values()))
    misspelt = {**model, "panels": [{**model["panels"][0], "gridPosition": {"h": 1}}, *model["panels"][1:]]}
    assert _round_trip(misspelt) != misspelt


def test_every_panel_reads_a_data_source_grafana_has():
    uids = {source["uid"]: source["type"] for source in monitoring.datasources()}
    for board in BOARDS:
        for panel in dashboard_panels.build(board)["panels"]:
            if panel["type"] != "text":
                assert uids[panel["datasource"]["uid"]] == panel["datasource"]["type"], panel["title"]


@pytest.mark.parametrize(("board", "panel"), PANELS, ids=[f"{b.uid}:{p.title}" for b, p in PANELS])
def test_every_panel_cites_where_each_metric_it_reads_is_defined(board, panel):
    if panel.language != "promql":
        assert panel.reads == ()
        return
    assert panel.reads, "a metrics panel names what it reads"
    for name in panel.reads:
        metric = metric_catalogue.BY_NAME[name]
        assert f"{name} ({metric.source})" in panel.description


def _collectors(prod) -> set[str]:
    agent = prod.one("kubernetes:helm.sh/v3:Release", telemetry.AGENT).inputs["values"]
    gateway = prod.one("kubernetes:helm.sh/v3:Release", telemetry.GATEWAY).inputs["values"]
    found = {job["job_name"] for job in gateway["config"]["receivers"]["prometheus"]["config"]["scrape_configs"]}
    if agent["presets"]["kubeletMetrics"]["enabled"]:
        found.add("kubeletstats")
    if gateway["presets"]["clusterMetrics"]["enabled"]:
        found.add("k8s_cluster")
    return found | {"scrape"}


def test_every_catalogued_metric_has_a_collector_the_program_configures(prod):
    collectors = _collectors(prod) | {"pushed"}
    assert {metric.collector for metric in metric_catalogue.METRICS} <= collectors
    assert {scrape.job for scrape in scrapes.SCRAPES} <= collectors
    gateway = prod.one("kubernetes:helm.sh/v3:Release", telemetry.GATEWAY).inputs["values"]
    cluster = gateway["config"]["receivers"]["k8s_cluster"]
    # The per-condition and per-resource metrics exist only for what the receiver is told to report.
    for metric in metric_catalogue.METRICS:
        if metric.name.startswith("k8s_node_condition_"):
            condition = metric.name.removeprefix("k8s_node_condition_").replace("_", "")
            assert condition in {c.lower() for c in cluster["node_conditions_to_report"]}, metric.name
        if metric.name.startswith("k8s_node_allocatable_"):
            assert metric.name.removeprefix("k8s_node_allocatable_") in cluster["allocatable_types_to_report"]


def test_the_kubernetes_receivers_series_keep_the_pod_and_container_apart(prod):
    """They carry no service.name, so no job or instance label: Mimir must promote the names that make each
    pod's and container's series its own (the panels group by them too)."""
    mimir = yaml.safe_load(prod.one("kubernetes:core/v1:ConfigMap", "mimir-config").inputs["data"]["mimir.yaml"])
    promoted = set(mimir["limits"]["promote_otel_resource_attributes"].split(","))
    assert {"k8s.node.name", "k8s.namespace.name", "k8s.pod.name", "k8s.container.name"} <= promoted
    # The cluster receiver's other objects: one series per Deployment, StatefulSet, … in a namespace.
    assert {"k8s.deployment.name", "k8s.statefulset.name", "k8s.daemonset.name", "k8s.job.name",
            "k8s.cronjob.name"} <= promoted


def test_the_backups_dashboard_reads_both_tasks_reports():
    (backups,) = [board for board in BOARDS if board.uid == "homelab-backups"]
    exprs = " ".join(query.expr for panel in backups.panels for query in panel.queries)
    for task in (COPY_TASK, CHECK_TASK):
        assert f'{TASK_ATTRIBUTE}="{task}"' in exprs


def test_the_capacity_dashboard_draws_the_programs_plan(prod):
    (model,) = [m for m in _provisioned(prod).values() if m["uid"] == "homelab-capacity"]
    total = prod.outputs["capacity"]["total"]
    planned = sum(total[layer]["memory_mib"] for layer in ("kubernetes", "platform", "scheduled", "production"))
    exprs = [target["expr"] for panel in model["panels"] for target in panel["targets"]]
    assert f"vector({planned * 2**20})" in exprs
    assert f"vector({total['allocatable']['memory_mib'] * 2**20})" in exprs


def test_without_production_the_vm_dashboard_has_no_production_panel():
    (vms,) = [board for board in dashboards.dashboards(Budget(nodes=[]), None) if board.uid == "homelab-vms"]
    assert all("production" not in query.expr for panel in vms.panels for query in panel.queries)
