"""The off-site copy and its restore check report their success as an OTLP gauge, only once every step passed."""

import os
import subprocess
from pathlib import Path

from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

from components.platform import replication, task_metrics

FAKE_WGET = """#!/bin/sh
# Records the arguments it was called with, one per line, as busybox wget would receive them.
for argument in "$@"; do printf '%s\\n' "$argument"; done > "$CAPTURE"
"""


def _posted(tmp_path: Path, script: str) -> list[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "wget").write_text(FAKE_WGET)
    (bin_dir / "wget").chmod(0o755)
    capture = tmp_path / "arguments"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CAPTURE": str(capture)}
    subprocess.run(["sh", "-ec", script], env=env, check=True, timeout=30)
    return capture.read_text().splitlines()


def test_the_report_posts_one_valid_otlp_gauge_of_the_current_time(tmp_path):
    script = task_metrics.report_script(replication.JOB, replication.COPY_TASK, "success")
    arguments = _posted(tmp_path, script)
    assert arguments[-1] == "http://otel-gateway.monitoring.svc.cluster.local:4318/v1/metrics"
    assert arguments[arguments.index("--header") + 1] == "Content-Type: application/json"
    body = arguments[arguments.index("--post-data") + 1]
    # The real OTLP message type: an unknown field or a wrongly typed value is refused here.
    request = json_format.Parse(body, ExportMetricsServiceRequest())
    (resource,) = request.resource_metrics
    assert [(a.key, a.value.string_value) for a in resource.resource.attributes] == [
        ("service.name", "offsite-replication")]
    (metric,) = resource.scope_metrics[0].metrics
    assert metric.name == "homelab.task.last_success_timestamp_seconds" and metric.WhichOneof("data") == "gauge"
    (point,) = metric.gauge.data_points
    assert [(a.key, a.value.string_value) for a in point.attributes] == [("task", "offsite-copy")]
    # The value is the pod's clock in seconds, and the point is stamped with the same instant.
    assert point.as_double > 1.7e9 and point.time_unix_nano == int(point.as_double) * 10**9


def test_each_job_reports_its_start_first_and_its_success_only_after_its_steps(prod):
    for job, task in ((replication.JOB, replication.COPY_TASK), (replication.CHECK, replication.CHECK_TASK)):
        spec = prod.one("kubernetes:batch/v1:CronJob", job).inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        # Init containers run one after another and must all succeed before the pod's containers start.
        start, *steps = spec["initContainers"]
        (success,) = spec["containers"]
        assert start["command"][-1] == task_metrics.report_script(replication.JOB, task, "start")
        assert success["command"][-1] == task_metrics.report_script(replication.JOB, task, "success")
        assert steps and spec["securityContext"]["runAsNonRoot"] is True
