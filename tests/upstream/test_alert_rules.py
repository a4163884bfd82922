"""The alert rules, judged by the real Prometheus parser and rule engine (promtool, ``make tools``).

The file checked is the very text the program writes into Mimir's rules ConfigMap. Each rule's own examples
become ``promtool test rules`` cases: it must fire, with the expected labels and summary, on one series and stay
silent on the other. A rule whose expression is turned around must fail its cases, so the tests can fail.

Also: every scrape target the rules depend on is served by a Service (or a headless Service's member) that the
program or a rendered chart really has, on that port; and the gateway's rendered configuration, after the
chart merges its presets, still scrapes them and reports the node conditions the rules read.
"""

import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from components.platform import alert_model, metrics_store, scrapes
from components.versions import KUBERNETES
from labctl.render import kubernetes_objects, manifest
from tests.conftest import prod_alert_rules
from tests.upstream.charts import installs, render


def _deployed(prod) -> str:
    return str(prod.one("kubernetes:core/v1:ConfigMap", metrics_store.RULES_CONFIG_MAP).inputs["data"][
        alert_model.RULES_FILE])


def _promtool(promtool: Path, directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(promtool), *args], cwd=directory, capture_output=True, text=True, timeout=120)


def _write_cases(directory: Path, rules: list[alert_model.AlertRule], text: str) -> None:
    (directory / alert_model.RULES_FILE).write_text(text)
    (directory / "tests.yaml").write_text(yaml.safe_dump(alert_model.unit_tests(rules), sort_keys=False))


def test_the_deployed_rule_file_parses(prod, promtool: Path, tmp_path: Path):
    (tmp_path / alert_model.RULES_FILE).write_text(_deployed(prod))
    checked = _promtool(promtool, tmp_path, "check", "rules", alert_model.RULES_FILE)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_rule_fires_on_its_example_and_stays_silent_on_the_other(prod, promtool: Path, tmp_path: Path):
    rules = prod_alert_rules(prod)
    assert alert_model.rule_file_text(rules) == _deployed(prod), "the cases test what is deployed"
    _write_cases(tmp_path, rules, _deployed(prod))
    tested = _promtool(promtool, tmp_path, "test", "rules", "tests.yaml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_a_rule_turned_around_fails_its_cases(prod, promtool: Path, tmp_path: Path):
    rules = prod_alert_rules(prod)
    broken = [replace(rules[0], expr=rules[0].expr.replace("!= 1", "== 1")), *rules[1:]]
    assert broken[0].expr != rules[0].expr
    _write_cases(tmp_path, broken, alert_model.rule_file_text(broken))
    tested = _promtool(promtool, tmp_path, "test", "rules", "tests.yaml")
    assert tested.returncode != 0 and rules[0].alert in tested.stdout + tested.stderr


def _services(prod, helm: Path) -> dict[tuple[str, str], set[int]]:
    """Every infrastructure Service the program registers or a chart renders: (namespace, name) → ports."""
    objects: list[dict[str, Any]] = [manifest(r) for _, r in kubernetes_objects(prod)]
    objects += [obj for install in installs(prod) if install.cluster == "homelab"
                for obj in render(helm, install, KUBERNETES)]
    found: dict[tuple[str, str], set[int]] = {}
    for obj in objects:
        if obj.get("kind") == "Service":
            key = (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
            found.setdefault(key, set()).update(int(p["port"]) for p in obj["spec"].get("ports", []))
    return found


def test_every_scrape_target_is_served(prod, helm: Path):
    services = _services(prod, helm)
    (etcd,) = [manifest(r) for _, r in kubernetes_objects(prod)
               if manifest(r)["kind"] == "StatefulSet" and manifest(r)["metadata"]["name"] == "juicefs-meta"]
    member_ports = {p["containerPort"] for c in etcd["spec"]["template"]["spec"]["containers"] for p in c["ports"]}
    for scrape in scrapes.SCRAPES:
        for target in scrape.targets:
            host, port = target.rsplit(":", 1)
            labels = host.split(".")
            if len(labels) == 6:  # <pod>.<headless service>.<namespace>.svc.cluster.local
                assert (labels[2], labels[1]) in services and int(port) in member_ports, target
            else:  # <service>.<namespace>.svc.cluster.local
                assert int(port) in services.get((labels[1], labels[0]), set()), f"{scrape.job}: {target}"


def test_the_rendered_gateway_scrapes_and_reports_what_the_rules_read(prod, helm: Path):
    (gateway,) = [install for install in installs(prod) if install.release == "otel-gateway"]
    (config_map,) = [obj for obj in render(helm, gateway, KUBERNETES) if obj["kind"] == "ConfigMap"]
    config = yaml.safe_load(next(iter(config_map["data"].values())))
    jobs = {job["job_name"] for job in config["receivers"]["prometheus"]["config"]["scrape_configs"]}
    assert jobs == {scrape.job for scrape in scrapes.SCRAPES}
    assert "prometheus" in config["service"]["pipelines"]["metrics"]["receivers"]
    conditions = config["receivers"]["k8s_cluster"]["node_conditions_to_report"]
    assert {"Ready", "MemoryPressure", "DiskPressure"} <= set(conditions)
