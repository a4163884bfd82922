"""Alerts as code: the rules Mimir's ruler loads, what the gateway scrapes for them, and where alerts go.

Whether the expressions parse and each rule fires and stays silent as its examples say is promtool's to judge
(tests/upstream/test_alert_rules.py); here, what was registered and the contact point's configuration.
"""

import re
from datetime import timedelta

import pytest
import yaml

from components.config import BackupSettings, ContactPoint
from components.platform import alert_model, alert_rules, metrics_store, notifications, scrapes, task_alerts
from components.platform.backups import PLATFORM_SCHEDULE
from tests.conftest import prod_alert_rules, redacted

RULES = alert_rules.alert_rules(BackupSettings(), PLATFORM_SCHEDULE, alert_rules.ProductionVms("production", 3))


def _mimir(prod):
    return prod.one("kubernetes:apps/v1:StatefulSet", metrics_store.NAME).inputs["spec"]["template"]["spec"]


def test_the_ruler_loads_the_rule_file_the_program_writes(prod):
    rules = prod.one("kubernetes:core/v1:ConfigMap", metrics_store.RULES_CONFIG_MAP).inputs["data"]
    assert rules == {alert_model.RULES_FILE: alert_model.rule_file_text(prod_alert_rules(prod))}
    config = yaml.safe_load(prod.one("kubernetes:core/v1:ConfigMap", "mimir-config").inputs["data"]["mimir.yaml"])
    assert config["ruler_storage"] == {"backend": "local", "local": {"directory": metrics_store.RULES_DIR}}
    assert config["limits"]["ruler_alertmanager_client_config"]["alertmanager_url"].endswith(":8080/alertmanager")
    (container,) = _mimir(prod)["containers"]
    assert "-target=all,alertmanager" in container["args"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    # <directory>/<tenant>/<file>: the one tenant of a Mimir without multitenancy.
    assert mounts["rules"] == f"{metrics_store.RULES_DIR}/anonymous"
    assert mounts["alertmanager"] == config["alertmanager_storage"]["local"]["path"]


def test_every_rule_says_what_is_wrong_where_to_look_and_where_its_metric_comes_from():
    names = [rule.alert for rule in RULES]
    assert len(names) == len(set(names))
    assert {"NodeNotReady", "NodeMemoryPressure", "NodeDiskPressure", "MetadataEngineNoLeader", "BackupStale",
            "CertificateExpiringSoon", "ArgoCDAppDegraded"} <= set(names)
    for rule in RULES:
        annotations = rule.rule()["annotations"]
        assert annotations["summary"] and annotations["runbook"].startswith("README.md#alerts (")
        assert rule.source and rule.fires.series and rule.silent.series and rule.fires.summary
        assert not rule.silent.labels, f"{rule.alert}: a silent example expects no alert"


def test_the_labels_a_summary_names_are_labels_mimir_keeps():
    """A summary may name the series' own labels, job and instance (from the scrape), or a promoted attribute."""
    promoted = {attribute.replace(".", "_") for attribute in metrics_store.PROMOTED_RESOURCE_ATTRIBUTES}
    for rule in RULES:
        for label in re.findall(r"\$labels\.(\w+)", rule.summary):
            assert label in rule.fires.labels, f"{rule.alert}: its example does not carry {label}"
            if rule.source.startswith("receiver/k8sclusterreceiver"):
                assert label in promoted, f"{rule.alert}: {label} is a resource attribute Mimir does not keep"


def test_a_backup_may_be_as_old_as_its_schedules_longest_gap():
    assert task_alerts.longest_gap("0 3 * * *") == timedelta(days=1)
    # Friday 03:00 to Monday 03:00.
    assert task_alerts.longest_gap("0 3 * * 1-5") == timedelta(days=3)
    (stale,) = [r for r in alert_rules.alert_rules(BackupSettings(schedule="0 3 * * 1-5"), "platform")
                if r.alert == "BackupStale"]
    assert stale.expr.endswith(f"> {int((timedelta(days=3) + alert_rules.BACKUP_SLACK).total_seconds())}")


def test_the_gateway_scrapes_what_the_rules_read(prod):
    values = prod.one("kubernetes:helm.sh/v3:Release", "otel-gateway").inputs["values"]
    config = values["config"]
    jobs = {job["job_name"]: job for job in config["receivers"]["prometheus"]["config"]["scrape_configs"]}
    assert set(jobs) == {scrape.job for scrape in scrapes.SCRAPES}
    assert "prometheus" in config["service"]["pipelines"]["metrics"]["receivers"]
    assert "prometheus" not in config["service"]["pipelines"]["logs"]["receivers"]
    assert set(config["receivers"]["k8s_cluster"]["node_conditions_to_report"]) >= {"Ready", "MemoryPressure",
                                                                                     "DiskPressure"}
    for rule in RULES:
        for job in re.findall(r'job="([^"]+)"', rule.expr):
            assert job in jobs, f"{rule.alert} reads job {job}, which nothing scrapes"


@pytest.mark.parametrize(("contact", "credential", "expected"), [
    (None, None, {"name": "owner"}),
    (ContactPoint(kind="webhook", url="https://hooks.example.com/alerts"), "token",
     {"name": "owner", "webhook_configs": [{"url": "https://hooks.example.com/alerts", "send_resolved": True,
                                            "http_config": {"authorization": {"type": "Bearer",
                                                                              "credentials": "token"}}}]}),
    (ContactPoint(kind="email", to="me@example.com", sender="lab@example.com", smarthost="smtp.example.com:587",
                  username="lab"), "password",
     {"name": "owner", "email_configs": [{"to": "me@example.com", "from": "lab@example.com",
                                          "smarthost": "smtp.example.com:587", "require_tls": True,
                                          "send_resolved": True, "auth_username": "lab",
                                          "auth_password": "password"}]}),
])
def test_each_contact_point_becomes_the_one_receiver(contact, credential, expected):
    config = notifications.alertmanager_config(contact, credential)
    assert config["route"]["receiver"] == "owner" and config["receivers"] == [expected]


def test_ntfy_gets_alertmanagers_payload_rendered_into_title_and_message():
    (webhook,) = notifications.receiver(ContactPoint(kind="ntfy", url="https://ntfy.sh/my-lab"), None)[
        "webhook_configs"]
    assert webhook["url"].startswith("https://ntfy.sh/my-lab?template=yes&t=")
    assert "http_config" not in webhook  # a public topic needs no token


def test_the_alertmanager_configuration_is_a_secret_even_without_a_credential(prod):
    secret = prod.one("kubernetes:core/v1:Secret", notifications.SECRET)
    # A webhook's URL may carry a token of its own, so the whole configuration is secret in state.
    assert redacted(secret.inputs["stringData"])
    assert secret.inputs["metadata"]["namespace"] == "monitoring"


def test_grafana_lists_the_rulers_alerts_and_the_alertmanagers(prod):
    values = prod.one("kubernetes:helm.sh/v3:Release", "grafana").inputs["values"]
    sources = {s["uid"]: s for s in values["datasources"]["datasources.yaml"]["datasources"]}
    assert sources["mimir"]["jsonData"]["manageAlerts"] is True
    assert sources["mimir"]["jsonData"]["alertmanagerUid"] == "mimir-alertmanager"
    alertmanager = sources["mimir-alertmanager"]
    assert alertmanager["type"] == "alertmanager" and alertmanager["jsonData"]["implementation"] == "mimir"
    assert alertmanager["url"] == metrics_store.endpoint("monitoring")


def test_production_is_watched_for_each_of_its_vms(prod):
    """The prod stack's production cluster has one control plane and two workers (Pulumi.prod.yaml)."""
    rules = yaml.safe_load(prod.one("kubernetes:core/v1:ConfigMap", metrics_store.RULES_CONFIG_MAP).inputs["data"][
        alert_model.RULES_FILE])
    (rule,) = [r for r in rules["groups"][0]["rules"] if r["alert"] == "ProductionVMsNotRunning"]
    assert rule["expr"].endswith(" < 3") and 'k8s_namespace_name="production"' in rule["expr"]


@pytest.mark.parametrize(("schedule", "gap"), [
    ("17 * * * *", timedelta(hours=1)), ("0 */6 * * *", timedelta(hours=6)), ("47 4 * * 0", timedelta(days=7)),
    ("0 3 1 * *", timedelta(days=31)), ("0 0 29 2 *", timedelta(days=366 + 365 * 3))])
def test_the_longest_gap_spans_the_schedules_own_period(schedule, gap):
    """A daily or weekly pattern repeats, so two of its periods hold its longest gap; a yearly one needs its
    years (29 February: a leap year to the next)."""
    assert task_alerts.longest_gap(schedule) == gap
