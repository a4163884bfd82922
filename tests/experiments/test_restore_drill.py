"""The restore drill: read-only Velero on the restore-drill key, a restore Job, a readiness Job, a verdict."""

import subprocess

import pytest
import yaml

from components.apps.restore_drill import job_spec, ready_checks, restore_command
from labctl.experiments.drill import drill_report
from labctl.experiments.request import ExperimentRequest, stack_config
from labctl.synth import read_stack_file, stack_reference_outputs

DRILL = "homelab:apps:RestoreDrill"


@pytest.fixture
def drill(build, prod):
    config = stack_config(read_stack_file("lab"), ExperimentRequest(name="drill", workers=2, restore_from="latest"))
    return build("exp-drill", config, prod_outputs=stack_reference_outputs(prod))


def test_velero_reads_productions_prefix_read_only(drill):
    (proxy,) = [r for r in drill.by_type("kubernetes:addons.cluster.x-k8s.io/v1alpha1:HelmChartProxy")
                if r.inputs["spec"]["chartName"] == "velero"]
    values = yaml.safe_load(proxy.inputs["spec"]["valuesTemplate"])
    (location,) = values["configuration"]["backupStorageLocation"]
    assert location["accessMode"] == "ReadOnly" and location["prefix"] == "production"
    assert "schedules" not in values, "the drill never writes backups of its own"


def test_the_restore_key_is_the_read_only_one_and_goes_in_through_the_guest_provider(drill):
    guest = drill.one("pulumi:providers:kubernetes", "drill-guest")
    secret = drill.one("kubernetes:core/v1:Secret", "drill-restore-credentials")
    assert secret.provider.startswith(guest.urn) and secret.inputs["stringData"] == {"cloud": "[secret]"}
    assert "restore-drill-key" not in str([r.inputs for r in drill.registrations])


def test_restore_then_wait_for_the_apps_and_report(drill):
    jobs = {r.inputs["metadata"]["name"]: r for r in drill.by_type("kubernetes:batch/v1:Job")}
    assert set(jobs) == {"restore-drill", "restore-drill-ready"}
    assert jobs["restore-drill"].urn in jobs["restore-drill-ready"].dependencies
    command = jobs["restore-drill"].inputs["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command == restore_command("latest") and "--from-schedule" in command and "--wait" in command
    ready = jobs["restore-drill-ready"].inputs["spec"]["template"]["spec"]
    steps = [(c["name"], c["command"]) for c in [*ready["initContainers"], *ready["containers"]]]
    assert steps == [(c["name"], c["command"]) for c in ready_checks(["home-assistant", "pihole"])]
    assert "drill" in drill.outputs["restoreDrill"]


FAKE_KUBECTL = """#!/bin/sh
echo "$*" >> "$CALLS"
case "$*" in
  *"restores.velero.io"*) [ "$PHASE" = Completed ] || { echo "timed out waiting for the condition"; exit 1; } ;;
  *"-n $EMPTY"*) echo "error: no matching resources found"; exit 1 ;;
  *"condition=Ready"*) exit "$READY" ;;
esac
"""


def _run_ready_job(tmp_path, phase="Completed", empty="no-such-namespace", ready=0):
    """The ready Job's containers run in order, as Kubernetes runs init containers, against a stand-in
    kubectl: the first that fails stops the pod."""
    kubectl = tmp_path / "kubectl"
    kubectl.write_text(FAKE_KUBECTL)
    kubectl.chmod(0o755)
    calls = tmp_path / "calls"
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "CALLS": str(calls), "PHASE": phase, "EMPTY": empty,
           "READY": str(ready)}
    spec = job_spec(ready_checks(["home-assistant", "pihole"]))["template"]["spec"]
    for container in [*spec.get("initContainers", []), *spec["containers"]]:
        assert container["command"][0] == "kubectl", "the kubectl image has no shell"
        done = subprocess.run(container["command"], env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return container["name"], done.stdout
    return None, ""


def test_the_ready_job_passes_a_completed_restore_whose_apps_become_ready(tmp_path):
    assert _run_ready_job(tmp_path) == (None, "")
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls == [
        "wait --for=jsonpath={.status.phase}=Completed restores.velero.io/restore-drill -n velero --timeout=30s",
        "wait --for=condition=Ready pods --all -n home-assistant --timeout=15m",
        "wait --for=condition=Ready pods --all -n pihole --timeout=15m"]


@pytest.mark.parametrize(("case", "stops_at", "says"), [
    ({"phase": "PartiallyFailed"}, "restore-completed", "timed out"),
    ({"empty": "pihole"}, "pihole-ready", "no matching resources"),
    ({"ready": 1}, "home-assistant-ready", ""),
])
def test_the_ready_job_fails_a_partial_restore_a_missing_app_or_one_that_does_not_come_up(tmp_path, case,
                                                                                           stops_at, says):
    stopped, out = _run_ready_job(tmp_path, **case)
    assert stopped == stops_at and says in out


def test_a_named_backup_restores_that_backup():
    assert restore_command("nightly-2026")[3:6] == ["restore-drill", "--from-backup", "nightly-2026"]


@pytest.mark.parametrize(("result", "passed", "says"), [
    ({"restored": True, "ready": True}, True, "passed"),
    ({"restored": True, "ready": False}, False, "did not become ready"),
    ({"restored": False, "ready": False}, False, "did not complete"),
    (None, False, "did not complete"),
])
def test_the_drill_verdict_reads_the_stack_output(result, passed, says):
    outputs = {"restoreDrill": {"drill": result}} if result is not None else {}
    verdict, message = drill_report(outputs, "drill")
    assert verdict is passed and says in message


def test_restored_claims_land_on_the_experiments_local_volumes(drill):
    (mapping,) = [r for r in drill.by_type("kubernetes:core/v1:ConfigMap")
                  if r.inputs["metadata"]["name"] == "change-storage-class-config"]
    assert mapping.inputs["metadata"]["labels"]["velero.io/change-storage-class"] == "RestoreItemAction"
    assert mapping.inputs["data"] == {"juicefs": "local-path"}
    restore = next(r for r in drill.by_type("kubernetes:batch/v1:Job")
                   if r.inputs["metadata"]["name"] == "restore-drill")
    assert mapping.urn in restore.dependencies


def test_a_sole_experiment_keeps_the_namespaces_it_had_under_their_old_names(drill, crowded_lab):
    """Before names were owned, a stack's one experiment made `ns-local-path-storage` (and its drill
    `ns-velero`); only a sole experiment may take those over, as two claiming one is an engine error."""
    namespaces = {r.name: r.aliases for r in drill.by_type("kubernetes:core/v1:Namespace") if "Inside" in r.urn}
    assert namespaces == {"drill-ns-local-path-storage": ("ns-local-path-storage",),
                          "drill-ns-velero": ("ns-velero",)}
    assert not [r.aliases for r in crowded_lab.by_type("kubernetes:core/v1:Namespace") if r.aliases]
