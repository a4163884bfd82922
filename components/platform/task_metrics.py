"""When the program's own scheduled jobs last started and last succeeded, as metrics the alert rules and
dashboards read.

Nothing upstream exports whether the off-site copy or its weekly restore check last worked, and guessing from
Job objects would not survive their history limits. So each such job posts one OTLP gauge, the current time,
to the gateway's OTLP/HTTP receiver twice: from a first init container when it starts, and from its last
container, which runs only after every step before it succeeded. Mimir stores them as
``homelab_task_last_start_timestamp_seconds`` and ``homelab_task_last_success_timestamp_seconds``, labelled
``task`` (no suffixes on OTLP names, components/platform/metric_catalogue.py). A task is failing when its last
success is older than its schedule's longest gap plus one run, or when runs have begun but none has ever
succeeded. A fresh install that has not run yet is neither.

Each gauge is sent once per run, so queries read it with ``max_over_time`` over a window several schedule gaps
long (an instant query looks back only five minutes).

The image is busybox, whose ``wget`` posts with ``--post-data`` and ``--header`` (networking/wget.c, long
options on in its default configuration).
"""

import json
from typing import Any, Literal

from components.platform.priority import PLATFORM
from components.platform.telemetry import GATEWAY, NAMESPACE
from components.platform.workloads import restricted
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



def reported_cronjob(schedule: str, service: str, task: str, steps: list[dict[str, Any]],
                     volumes: list[dict[str, Any]]) -> dict[str, Any]:
    """A CronJob whose ``steps`` run one after another, after the task's start is reported; once all succeeded,
    the last container reports its success. One run at a time, retried twice, a restricted platform pod."""
    return {
        "schedule": schedule,
        "concurrencyPolicy": "Forbid",
        "successfulJobsHistoryLimit": 2,
        "failedJobsHistoryLimit": 3,
        "jobTemplate": {"spec": {"backoffLimit": 2, "template": {"spec": restricted({
            "restartPolicy": "OnFailure", "priorityClassName": PLATFORM.name,
            "initContainers": [report_container(service, task, "start"), *steps],
            "containers": [report_container(service, task, "success")],
            "volumes": volumes})}}},
    }

def last(event: Event, task: str, window: str) -> str:
    """The newest report of ``event`` for ``task`` within ``window`` (a PromQL duration)."""
    return f'max_over_time({metric(event)}{{{TASK_ATTRIBUTE}="{task}"}}[{window}])'


def stale(task: str, window: str, allowed_seconds: int) -> str:
    """The last success is older than ``allowed_seconds`` (and still within ``window``)."""
    return f"time() - {last('success', task, window)} > {allowed_seconds}"


def never_succeeded(task: str, window: str, run_limit_seconds: int) -> str:
    """Runs began, the first of them over ``run_limit_seconds`` ago, and none succeeded within ``window``: a new
    install whose copy has never worked."""
    first_start = f'min_over_time({metric("start")}{{{TASK_ATTRIBUTE}="{task}"}}[{window}])'
    return f"(time() - {first_start} > {run_limit_seconds}) unless {last('success', task, window)}"
