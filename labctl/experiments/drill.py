"""What `labctl experiment drill` says of a restore drill, read from its stack's ``restoreDrill`` output
(components/apps/restore_drill.py reports whether the restore finished and the apps came up)."""

from typing import Any


def drill_report(outputs: dict[str, Any], experiment: str) -> tuple[bool, str]:
    """Did the restore finish and the apps come up, and what to say."""
    drill = (outputs.get("restoreDrill") or {}).get(experiment) or {}
    if not drill.get("restored"):
        return False, "restore drill FAILED: the restore did not complete (check `velero restore describe` inside)"
    if not drill.get("ready"):
        return False, "restore drill FAILED: restored, but the apps did not become ready in time"
    return True, "restore drill passed: the latest backup restored and every app became ready"
