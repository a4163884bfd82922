"""Talos upgrades from code: one Job per node, in the rollout order and one after the other, none running on the
node it upgrades, and a script that waits for health, skips a node already on the pin, upgrades the rest to the
machine config's own installer and checks the result. The script runs here under a POSIX shell against a
stand-in talosctl that answers as the real one does (``version --json`` prints protojson)."""

import itertools
import os
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from components.platform import talos_upgrade
from components.versions import TALOS

JOB = "kubernetes:batch/v1:Job"
APPLY = "talos:machine/configurationApply:ConfigurationApply"
ORDER = ["pi-1", "pi-2", "pi-3", "pi-4"]


def _job(prod, node: str):
    return prod.one(JOB, f"talos-upgrade-{node}")


def _container(prod, node: str) -> dict:
    (container,) = _job(prod, node).inputs["spec"]["template"]["spec"]["containers"]
    return container


def _env(prod, node: str) -> dict:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in _container(prod, node)["env"]}


def test_one_job_per_node_each_after_the_one_before_in_the_rollout_order(prod):
    jobs = [_job(prod, node) for node in ORDER]
    account = prod.one("kubernetes:talos.dev/v1alpha1:ServiceAccount", talos_upgrade.ACCOUNT)
    inventory = prod.one("kubernetes:core/v1:ConfigMap", talos_upgrade.INVENTORY)
    assert {account.urn, inventory.urn} <= set(jobs[0].dependencies)
    for before, job in itertools.pairwise(jobs):
        assert before.urn in job.dependencies
    assert prod.outputs["upgrades"] == {"order": ORDER, "talosJobs": [f"talos-upgrade/talos-{n}" for n in ORDER]}
    assert inventory.inputs["data"] == {"controlPlanes": "192.168.10.11,192.168.10.12,192.168.10.13",
                                        "workers": "192.168.10.14"}
    for node, job in zip(ORDER, jobs, strict=True):
        assert job.inputs["metadata"]["namespace"] == talos_upgrade.NAMESPACE
        # `pulumi up` waits for each as long as the Job may run.
        assert job.inputs["metadata"]["annotations"]["pulumi.com/timeoutSeconds"] == str(
            job.inputs["spec"]["activeDeadlineSeconds"])
        (term,) = job.inputs["spec"]["template"]["spec"]["affinity"]["nodeAffinity"][
            "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        assert term["matchExpressions"] == [{"key": "kubernetes.io/hostname", "operator": "NotIn", "values": [node]}]


def test_each_job_drives_its_node_to_the_pin_with_the_installer_its_machine_config_names(prod):
    for node in ORDER:
        env = _env(prod, node)
        machine = yaml.safe_load(prod.one(APPLY, f"homelab-{node}").inputs["configPatches"][0])["machine"]
        assert env["INSTALLER"] == machine["install"]["image"] and env["INSTALLER"].endswith(f":{TALOS}")
        assert env["TARGET"] == TALOS and _container(prod, node)["image"] == f"ghcr.io/siderolabs/talosctl:{TALOS}"
        assert env["CONTROL_PLANES"] == {"configMapKeyRef": {"name": "talos-inventory", "key": "controlPlanes"}}


def test_the_upgrader_alone_asks_for_os_admin_and_the_policy_keeps_each_namespace_to_its_roles(prod):
    account = prod.one("kubernetes:talos.dev/v1alpha1:ServiceAccount", talos_upgrade.ACCOUNT)
    assert account.inputs["spec"] == {"roles": ["os:admin"]}
    policy = prod.one("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
                      "homelab-talos-api-roles")
    (rule,) = policy.inputs["spec"]["validations"]
    assert "'talos-upgrade': ['os:admin']" in rule["expression"]
    assert "'etcd-backup': ['os:etcd:backup']" in rule["expression"]


STAND_IN = """#!/bin/sh
# talosctl as the script calls it: --nodes IP <command> ...; the node's version lives in $STATE/<ip>.
echo "$*" >> "$STATE/calls"
ip=$2; command=$3
case "$command" in
  health) [ -e "$STATE/unhealthy" ] && { echo "waiting for etcd to be healthy: timeout" >&2; exit 1; }; exit 0 ;;
  version) printf '{"metadata":{"hostname":"%s"}, "version":{"tag": "%s","sha":"abc", "arch":"arm64"}}\\n' \\
             "$ip" "$(cat "$STATE/$ip")" ;;
  upgrade) [ -e "$STATE/rolls-back" ] || echo "$TARGET" > "$STATE/$ip" ;;
  *) echo "unexpected command $command" >&2; exit 2 ;;
esac
"""


def _run(tmp_path: Path, running: str, node_ip: str = "192.168.10.11", workers: str = "192.168.10.14",
         **flags: bool) -> tuple[int, str, list[str]]:
    state = tmp_path / "state"
    state.mkdir()
    (state / node_ip).write_text(running + "\n")
    for flag, on in flags.items():
        if on:
            (state / flag.replace("_", "-")).touch()
    talosctl = tmp_path / "talosctl"
    talosctl.write_text(STAND_IN)
    talosctl.chmod(talosctl.stat().st_mode | stat.S_IEXEC)
    env = {"PATH": os.environ["PATH"], "STATE": str(state), "TALOSCTL": str(talosctl), "NODE_NAME": "pi-x",
           "NODE_IP": node_ip, "TARGET": "v1.12.11", "INSTALLER": "factory.talos.dev/metal-installer/abc:v1.12.11",
           "CONTROL_PLANES": "192.168.10.11,192.168.10.12,192.168.10.13", "WORKERS": workers,
           "HEALTH_TIMEOUT": "15m", "UPGRADE_TIMEOUT": "20m"}
    done = subprocess.run(["sh", "-c", talos_upgrade.SCRIPT], env=env, capture_output=True, text=True, timeout=30,
                          check=False)
    calls = (state / "calls").read_text().splitlines() if (state / "calls").exists() else []
    return done.returncode, done.stdout + done.stderr, calls


HEALTH = ("--nodes 192.168.10.12 health --control-plane-nodes 192.168.10.11,192.168.10.12,192.168.10.13 "
          "--worker-nodes 192.168.10.14 --wait-timeout 15m")


def test_a_node_on_an_older_talos_is_upgraded_between_two_health_checks(tmp_path):
    code, output, calls = _run(tmp_path, "v1.12.10")
    assert code == 0, output
    assert calls == [HEALTH, "--nodes 192.168.10.11 version --json",
                     "--nodes 192.168.10.11 upgrade --image factory.talos.dev/metal-installer/abc:v1.12.11 --wait "
                     "--timeout 20m", "--nodes 192.168.10.11 version --json", HEALTH]
    assert "upgrading pi-x from Talos v1.12.10 to v1.12.11" in output


def test_a_node_on_the_pin_already_is_left_alone(tmp_path):
    code, output, calls = _run(tmp_path, "v1.12.11")
    assert code == 0 and "runs Talos v1.12.11 already" in output
    assert not [call for call in calls if " upgrade " in call]


@pytest.mark.parametrize(("flags", "message"), [
    ({"unhealthy": True}, "timeout"),
    ({"rolls_back": True}, "runs Talos v1.12.10 after its upgrade, not v1.12.11"),
])
def test_an_unhealthy_cluster_or_a_node_not_on_the_pin_afterwards_fails_the_job(tmp_path, flags, message):
    code, output, calls = _run(tmp_path, "v1.12.10", **flags)
    assert code != 0 and message in output
    if flags.get("unhealthy"):
        assert not [call for call in calls if " upgrade " in call], "nothing is upgraded on an unhealthy cluster"


def test_the_health_check_runs_on_a_control_plane_other_than_the_node_and_without_workers_when_there_are_none(
        tmp_path):
    code, _, calls = _run(tmp_path, "v1.12.11", node_ip="192.168.10.12", workers="")
    assert code == 0
    assert calls[0] == ("--nodes 192.168.10.11 health --control-plane-nodes 192.168.10.11,192.168.10.12,"
                        "192.168.10.13 --wait-timeout 15m")
