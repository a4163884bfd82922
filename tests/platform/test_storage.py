"""The object store: erasure-coded across nodes on the Talos user volume, root credentials only as a secret."""

from components import versions
from tests.conftest import redacted

STATEFULSET = "kubernetes:apps/v1:StatefulSet"


def _minio(result):
    return result.one(STATEFULSET, "minio").inputs


def test_minio_runs_one_server_per_node_distributed_over_four_drives(prod):
    spec = _minio(prod)["spec"]
    assert spec["replicas"] == 4
    (container,) = spec["template"]["spec"]["containers"]
    assert container["args"][:2] == ["server", "http://minio-{0...3}.minio-hl.storage.svc.cluster.local/data"]
    (rule,) = spec["template"]["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert rule["topologyKey"] == "kubernetes.io/hostname"


def test_minio_data_lives_on_the_talos_user_volume(prod):
    (volume,) = _minio(prod)["spec"]["template"]["spec"]["volumes"]
    assert volume["hostPath"] == {"path": "/var/mnt/storage/minio", "type": "DirectoryOrCreate"}
    namespace = prod.one("kubernetes:core/v1:Namespace", "ns-storage").inputs["metadata"]["labels"]
    assert namespace["pod-security.kubernetes.io/enforce"] == "privileged"


def test_minio_image_is_pinned_and_configurable(prod, build):
    (container,) = _minio(prod)["spec"]["template"]["spec"]["containers"]
    assert container["image"] == versions.MINIO_IMAGE
    from labctl.synth import read_stack_file

    platform = {**read_stack_file("prod")["homelab:platform"],
                "objectStore": {"image": "registry.example.net/s3/minio:RELEASE.2025-10-15T17-29-55Z"}}
    (other,) = _minio(build("prod", {"homelab:platform": platform}))["spec"]["template"]["spec"]["containers"]
    assert other["image"] == "registry.example.net/s3/minio:RELEASE.2025-10-15T17-29-55Z"


def test_root_credentials_come_from_the_secret_config_value_as_a_secret(prod):
    secret = prod.one("kubernetes:core/v1:Secret", "object-store-root")
    assert redacted(secret.inputs["stringData"])
    (container,) = _minio(prod)["spec"]["template"]["spec"]["containers"]
    refs = {env["name"]: env["valueFrom"]["secretKeyRef"] for env in container["env"]}
    assert refs["MINIO_ROOT_PASSWORD"] == {"name": "object-store-root", "key": "password"}
    assert secret.urn in prod.one(STATEFULSET, "minio").dependencies


def test_minio_is_in_the_budget(prod):
    owners = {w["owner"] for w in prod.outputs["capacity"]["workloads"]}
    assert "minio" in owners
