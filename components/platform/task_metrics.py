"""When the program's own scheduled jobs last started and last succeeded, as metrics the alert rules and
dashboards read.

Nothing upstream exports whether the off-site copy or its weekly restore check last worked, and guessing from
Job objects would not survive their history limits. So each such job posts one OTLP gauge, the current time,
to the gateway's OTLP/HTTP receiver twice: from a first init container when it starts, and from its last
container, which runs only after every step before it succeeded. Mimir stores them as
``homelab_task_last_start_timestamp_seconds`` and ``homelab_task_last_success_timestamp_seconds``, labelled
``task`` (no suffixes on OTLP names, components/platform/metric_catalogue.py). A run that started and has not
succeeded since is failing; one that never starts shows as a start older than the schedule allows. A fresh
install that has not run yet is neither.

Each gauge is sent once per run, so queries read it with ``max_over_time`` over a window several schedule gaps
long (an instant query looks back only five minutes).

The image is busybox, whose ``wget`` posts with ``--post-data`` and ``--header`` (networking/wget.c, long
options on in its default configuration).
"""

import json
from typing import Any, Literal

from components.platform.telemetry import GATEWAY, NAMESPACE
from components.quantities import resources
from components.versions import BUSYBOX_IMAGE

Event = Literal["start", "success"]
EVENTS: tuple[Event, ...] = ("start", "success")


def otel_name(event: Event) -> str:
    return f"homelab.task.last_{event}_timestamp_seconds"


def metric(event: Event) -> str:
    """The gauge's name in Mimir."""
    return otel_name(event).replace(".", "_")


TASK_ATTRIBUTE = "task"
OTLP_HTTP_PORT = 4318
_NOW = "@NOW@"


def endpoint() -> str:
    return f"http://{GATEWAY}.{NAMESPACE}.svc.cluster.local:{OTLP_HTTP_PORT}/v1/metrics"


def payload(service: str, task: str, event: Event, now: int | str) -> dict[str, Any]:
    """The OTLP/JSON ExportMetricsServiceRequest: one gauge point, ``now`` seconds since the epoch."""
    def attribute(key: str, value: str) -> dict[str, Any]:
        return {"key": key, "value": {"stringValue": value}}

    point = {"asDouble": now, "timeUnixNano": f"{now}000000000", "attributes": [attribute(TASK_ATTRIBUTE, task)]}
    return {"resourceMetrics": [{
        "resource": {"attributes": [attribute("service.name", service)]},
        "scopeMetrics": [{"scope": {"name": "homelab"}, "metrics": [
            {"name": otel_name(event), "unit": "s", "description": f"When the task last reported {event}",
             "gauge": {"dataPoints": [point]}}]}]}]}


def report_script(service: str, task: str, event: Event) -> str:
    """Posts the gauge with the pod's clock; exits non-zero (and the Job retries) if the gateway refuses it."""
    body = json.dumps(payload(service, task, event, _NOW), separators=(",", ":"))
    # The JSON sits in single quotes; the time is spliced in unquoted, once as a number and once in a string.
    quoted = body.replace(f'"{_NOW}"', "'\"$now\"'").replace(_NOW, "'\"$now\"'")
    return (f"now=$(date +%s)\n"
            f"wget -q -T 30 -O /dev/null --header 'Content-Type: application/json' --post-data '{quoted}' "
            f"{endpoint()}")


def report_container(service: str, task: str, event: Event) -> dict[str, Any]:
    return {"name": f"report-{event}", "image": BUSYBOX_IMAGE,
            "command": ["sh", "-ec", report_script(service, task, event)],
            "resources": resources("10m", "16Mi", memory_limit="32Mi")}


def last(event: Event, task: str, window: str) -> str:
    """The newest report of ``event`` for ``task`` within ``window`` (a PromQL duration)."""
    return f'max_over_time({metric(event)}{{{TASK_ATTRIBUTE}="{task}"}}[{window}])'


def failing(task: str, window: str, run_limit_seconds: int) -> str:
    """A run began over ``run_limit_seconds`` ago and has not succeeded since (or nothing ever succeeded)."""
    start, success = last("start", task, window), last("success", task, window)
    return f"({start} > ({success} or {start} * 0)) and (time() - {start} > {run_limit_seconds})"


def not_running(task: str, window: str, gap_seconds: int) -> str:
    """The last run began longer ago than the schedule allows."""
    return f"time() - {last('start', task, window)} > {gap_seconds}"
