"""The infrastructure cluster's etcd snapshots: the narrowest Talos role, in the job's namespace only, an add-only
key of their own prefix, age encryption, and a success the rules watch."""

import yaml

from components.platform import etcd_backup, metrics_store
from components.platform.alert_model import RULES_FILE

RECIPIENT = "age1dwrpdhpvtexd3jdrkm0cuzmmh6vmjjy43hch9m53uvd4chcgn9nqvfanax"


def _pod(prod) -> dict:
    return prod.one("kubernetes:batch/v1:CronJob", etcd_backup.JOB).inputs["spec"]["jobTemplate"]["spec"][
        "template"]["spec"]


def test_the_control_planes_alone_grant_the_etcd_backup_role_to_its_namespace_beside_the_upgraders(prod):
    for apply in prod.by_type("talos:machine/configurationApply:ConfigurationApply"):
        machine = yaml.safe_load(apply.inputs["configPatches"][0])["machine"]
        access = machine["features"].get("kubernetesTalosAPIAccess")
        if apply.name in ("homelab-pi-1", "homelab-pi-2", "homelab-pi-3"):
            assert access == {"enabled": True, "allowedRoles": ["os:admin", "os:etcd:backup"],
                              "allowedKubernetesNamespaces": ["etcd-backup", "talos-upgrade"]}
        else:
            assert access is None, "only control planes serve Talos API access"


def test_the_job_asks_talos_for_that_role_and_reads_the_talosconfig_talos_writes(prod):
    account = prod.one("kubernetes:talos.dev/v1alpha1:ServiceAccount", etcd_backup.ACCOUNT)
    assert account.inputs["metadata"]["namespace"] == etcd_backup.NAMESPACE
    assert account.inputs["spec"] == {"roles": ["os:etcd:backup"]}
    pod = _pod(prod)
    assert {"name": "talos", "secret": {"secretName": etcd_backup.ACCOUNT}} in pod["volumes"]
    start, backup = pod["initContainers"]
    assert start["name"] == "report-start" and [c["name"] for c in pod["containers"]] == ["report-success"]
    assert {"name": "talos", "mountPath": "/var/run/secrets/talos.dev", "readOnly": True} in backup["volumeMounts"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    cronjob = prod.one("kubernetes:batch/v1:CronJob", etcd_backup.JOB)
    assert account.urn in cronjob.dependencies


def test_snapshots_are_encrypted_to_the_stacks_recipient_and_go_to_their_own_prefix(prod):
    (_, backup) = _pod(prod)["initContainers"]
    env = {e["name"]: e.get("value") or e["valueFrom"]["secretKeyRef"] for e in backup["env"]}
    assert env["AGE_X25519_PUBLIC_KEY"] == RECIPIENT
    assert env["S3_PREFIX"] == "etcd-snapshots/homelab" and env["CLUSTER_NAME"] == "homelab"
    assert env["BUCKET"] == "example-homelab-velero" and env["AWS_REGION"] == "eu-west-2"
    assert env["AWS_SECRET_ACCESS_KEY"] == {"name": etcd_backup.CREDENTIALS_SECRET, "key": "secretAccessKey"}
    # Read inverted by talos-backup: unset keeps AWS's virtual-hosted addressing; and encryption stays on.
    assert "USE_PATH_STYLE" not in env and "DISABLE_ENCRYPTION" not in env
    assert prod.outputs["etcdSnapshots"] == {"bucket": "example-homelab-velero", "prefix": "etcd-snapshots/homelab"}


def test_a_failing_snapshot_raises_an_alert(prod):
    rules = yaml.safe_load(prod.one("kubernetes:core/v1:ConfigMap", metrics_store.RULES_CONFIG_MAP).inputs["data"][
        RULES_FILE])
    (rule,) = [r for r in rules["groups"][0]["rules"] if r["alert"] == "EtcdSnapshotFailing"]
    assert 'task="etcd-snapshot"' in rule["expr"]


def test_without_a_recipient_there_is_no_snapshot_job_and_no_grant_of_its_role(build):
    from labctl.synth import read_stack_file

    platform = {**read_stack_file("prod")["homelab:platform"], "backups": {}}
    plain = build("prod", {"homelab:platform": platform})
    assert not [r for r in plain.registrations if r.name == etcd_backup.JOB]
    for apply in plain.by_type("talos:machine/configurationApply:ConfigurationApply"):
        access = yaml.safe_load(apply.inputs["configPatches"][0])["machine"]["features"].get(
            "kubernetesTalosAPIAccess", {})
        assert "os:etcd:backup" not in access.get("allowedRoles", [])
        assert "etcd-backup" not in access.get("allowedKubernetesNamespaces", [])
    assert not [r for r in plain.registrations if r.name == "etcd-backup"], "no key nobody uses"
    assert "etcdSnapshots" not in plain.outputs
