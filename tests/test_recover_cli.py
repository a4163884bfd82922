"""`labctl recover`: the disaster-recovery runbook with this homelab's names, in the order the layers stand on
each other; every resource it names is one the program registers."""

import re

from labctl.__main__ import main
from labctl.exit_codes import ExitCode
from labctl.recovery import CONFIGURATION_APPLY, runbook


def test_recover_prints_the_three_stages_in_order_with_the_homelabs_names(capsys):
    assert main(["recover", "prod"]) == ExitCode.OK
    output = capsys.readouterr().out
    stages = [output.index(marker) for marker in ("1a.", "1b.", "1c.", "2.", "3.")]
    assert stages == sorted(stages)
    assert "aws s3 ls s3://example-homelab-velero/etcd-snapshots/homelab/" in output
    assert "age --decrypt --identity etcd-backup.key" in output
    assert "talosctl --nodes 192.168.10.11 bootstrap --recover-from=./etcd.snap" in output
    assert "offsite:example-homelab-storage-offsite/juicefs-meta/production/latest.json.gz" in output
    assert "restore create --from-schedule apps" in output


def test_every_machine_config_the_runbook_replaces_is_one_the_stack_registers(prod):
    steps = {step.title.split(" ")[0]: step for step in runbook(prod)}
    registered = {r.urn for r in prod.by_type(CONFIGURATION_APPLY)}
    replaced = {re.search(r"--replace '([^']+)'", command).group(1) for command in steps["1b."].commands}
    assert replaced == registered, "every node, control planes first"
    assert steps["1b."].commands[0].endswith("homelab-pi-1'")


def test_without_etcd_snapshots_the_runbook_says_so(build):
    from labctl.synth import read_stack_file

    plain = build("prod", {"homelab:platform": {**read_stack_file("prod")["homelab:platform"], "backups": {}}})
    (first, *_) = runbook(plain)
    assert "no etcd snapshots are configured" in first.title and first.commands == ()


def test_recover_on_a_stack_without_nodes_is_a_usage_error(capsys):
    assert main(["recover", "lab"]) == ExitCode.USAGE
