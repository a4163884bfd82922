"""The dashboards' and rules' queries, judged by the real parsers: PromQL by the Prometheus engine (promql-eval,
which also evaluates each over the fixtures), LogQL and TraceQL by Grafana's own lezer grammars. The scrape
configuration the gateway runs is checked by promtool, and the pods it discovers are the ones the charts run.
"""

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.capacity import Budget
from components.platform import (
    dashboards,
    metric_catalogue,
    monitoring,
    scrapes,
    task_alerts,
    task_metrics,
)
from components.versions import KUBERNETES
from tests.conftest import prod_alert_rules
from tests.upstream import dashboard_fixtures, dashboard_picture
from tests.upstream.charts import installs, render

SPECS = dashboards.dashboards(Budget(nodes=[]), "production")


def evaluate(promql_eval: Path, exprs: list[str], end: str = "3h", step: str = "5m",
             series: list[dict[str, str]] | None = None) -> list[dict[str, Any]]:
    request = {"interval": dashboard_fixtures.INTERVAL, "end": end, "step": step,
               "series": dashboard_fixtures.series() if series is None else series, "queries": exprs}
    run = subprocess.run([str(promql_eval)], input=json.dumps(request), capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    results: list[dict[str, Any]] = json.loads(run.stdout)
    return results


def parse(lezer_queries: Path, language: str, exprs: list[str]) -> list[dict[str, Any]]:
    run = subprocess.run([str(lezer_queries)], input=json.dumps([{"language": language, "expr": e} for e in exprs]),
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    results: list[dict[str, Any]] = json.loads(run.stdout)
    return results


def _deployed(prod) -> list[dict[str, Any]]:
    data = prod.one("kubernetes:core/v1:ConfigMap", monitoring.DASHBOARDS_CONFIG_MAP).inputs["data"]
    return [json.loads(text) for text in data.values()]


def _deployed_targets(prod, source: str) -> list[tuple[str, str, str]]:
    """(dashboard uid, panel title, query) of every deployed panel on data sources of type ``source``."""
    return [(model["uid"], panel["title"], target.get("expr") or target["query"])
            for model in _deployed(prod) for panel in model["panels"]
            if panel.get("datasource", {}).get("type") == source for target in panel["targets"]]


def test_the_fixtures_have_series_of_every_catalogued_metric():
    assert dashboard_fixtures.uncovered() == set()


def test_every_panel_query_parses_reads_what_its_panel_cites_and_returns_data(prod, promql_eval: Path):
    targets = _deployed_targets(prod, "prometheus")
    results = evaluate(promql_eval, [expr for _, _, expr in targets])
    cited = {(board.uid, panel.title): set(panel.reads) for board in SPECS for panel in board.panels}
    read: dict[tuple[str, str], set[str]] = {}
    for (uid, title, expr), result in zip(targets, results, strict=True):
        assert "error" not in result, f"{uid} / {title}: {expr}: {result.get('error')}"
        read.setdefault((uid, title), set()).update(result["metrics"])
        if result["metrics"]:
            assert result["series"], f"{uid} / {title}: {expr} returns nothing over the fixtures"
    assert read == {key: names for key, names in cited.items() if key in read}
    assert set(read) == {key for key, names in cited.items() if names}


def test_a_misspelt_metric_or_a_broken_query_is_caught(promql_eval: Path):
    misspelt, broken = evaluate(promql_eval, ["sum by (k8s_node_name) (k8s_node_cpu_usag)", "rate(up[5m]"])
    assert misspelt["metrics"] == ["k8s_node_cpu_usag"] and misspelt["series"] == []
    assert "k8s_node_cpu_usag" not in metric_catalogue.BY_NAME
    assert "parse error" in broken["error"]


def test_every_alert_rule_reads_only_catalogued_metrics_and_evaluates(prod, promql_eval: Path):
    rules = prod_alert_rules(prod)
    for rule, result in zip(rules, evaluate(promql_eval, [rule.expr for rule in rules]), strict=True):
        assert "error" not in result, f"{rule.alert}: {result.get('error')}"
        assert set(result["metrics"]) <= set(metric_catalogue.BY_NAME), rule.alert


def test_every_log_query_parses_and_selects_only_labels_loki_indexes(prod, lezer_queries: Path):
    targets = _deployed_targets(prod, "loki")
    assert targets, "the logs dashboard has log queries"
    for (uid, title, expr), result in zip(targets, parse(lezer_queries, "logql", [t[2] for t in targets]),
                                          strict=True):
        assert result["errors"] == [], f"{uid} / {title}: {expr}"
        assert result["labels"] and set(result["labels"]) <= metric_catalogue.LOKI_INDEX_LABELS, expr


def test_every_trace_query_parses(prod, lezer_queries: Path):
    targets = _deployed_targets(prod, "tempo")
    assert targets
    for (uid, title, expr), result in zip(targets, parse(lezer_queries, "traceql", [t[2] for t in targets]),
                                          strict=True):
        assert result["errors"] == [], f"{uid} / {title}: {expr}"


@pytest.mark.parametrize(("language", "expr"), [("logql", '{k8s_namespace_name="storage" |= "error"'),
                                                ("traceql", "{ status = = error }")])
def test_the_grammars_refuse_a_broken_query(lezer_queries: Path, language: str, expr: str):
    (result,) = parse(lezer_queries, language, [expr])
    assert result["errors"]


def _gateway_config(prod, helm: Path) -> dict[str, Any]:
    (gateway,) = [install for install in installs(prod) if install.release == "otel-gateway"]
    (config_map,) = [obj for obj in render(helm, gateway, KUBERNETES) if obj["kind"] == "ConfigMap"]
    config: dict[str, Any] = yaml.safe_load(next(iter(config_map["data"].values())))
    return config


def test_promtool_accepts_the_scrape_configuration_the_gateway_renders(prod, helm: Path, promtool: Path,
                                                                       tmp_path: Path):
    scrape_configs = _gateway_config(prod, helm)["receivers"]["prometheus"]["config"]["scrape_configs"]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump({"scrape_configs": scrape_configs}))
    checked = subprocess.run([str(promtool), "check", "config", "prometheus.yml"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # The cluster receiver reports the allocatable amounts the capacity dashboard divides by.
    assert set(_gateway_config(prod, helm)["receivers"]["k8s_cluster"]["allocatable_types_to_report"]) == {
        "cpu", "memory"}


def test_promtool_refuses_a_scrape_configuration_with_a_bad_relabel(promtool: Path, tmp_path: Path):
    (job,) = [scrape.config() for scrape in scrapes.SCRAPES if scrape.job == "cilium-agent"]
    job["relabel_configs"][0]["action"] = "keepp"
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump({"scrape_configs": [job]}))
    checked = subprocess.run([str(promtool), "check", "config", "prometheus.yml"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode != 0


def test_the_cilium_agents_the_gateway_discovers_declare_the_port_it_keeps(prod, helm: Path):
    (cilium,) = [install for install in installs(prod) if install.release == "cilium" and install.cluster == "homelab"]
    (agents,) = [obj for obj in render(helm, cilium, KUBERNETES)
                 if obj["kind"] == "DaemonSet" and obj["metadata"]["name"] == "cilium"]
    (scrape,) = [s for s in scrapes.SCRAPES if s.job == "cilium-agent"]
    assert scrape.pods is not None
    key, value = scrape.pods.selector.split("=")
    template = agents["spec"]["template"]
    assert template["metadata"]["labels"][key] == value
    assert agents["metadata"]["namespace"] == scrape.pods.namespace
    ports = {p["containerPort"] for c in template["spec"]["containers"] for p in c.get("ports", [])}
    assert scrape.pods.port in ports


def test_the_readme_picture_is_of_the_current_dashboard():
    """Redraw with ``python -m tests.upstream.dashboard_picture`` when this fails."""
    committed = json.loads((dashboard_picture.PICTURES / f"{dashboard_picture.PICTURED}.layout.json").read_text())
    assert committed == dashboard_picture.layout(dashboard_picture.pictured())
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert f"docs/dashboards/{dashboard_picture.PICTURED}.png" in readme


def test_the_picture_draws_every_panel(promql_eval: Path, tmp_path: Path):
    model = dashboard_picture.pictured()
    results = [[result["series"] for result in evaluate(promql_eval, [t["expr"] for t in panel["targets"]])]
               for panel in model["panels"]]
    assert all(any(series for series in panel) for panel in results)
    dashboard_picture.draw(model, results, tmp_path / "picture.png")
    assert (tmp_path / "picture.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_grafana_chart_mounts_the_dashboards_where_its_provider_reads(prod, helm: Path):
    (grafana,) = [install for install in installs(prod) if install.release == "grafana"]
    objects = render(helm, grafana, KUBERNETES)
    (deployment,) = [obj for obj in objects if obj["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    (volume,) = [name for name, v in volumes.items()
                 if v.get("configMap", {}).get("name") == monitoring.DASHBOARDS_CONFIG_MAP]
    (container,) = [c for c in pod["containers"] if c["name"] == "grafana"]
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == volume]
    providers = [yaml.safe_load(obj["data"]["dashboardproviders.yaml"]) for obj in objects
                 if obj["kind"] == "ConfigMap" and "dashboardproviders.yaml" in obj.get("data", {})]
    (provider,) = providers[0]["providers"]
    assert mount["mountPath"] == provider["options"]["path"]


def _last_value(result: dict[str, Any]) -> float | None:
    assert "error" not in result, result.get("error")
    points = [point for series in result["series"] for point in series["points"]]
    return max(points)[1] if points else None


def test_finished_pods_hold_no_requests(promql_eval: Path):
    pod = 'k8s_node_name="pi-1", k8s_namespace_name="storage"'
    series = [{"series": f'k8s_container_memory_request{{{pod}, k8s_pod_name="{name}", k8s_container_name="c"}}',
               "values": f"{size}x10"} for name, size in (("running", 2**30), ("finished", 2**31))]
    series += [{"series": f'k8s_pod_phase{{{pod}, k8s_pod_name="{name}"}}', "values": f"{phase}x10"}
               for name, phase in (("running", 2), ("finished", 3))]
    (result,) = evaluate(promql_eval, [f"sum{dashboards.live('k8s_container_memory_request')}"], end="10m",
                         step="1m", series=series)
    assert _last_value(result) == 2**30


def test_a_copy_that_never_succeeded_fails_once_its_first_run_outlasts_the_limit(promql_eval: Path):
    (copy,) = [task for task in task_alerts.TASKS if task.task == "offsite-copy"]
    limit = int(copy.run_limit.total_seconds())
    expr = task_metrics.never_succeeded(copy.task, copy.window, limit)
    # A first run at minute one, another every hour, no success.
    starts = " ".join(str(60 + 3600 * (minute // 60)) for minute in range(limit // 60 + 60))
    series = [{"series": f'{task_metrics.metric("start")}{{job="offsite-replication", task="offsite-copy"}}',
               "values": f"_ {starts}"}]
    (failing,) = evaluate(promql_eval, [expr], end=f"{limit // 60 + 30}m", step="10m", series=series)
    firing = [time for s in failing["series"] for time, _ in s["points"]]
    assert firing and min(firing) > limit, "silent while the first run may still be going, then failing"
    # With a success, silent.
    succeeded = [*series, {"series": f'{task_metrics.metric("success")}{{job="offsite-replication", '
                                      f'task="offsite-copy"}}', "values": "_x30 1800"}]
    (quiet,) = evaluate(promql_eval, [expr], end=f"{limit // 60 + 30}m", step="10m", series=succeeded)
    assert quiet["series"] == []
