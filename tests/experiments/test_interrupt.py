"""Ctrl-C during `labctl experiment create` as a terminal sends it: SIGINT to labctl and to the `pulumi up` it
runs. The real Automation API drives a stand-in `pulumi` on PATH that behaves as the CLI does: it answers
`version`, holds a lock while `up` runs, and on SIGINT finishes what it was doing, releases the lock and exits.
labctl must wait for that and never run `pulumi cancel` (which would delete a live lock)."""

import os
import signal
import subprocess
import sys
import time

import pytest

from components.versions import PULUMI_CLI
from labctl.synth import PROJECT_DIR

pytestmark = pytest.mark.child_process

STAND_IN = """#!/bin/sh
echo "$*" >> "$STATE/calls"
case " $* " in
  *" version "*) echo "{version}" ;;
  *" up "*)
    touch "$STATE/lock"
    stop() {{ echo "^C received; cancelling the current operation"; sleep 1; rm -f "$STATE/lock"
             touch "$STATE/finished"; exit 255; }}
    trap stop INT
    while :; do sleep 0.1; done ;;
  *" cancel "*) rm -f "$STATE/lock" ;;
  *" stack ls "*) echo "[]" ;;
  *) ;;
esac
"""

CREATE = """
from datetime import UTC, datetime
from pathlib import Path
import sys
import pulumi.automation as auto
from labctl.experiments.automation import Experiments
experiments = Experiments(auto, Path(sys.argv[1]), {"PULUMI_BACKEND_URL": "file:///nonexistent",
                                                    "PULUMI_CONFIG_PASSPHRASE": "x"})
try:
    experiments.create("demo", {"homelab:role": "lab"}, "4h", datetime.now(UTC), lambda event: None)
except KeyboardInterrupt:
    print("stopped after the CLI", Path(sys.argv[2], "finished").exists(), Path(sys.argv[2], "lock").exists())
    sys.exit(130)
"""


def test_ctrl_c_waits_for_the_cli_to_stop_and_never_cancels_its_lock(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pulumi = bin_dir / "pulumi"
    pulumi.write_text(STAND_IN.format(version=PULUMI_CLI))
    pulumi.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "STATE": str(state),
           "PYTHONPATH": str(PROJECT_DIR)}
    # Its own process group, as a terminal's foreground job: the signal reaches labctl and the CLI alike.
    child = subprocess.Popen([sys.executable, "-c", CREATE, str(PROJECT_DIR), str(state)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while not (state / "lock").exists():
        assert child.poll() is None and time.monotonic() < deadline, child.communicate()[0]
        time.sleep(0.1)
    os.killpg(child.pid, signal.SIGINT)
    output, _ = child.communicate(timeout=60)
    assert child.returncode == 130, output
    assert "stopped after the CLI True False" in output, output
    calls = (state / "calls").read_text()
    assert " up " in f" {calls} " and "cancel" not in calls, calls
    # The experiment's update runs with the repository's policy pack, as the real Automation API passes it.
    (up,) = [line for line in calls.splitlines() if " up " in f" {line} "]
    assert f"--policy-pack {PROJECT_DIR / 'policy'}" in up, up
