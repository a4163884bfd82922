"""An alert rule as data (``AlertRule``, with the two ``Example`` series it must fire and stay silent on), the
rule file Mimir's ruler loads, and the ``promtool test rules`` input built from the examples."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

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
