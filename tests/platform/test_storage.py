"""The object store: erasure-coded across nodes on the Talos user volume, root credentials only as a secret."""

import shlex
from urllib.parse import parse_qs, urlsplit

from components import versions
from components.platform.metadata_tls import CLIENT_DIR, CLIENT_SECRET
from tests.conftest import redacted

STATEFULSET = "kubernetes:apps/v1:StatefulSet"

PLATFORM = "homelab:platform:Platform"


def _minio(result):
    return result.one(STATEFULSET, "minio").inputs


def test_minio_runs_one_server_per_node_distributed_over_four_drives(prod):
    spec = _minio(prod)["spec"]
    assert spec["replicas"] == 4
    (container,) = spec["template"]["spec"]["containers"]
    assert container["args"][:2] == ["server", "http://minio-{0...3}.minio-hl.storage.svc.cluster.local/data"]
    (rule,) = spec["template"]["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert rule["topologyKey"] == "kubernetes.io/hostname"


def test_each_store_keeps_its_data_on_node_pinned_local_volumes_of_the_user_volume(prod):
    for consumer, statefulset, members in (("minio", "minio", 4), ("juicefs-meta", "juicefs-meta", 3)):
        volumes = [r for r in prod.by_type("kubernetes:core/v1:PersistentVolume")
                   if r.inputs["metadata"]["labels"]["homelab.dev/local-volume-for"] == consumer]
        names = sorted(v.inputs["metadata"]["name"] for v in volumes)
        assert names == [f"local-{consumer}-pi-{i}" for i in range(1, 5)]
        for volume in volumes:
            spec = volume.inputs["spec"]
            assert spec["local"] == {"path": "/var/mnt/storage"}
            (term,) = spec["nodeAffinity"]["required"]["nodeSelectorTerms"]
            node = volume.inputs["metadata"]["name"].removeprefix(f"local-{consumer}-")
            assert term["matchExpressions"][0]["values"] == [node]
            assert spec["persistentVolumeReclaimPolicy"] == "Retain" and volume.protect is True
        spec = prod.one(STATEFULSET, statefulset).inputs["spec"]
        assert spec["replicas"] == members
        (claim,) = spec["volumeClaimTemplates"]
        assert claim["spec"]["storageClassName"] == "local-ssd"
        assert claim["spec"]["selector"] == {"matchLabels": {"homelab.dev/local-volume-for": consumer}}
        (container,) = spec["template"]["spec"]["containers"]
        assert container["volumeMounts"][0]["subPath"] == consumer
    namespace = prod.one("kubernetes:core/v1:Namespace", "ns-storage").inputs["metadata"]["labels"]
    assert namespace["pod-security.kubernetes.io/enforce"] == "baseline"
    assert namespace["pod-security.kubernetes.io/warn"] == "restricted"


def test_juicefs_metadata_is_a_three_member_etcd_one_per_node(prod):
    spec = prod.one(STATEFULSET, "juicefs-meta").inputs["spec"]
    (container,) = spec["template"]["spec"]["containers"]
    cluster = next(a for a in container["args"] if a.startswith("--initial-cluster="))
    assert cluster.count("=http://") == 3
    assert container["image"] == versions.ETCD_IMAGE
    (rule,) = spec["template"]["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert rule["topologyKey"] == "kubernetes.io/hostname"


def test_a_metadata_member_decides_how_to_start_before_etcd_does(prod):
    """The rejoin step (run against real etcd in tests/upstream/test_metadata_rejoin.py) sees the member's own
    data, reaches the members with the server's certificate, and leaves its decision where etcd's start reads it."""
    pod = prod.one(STATEFULSET, "juicefs-meta").inputs["spec"]["template"]["spec"]
    assert [c["name"] for c in pod["initContainers"]] == ["take-ownership", "shell", "rejoin"]
    rejoin, (etcd,) = pod["initContainers"][2], pod["containers"]
    assert rejoin["command"][:3] == ["/tools/busybox", "sh", "-c"] and "member add" in rejoin["command"][3]
    env = {e["name"]: e.get("value") for e in rejoin["env"]}
    mounted = next(m["mountPath"] for m in rejoin["volumeMounts"] if m["name"] == "tls")
    assert env["ETCDCTL_CERT"] == f"{mounted}/tls.crt" and env["ETCDCTL_CACERT"] == f"{mounted}/ca.crt"
    assert env["PEER_URL"] == "http://$(POD_NAME).juicefs-meta.storage.svc.cluster.local:2380"
    data_mount = next(m for m in etcd["volumeMounts"] if m["name"] == "data")
    assert data_mount in rejoin["volumeMounts"]
    assert "--initial-cluster-state" not in " ".join(etcd["args"]), "the rejoin step decides it"
    assert etcd["command"][3].startswith('read -r state < "$STATE_FILE"')


def test_juicefs_runs_immutable_on_talos_with_its_volume_secret(prod):
    driver = prod.one("kubernetes:helm.sh/v3:Release", "juicefs-csi-driver").inputs
    assert driver["values"]["immutable"] is True
    assert driver["version"] == versions.JUICEFS_CSI
    secret = prod.one("kubernetes:core/v1:Secret", "juicefs-volume", within=PLATFORM).inputs["stringData"]
    assert redacted(secret)  # it carries the object store's root password, so all of it is secret
    assert set(secret) == {"name", "metaurl", "storage", "bucket", "access-key", "secret-key", "configs"}


def test_storage_classes_default_and_shared_on_juicefs_and_local_ssd(prod):
    classes = {r.inputs["metadata"]["name"]: r for r in prod.by_type("kubernetes:storage.k8s.io/v1:StorageClass")
               if f"{PLATFORM}$" in r.urn}
    assert set(classes) == {"juicefs", "juicefs-shared", "local-ssd"}
    default = classes["juicefs"].inputs
    assert default["metadata"]["annotations"] == {"storageclass.kubernetes.io/is-default-class": "true",
                                                  "storageclass.kubevirt.io/is-default-virt-class": "true"}
    assert default["provisioner"] == "csi.juicefs.com"
    assert default["parameters"]["csi.storage.k8s.io/node-publish-secret-name"] == "juicefs-volume"
    assert classes["juicefs-shared"].inputs["reclaimPolicy"] == "Retain"
    assert prod.one("kubernetes:helm.sh/v3:Release", "juicefs-csi-driver").urn in classes["juicefs"].dependencies
    assert classes["local-ssd"].inputs["provisioner"] == "kubernetes.io/no-provisioner"


def test_juicefs_classes_can_expand_and_cache_on_the_storage_volume_within_a_cap(prod):
    infrastructure = [r.inputs for r in prod.by_type("kubernetes:storage.k8s.io/v1:StorageClass")
                      if f"{PLATFORM}$" in r.urn and r.inputs["provisioner"] == "csi.juicefs.com"]
    guest = [r.inputs for r in prod.by_type("kubernetes:storage.k8s.io/v1:StorageClass")
             if "homelab:apps:InsideProduction$" in r.urn]
    assert len(infrastructure) == len(guest) == 2
    for storage_class in (*infrastructure, *guest):
        # The CSI controller's ControllerExpandVolume sets the new quota with the volume's secret.
        assert storage_class["allowVolumeExpansion"] is True
        assert storage_class["parameters"]["csi.storage.k8s.io/controller-expand-secret-name"] == "juicefs-volume"
        assert storage_class["parameters"]["csi.storage.k8s.io/controller-expand-secret-namespace"] == "juicefs"
    for storage_class in infrastructure:
        # Off Talos' EPHEMERAL volume (JuiceFS's default /var/jfsCache), capped per mount.
        assert storage_class["mountOptions"] == ["cache-dir=/var/mnt/storage/juicefs-cache", "cache-size=4096",
                                                 "free-space-ratio=0.2"]
    for storage_class in guest:
        assert storage_class["mountOptions"] == ["cache-size=0"]


def test_a_cache_that_could_crowd_the_storage_volume_is_refused(reject):
    from labctl.synth import read_stack_file

    cluster = {**read_stack_file("prod")["homelab:cluster"],
               "storageVolume": {"minSize": "40GiB", "juicefsCacheSize": "4GiB"}}
    rejected = reject("prod", {"homelab:cluster": cluster})
    assert rejected.error.issues[0].key == "homelab:cluster.storageVolume.juicefsCacheSize"
    assert "lower juicefsCacheSize to at most 3413Mi" in str(rejected.error)
    assert rejected.registered == []


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
    refs = {env["name"]: env["valueFrom"]["secretKeyRef"] for env in container["env"] if "valueFrom" in env}
    assert refs["MINIO_ROOT_PASSWORD"] == {"name": "object-store-root", "key": "password"}
    assert secret.urn in prod.one(STATEFULSET, "minio").dependencies


def test_minio_is_in_the_budget(prod):
    owners = {w["owner"] for w in prod.outputs["capacity"]["workloads"]}
    assert "minio" in owners


def _pod(prod, name):
    return prod.one("kubernetes:batch/v1:CronJob", name).inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def test_the_storage_layer_goes_offsite_hourly_as_a_dump_and_the_chunks_it_needs(prod):
    job = prod.one("kubernetes:batch/v1:CronJob", "offsite-replication").inputs["spec"]
    assert job["concurrencyPolicy"] == "Forbid" and job["schedule"] == "17 * * * *"
    pod = _pod(prod, "offsite-replication")
    # Dump first, then the chunks, then the dumps go up: a dump off-site always has its chunks off-site. The
    # start is reported before, the success only after.
    assert [c["name"] for c in pod["initContainers"]] == ["report-start", "dump", "chunks", "dumps"]
    assert [c["name"] for c in pod["containers"]] == ["report-success"]
    dump = pod["initContainers"][1]
    assert dump["image"] == versions.JUICEFS_MOUNT_IMAGE
    script = dump["command"][-1].splitlines()
    assert [line.split()[:2] for line in script] == [["juicefs", "dump"]] * 2
    urls = [urlsplit(shlex.split(line)[2]) for line in script]
    assert [url.path.rsplit("/", 1)[1] for url in urls] == ["homelab", "production"]
    # Its own client certificate of the metadata engine, where the metaurl names it.
    assert all(parse_qs(url.query)["cert"] == [f"{CLIENT_DIR}/tls.crt"] for url in urls)
    assert {"name": CLIENT_SECRET, "mountPath": CLIENT_DIR, "readOnly": True} in dump["volumeMounts"]
    assert {"name": CLIENT_SECRET, "secret": {"secretName": CLIENT_SECRET}} in pod["volumes"]
    chunks = pod["initContainers"][2]
    assert chunks["command"][:4] == ["rclone", "sync", "homelab:juicefs", "offsite:example-homelab-storage-offsite"]
    assert "--exclude=/juicefs-meta/**" in chunks["command"], "the sync must not delete the dumps"
    upload = pod["initContainers"][3]["command"][-1]
    assert upload.index("/juicefs-meta/homelab/latest.json.gz") < upload.index("/juicefs-meta/production/latest")
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in chunks["env"] if "valueFrom" in e}
    assert refs["RCLONE_CONFIG_OFFSITE_SECRET_ACCESS_KEY"] == "offsite-replication-credentials"
    secret = prod.one("kubernetes:core/v1:Secret", "offsite-replication-credentials")
    assert redacted(secret.inputs["stringData"])


def test_a_weekly_check_restores_each_newest_dump_against_the_offsite_bucket(prod):
    job = prod.one("kubernetes:batch/v1:CronJob", "offsite-restore-check").inputs["spec"]
    assert job["schedule"] == "47 4 * * 0"
    pod = _pod(prod, "offsite-restore-check")
    _, fetch, check = pod["initContainers"]
    assert "rclone copyto offsite:example-homelab-storage-offsite/juicefs-meta/homelab/latest.json.gz" in \
        fetch["command"][-1]
    assert [c["name"] for c in pod["containers"]] == ["report-success"]
    steps = [line.split()[:2] for line in check["command"][-1].splitlines()]
    assert steps == [["juicefs", "load"], ["juicefs", "config"], ["juicefs", "fsck"]] * 2
    assert "--bucket https://example-homelab-storage-offsite.s3.eu-west-2.amazonaws.com" in check["command"][-1]
    assert {e["name"] for e in check["env"] if "valueFrom" in e} == {"ACCESS_KEY", "SECRET_KEY"}
    driver = prod.one("kubernetes:helm.sh/v3:Release", "juicefs-csi-driver").inputs["values"]
    assert driver["defaultMountImage"]["ce"] == check["image"] == versions.JUICEFS_MOUNT_IMAGE


def test_vm_disks_on_the_default_class_are_read_write_many_for_live_migration(prod):
    profile = prod.one("kubernetes:cdi.kubevirt.io/v1beta1:StorageProfilePatch", "storage-profile-juicefs")
    assert profile.inputs["metadata"]["name"] == "juicefs"
    assert profile.inputs["spec"]["claimPropertySets"] == [
        {"accessModes": ["ReadWriteMany"], "volumeMode": "Filesystem"}]
    cdi = prod.one("kubernetes:cdi.kubevirt.io/v1beta1:CDI", "cdi")
    juicefs = prod.one("kubernetes:storage.k8s.io/v1:StorageClass", "juicefs", within=PLATFORM)
    assert {cdi.urn, juicefs.urn} <= set(profile.dependencies)
