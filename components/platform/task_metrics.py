"""The success time of the program's own scheduled jobs, as a metric the alert rules and dashboards read.

Nothing upstream exports whether the off-site copy or its weekly restore check last worked, and guessing from
Job objects would not survive their history limits. So each such job ends with one more container, run only
after every step before it succeeded: it posts one OTLP gauge, the current time, to the gateway's OTLP/HTTP
receiver. Mimir stores it as ``homelab_task_last_success_timestamp_seconds{task=…}`` (no suffixes on OTLP
names, components/platform/metric_catalogue.py). A failed run posts nothing, so "failing" is "no success for
longer than the schedule allows", the same test the Velero rule makes.

The gauge is sent once per run, so queries read it with ``max_over_time`` over a window longer than the
schedule's gap (an instant query looks back only five minutes).

The image is busybox, whose ``wget`` posts with ``--post-data`` and ``--header`` (networking/wget.c, long
options on in its default configuration).
"""

import json
from typing import Any

from components.platform.telemetry import GATEWAY, NAMESPACE
from components.quantities import resources
from components.versions import BUSYBOX_IMAGE

OTEL_NAME = "homelab.task.last_success_timestamp_seconds"
METRIC = OTEL_NAME.replace(".", "_")
TASK_ATTRIBUTE = "task"
OTLP_HTTP_PORT = 4318
_NOW = "@NOW@"


def endpoint() -> str:
    return f"http://{GATEWAY}.{NAMESPACE}.svc.cluster.local:{OTLP_HTTP_PORT}/v1/metrics"


def payload(service: str, task: str, now: int | str) -> dict[str, Any]:
    """The OTLP/JSON ExportMetricsServiceRequest: one gauge point, ``now`` seconds since the epoch."""
    def attribute(key: str, value: str) -> dict[str, Any]:
        return {"key": key, "value": {"stringValue": value}}

    point = {"asDouble": now, "timeUnixNano": f"{now}000000000", "attributes": [attribute(TASK_ATTRIBUTE, task)]}
    return {"resourceMetrics": [{
        "resource": {"attributes": [attribute("service.name", service)]},
        "scopeMetrics": [{"scope": {"name": "homelab"}, "metrics": [
            {"name": OTEL_NAME, "unit": "s", "description": "When the task last succeeded",
             "gauge": {"dataPoints": [point]}}]}]}]}


def report_script(service: str, task: str) -> str:
    """Posts the gauge with the pod's clock; exits non-zero (and the Job retries) if the gateway refuses it."""
    body = json.dumps(payload(service, task, _NOW), separators=(",", ":"))
    # The JSON sits in single quotes; the time is spliced in unquoted, once as a number and once in a string.
    quoted = body.replace(f'"{_NOW}"', f"'\"$now\"'").replace(_NOW, "'\"$now\"'")
    return (f"now=$(date +%s)\n"
            f"wget -q -T 30 -O /dev/null --header 'Content-Type: application/json' --post-data '{quoted}' "
            f"{endpoint()}")


def report_container(service: str, task: str) -> dict[str, Any]:
    return {"name": "report-success", "image": BUSYBOX_IMAGE, "command": ["sh", "-ec", report_script(service, task)],
            "resources": resources("10m", "16Mi", memory_limit="32Mi")}
