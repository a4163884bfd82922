"""Velero writes the platform's objects off-site, with its own repository password; the Tailscale operator gets
its own OAuth client."""

from components import versions
from tests.conftest import redacted

RELEASE = "kubernetes:helm.sh/v3:Release"
SCHEDULE = "kubernetes:velero.io/v1:Schedule"

PLATFORM = "homelab:platform:Platform"


def test_velero_has_the_aws_plugin_and_no_node_agent_since_it_copies_no_volumes(prod):
    velero = prod.one(RELEASE, "velero").inputs
    assert velero["version"] == versions.VELERO
    images = [c["image"] for c in velero["values"]["initContainers"]]
    assert images == [f"velero/velero-plugin-for-aws:{versions.VELERO_AWS_PLUGIN}"]
    assert velero["values"]["deployNodeAgent"] is False
    assert velero["values"]["configuration"]["defaultVolumesToFsBackup"] is False
    assert velero["values"]["credentials"] == {"useSecret": True, "existingSecret": "velero-offsite-credentials"}
    workloads = {w["workload"] for w in prod.outputs["capacity"]["workloads"] if w["owner"] == "velero"}
    assert workloads == {"velero"}, "the budget counts no node agent that is not deployed"


def test_every_velero_has_the_stacks_repository_password_before_it_starts(prod, build):
    from labctl.experiments.request import ExperimentRequest, stack_config
    from labctl.synth import read_stack_file, stack_reference_outputs

    # Velero writes its static default password into this Secret when it finds none (keys.go at v1.18.1).
    infrastructure = prod.one("kubernetes:core/v1:Secret", "velero-repo-credentials", within=PLATFORM)
    assert infrastructure.inputs["metadata"] == {"name": "velero-repo-credentials", "namespace": "velero"}
    assert redacted(infrastructure.inputs["stringData"]) and set(infrastructure.inputs["stringData"]) == {
        "repository-password"}
    assert infrastructure.urn in prod.one(RELEASE, "velero").dependencies
    inside = prod.one("kubernetes:core/v1:Secret", "velero-repo-credentials", within="homelab:apps:InsideProduction")
    assert inside.inputs["metadata"]["namespace"] == "velero" and redacted(inside.inputs["stringData"])
    config = stack_config(read_stack_file("lab"), ExperimentRequest(name="drill", restore_from="latest"))
    drill = build("exp-drill", config, prod_outputs=stack_reference_outputs(prod))
    secret = drill.one("kubernetes:core/v1:Secret", "drill-repository-password")
    assert secret.inputs["metadata"] == {"name": "velero-repo-credentials", "namespace": "velero"}
    assert secret.inputs["stringData"] == {"repository-password": "[secret]"}
    restore = drill.one("kubernetes:batch/v1:Job", "drill-restore-drill")
    assert secret.urn in restore.dependencies


def test_backup_location_is_the_offsite_bucket_under_this_clusters_prefix(prod):
    location = prod.one("kubernetes:velero.io/v1:BackupStorageLocation", "backup-location").inputs["spec"]
    assert location["objectStorage"] == {"bucket": "example-homelab-velero", "prefix": "homelab"}
    assert location["config"] == {"region": "eu-west-2"}
    assert location["credential"] == {"name": "velero-offsite-credentials", "key": "cloud"}
    secret = prod.one("kubernetes:core/v1:Secret", "velero-offsite-credentials", within=PLATFORM)
    assert redacted(secret.inputs["stringData"])


def test_one_daily_schedule_copies_the_platforms_objects_and_no_live_store_files(prod):
    schedules = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in prod.by_type(SCHEDULE)}
    # No guest-VM schedule: its file-system backup could never put a VM disk back (the KubeVirt plugin skips
    # launcher pods on restore), and Cluster API rebuilds the VMs from code.
    assert set(schedules) == {"platform"}
    (spec,) = schedules.values()
    assert spec["schedule"] == "0 3 * * *"
    assert spec["template"]["ttl"] == "336h0m0s"
    assert spec["template"]["storageLocation"] == "offsite"
    # MinIO's drives and the etcd data directory are live files: the storage layer's off-site copy carries them.
    assert spec["template"]["defaultVolumesToFsBackup"] is False and spec["template"]["snapshotVolumes"] is False
    platform = spec["template"]["includedNamespaces"]
    assert {"argocd", "cert-manager", "kubevirt", "capi-system", "velero", "storage"} <= set(platform)


def test_tailscale_operator_reads_its_oauth_client_from_a_secret_not_values(prod):
    operator = prod.one(RELEASE, "tailscale-operator")
    assert "oauth" not in operator.inputs["values"]
    assert operator.inputs["values"]["operatorConfig"]["defaultTags"] == ["tag:k8s-operator"]
    secret = prod.one("kubernetes:core/v1:Secret", "operator-oauth", within=PLATFORM)
    assert set(secret.inputs["stringData"]) == {"client_id", "client_secret"} and redacted(secret.inputs["stringData"])
    assert secret.urn in operator.dependencies
