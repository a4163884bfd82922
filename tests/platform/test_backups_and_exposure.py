"""Velero writes the platform and the guest VMs off-site; the Tailscale operator gets its own OAuth client."""

from components import versions
from tests.conftest import redacted

RELEASE = "kubernetes:helm.sh/v3:Release"
SCHEDULE = "kubernetes:velero.io/v1:Schedule"

PLATFORM = "homelab:platform:Platform"


def test_velero_has_the_aws_and_kubevirt_plugins_and_the_node_agent(prod):
    velero = prod.one(RELEASE, "velero").inputs
    assert velero["version"] == versions.VELERO
    images = [c["image"] for c in velero["values"]["initContainers"]]
    assert images == [f"velero/velero-plugin-for-aws:{versions.VELERO_AWS_PLUGIN}",
                      f"quay.io/kubevirt/kubevirt-velero-plugin:{versions.KUBEVIRT_VELERO_PLUGIN}"]
    assert velero["values"]["deployNodeAgent"] is True
    assert velero["values"]["credentials"] == {"useSecret": True, "existingSecret": "velero-offsite-credentials"}


def test_backup_location_is_the_offsite_bucket_under_this_clusters_prefix(prod):
    location = prod.one("kubernetes:velero.io/v1:BackupStorageLocation", "backup-location").inputs["spec"]
    assert location["objectStorage"] == {"bucket": "example-homelab-velero", "prefix": "homelab"}
    assert location["config"] == {"region": "eu-west-2"}
    assert location["credential"] == {"name": "velero-offsite-credentials", "key": "cloud"}
    secret = prod.one("kubernetes:core/v1:Secret", "velero-offsite-credentials", within=PLATFORM)
    assert redacted(secret.inputs["stringData"])


def test_daily_schedules_cover_platform_namespaces_and_guest_vms_with_configured_retention(prod):
    schedules = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in prod.by_type(SCHEDULE)}
    assert set(schedules) == {"platform", "guest-vms"}
    for spec in schedules.values():
        assert spec["schedule"] == "0 3 * * *"
        assert spec["template"]["ttl"] == "336h0m0s"
        assert spec["template"]["storageLocation"] == "offsite"
    platform = schedules["platform"]["template"]["includedNamespaces"]
    assert {"argocd", "cert-manager", "kubevirt", "capi-system", "velero"} <= set(platform)
    assert schedules["guest-vms"]["template"]["includedNamespaces"] == ["production"]


def test_tailscale_operator_reads_its_oauth_client_from_a_secret_not_values(prod):
    operator = prod.one(RELEASE, "tailscale-operator")
    assert "oauth" not in operator.inputs["values"]
    assert operator.inputs["values"]["operatorConfig"]["defaultTags"] == ["tag:k8s-operator"]
    secret = prod.one("kubernetes:core/v1:Secret", "operator-oauth", within=PLATFORM)
    assert set(secret.inputs["stringData"]) == {"client_id", "client_secret"} and redacted(secret.inputs["stringData"])
    assert secret.urn in operator.dependencies
