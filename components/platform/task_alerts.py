"""The freshness rules of the program's own scheduled jobs (the off-site copy, its restore check, the etcd
snapshot): each fires when the last success is older than its schedule's longest gap plus one run, or when runs
began and none ever succeeded (components/platform/task_metrics.py)."""

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from croniter import croniter

from components.config import EtcdBackupSettings
from components.platform import etcd_backup, replication, task_metrics
from components.platform.alert_model import AlertRule, Example
from components.platform.metric_catalogue import BY_NAME


def _period(schedule: str) -> timedelta:
    """How long the schedule takes to repeat itself: a day when it names no day or month, a week when it names
    only weekdays, else (at most) the four years of the leap-year cycle."""
    _, _, day, month, weekday = schedule.split()
    if day == month == "*":
        return timedelta(days=1) if weekday == "*" else timedelta(days=7)
    return timedelta(days=4 * 365 + 1)


@functools.lru_cache(maxsize=64)
def longest_gap(schedule: str, start: datetime | None = None) -> timedelta:
    """The longest time between two runs of a five-field cron ``schedule``, over two of its periods (so the gap
    across a period's end counts too)."""
    begin = start or datetime(2026, 1, 1, tzinfo=UTC)
    runs = croniter(schedule, begin)
    previous, gap = runs.get_next(datetime), timedelta(0)
    while previous < begin + 2 * _period(schedule):
        current = runs.get_next(datetime)
        gap, previous = max(gap, current - previous), current
    return gap


TASK_SOURCE = BY_NAME[task_metrics.metric("success")].source
DAY_SECONDS = 86400


@dataclass(frozen=True)
class Task:
    """A scheduled job of the program that reports its start and success (components/platform/task_metrics.py)."""

    alert: str
    task: str
    what: str
    schedule: str
    window: str
    run_limit: timedelta  # how long one run may take
    runbook: str
    service: str = replication.JOB  # the job that reports it (its ``job`` label)


TASKS = (
    # The first copy of a full lab to the cloud may take hours; later ones move only what changed.
    Task("OffsiteCopyFailing", replication.COPY_TASK, "The off-site copy of the storage layer", replication.SCHEDULE,
         replication.COPY_WINDOW, timedelta(hours=3),
         "backups: the newest `offsite-replication` Job's logs in `storage`, step by step (dump, chunks, dumps)"),
    Task("OffsiteRestoreCheckFailing", replication.CHECK_TASK, "The weekly restore check of the off-site copy",
         replication.CHECK_SCHEDULE, replication.CHECK_WINDOW, timedelta(hours=6),
         "backups: the newest `offsite-restore-check` Job's logs in `storage`; a failed fsck names the missing "
         "blocks"),
)


def task_rule(task: Task) -> AlertRule:
    limit = int(task.run_limit.total_seconds())
    allowed = int((longest_gap(task.schedule) + task.run_limit).total_seconds())
    labels = {"job": task.service, "task": task.task}
    selector = f'{{job="{task.service}", task="{task.task}"}}'
    start, success = task_metrics.metric("start") + selector, task_metrics.metric("success") + selector
    summary = f"{task.what} is failing: no success for over {allowed // 3600}h"
    expr = (f"{task_metrics.stale(task.task, task.window, allowed)} or "
            f"({task_metrics.never_succeeded(task.task, task.window, limit)})")
    if allowed <= DAY_SECONDS:
        # Forty minutes past what is allowed (and the rule's ``for``): a success ten minutes in, then none; and
        # another half an hour before the evaluation.
        at_minute = allowed // 60 + 40
        fires = Example({success: f"_x10 600 _x{at_minute}"}, f"{at_minute}m", labels, summary)
        silent = Example({success: f"_x10 600 _x{at_minute - 41} {(at_minute - 30) * 60} _x40"}, f"{at_minute}m")
    else:
        # A week of samples a minute apart would make promtool evaluate every rule ten thousand times: a longer
        # schedule's cases take the other branch, which the same functions build (the stale branch is the
        # copy's case): a first run at minute one that never succeeds, and one that succeeds at minute twenty.
        at_minute = limit // 60 + 40
        fires = Example({start: f"_ 60 _x{at_minute}"}, f"{at_minute}m", labels, summary)
        silent = Example({start: f"_ 60 _x{at_minute}", success: f"_x20 1200 _x{at_minute}"}, f"{at_minute}m")
    return AlertRule(task.alert, expr, "15m", "critical", summary, task.runbook, TASK_SOURCE, fires, silent)


def etcd_snapshot_task(settings: EtcdBackupSettings) -> Task:
    return Task("EtcdSnapshotFailing", etcd_backup.TASK, "The infrastructure cluster's etcd snapshot",
                settings.schedule, "7d", timedelta(hours=1),
                "backups: the newest `etcd-backup` Job's logs in `etcd-backup`; the talos.dev ServiceAccount's "
                "status names a refused role", service=etcd_backup.JOB)
