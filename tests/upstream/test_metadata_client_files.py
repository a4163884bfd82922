"""Where the metadata engine's client files reach each client, judged by the real chart and the real kustomize.

- The CSI plugins (the chart's node DaemonSet and controller StatefulSet, as real Helm renders them with the
  program's values, in the infrastructure cluster and in production's guest) must see the node directory the
  program's copy DaemonSet writes to at the very path the ``metaurl`` names.
- A guest's copy is `kubectl apply -k` over the files the delivery pod mounts. Laid out as the kubelet lays out a
  projected volume (each file a symlink into a timestamped directory through ``..data``), the program's
  kustomization must build, with the kustomize kubectl embeds, into the guest's Secret with the issued files.
"""

import base64
import os
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from components.platform.metadata_tls import CLIENT_DIR, CLIENT_FILES_SYNC, CLIENT_SECRET, FILES
from components.versions import KUBERNETES
from tests.upstream.charts import INFRASTRUCTURE, installs, pod_template, render

PLUGIN = "juicefs-plugin"


def _plugin_pods(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    pods = {}
    for obj in objects:
        template = pod_template(obj)
        if template and any(c["name"] == PLUGIN for c in template["spec"]["containers"]):
            pods[obj["kind"]] = dict(template["spec"])
    return pods


def _node_path_of_client_dir(pod: dict[str, Any]) -> str | None:
    """The node path the plugin container sees at ``CLIENT_DIR``, through its hostPath mounts."""
    (plugin,) = [c for c in pod["containers"] if c["name"] == PLUGIN]
    volumes = {v["name"]: v for v in pod["volumes"]}
    for mount in plugin["volumeMounts"]:
        inside = PurePosixPath(mount["mountPath"])
        host = volumes[mount["name"]].get("hostPath")
        if host and PurePosixPath(CLIENT_DIR).is_relative_to(inside):
            return str(PurePosixPath(host["path"]) / PurePosixPath(CLIENT_DIR).relative_to(inside))
    return None


def test_the_csi_plugins_see_the_node_copy_where_the_metaurl_names_it(prod, helm: Path):
    copies = [r for r in prod.by_type("kubernetes:apps/v1:DaemonSet") if r.name == CLIENT_FILES_SYNC]
    written = {volume["hostPath"]["path"] for sync in copies
               for volume in sync.inputs["spec"]["template"]["spec"]["volumes"] if "hostPath" in volume}
    assert len(copies) == 2 and len(written) == 1  # the infrastructure cluster's and the guest's, one shape
    juicefs = [install for install in installs(prod) if install.chart == "juicefs-csi-driver"]
    assert {install.cluster for install in juicefs} == {INFRASTRUCTURE, "production"}
    for install in juicefs:
        pods = _plugin_pods(render(helm, install, KUBERNETES))
        assert set(pods) == {"DaemonSet", "StatefulSet"}, install.label
        for kind, pod in pods.items():
            assert _node_path_of_client_dir(pod) in written, (
                f"{install.label} {kind}: the plugin does not see the node copy at {CLIENT_DIR}")


def _projected_volume(directory: Path, files: dict[str, bytes]) -> Path:
    """``files`` as the kubelet's atomic writer leaves a projected volume: ``name -> ..data/name``,
    ``..data -> ..<timestamp>``."""
    stamped = directory / "..2026_12_01_00_00_00.000000000"
    stamped.mkdir(parents=True)
    for name, content in files.items():
        (stamped / name).write_bytes(content)
    os.symlink(stamped.name, directory / "..data")
    for name in files:
        os.symlink(f"..data/{name}", directory / name)
    return directory


def test_the_delivery_builds_the_guests_secret_from_the_mounted_files(prod, kustomize: Path, tmp_path: Path):
    configmap = prod.one("kubernetes:core/v1:ConfigMap", f"production-{CLIENT_SECRET}").inputs["data"]
    issued = {name: f"-----BEGIN {name}-----\n{index}\n".encode() for index, name in enumerate(FILES)}
    delivery = _projected_volume(tmp_path / "delivery", {**{k: v.encode() for k, v in configmap.items()}, **issued})
    # The delivery pod's command, pointed at this directory.
    job = prod.one("kubernetes:batch/v1:Job", f"production-{CLIENT_SECRET}-first").inputs["spec"]["template"]["spec"]
    (container,) = job["containers"]
    assert container["command"][:2] == ["kubectl", "apply"] and container["command"][-2] == "-k"
    mounted = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert mounted[container["command"][-1]] == "delivery"
    built = subprocess.run([str(kustomize), "build", str(delivery)], capture_output=True, text=True, timeout=60)
    assert built.returncode == 0, built.stderr
    (secret,) = [doc for doc in yaml.safe_load_all(built.stdout) if doc]
    assert (secret["kind"], secret["metadata"]["name"], secret["metadata"]["namespace"], secret["type"]) == (
        "Secret", CLIENT_SECRET, "juicefs", "kubernetes.io/tls")
    assert {key: base64.b64decode(value) for key, value in secret["data"].items()} == issued
