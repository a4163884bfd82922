"""Every pod the program writes itself (not the charts' pods) passes the outside scanner's security-context
checks: a non-root user, no privilege escalation, every capability dropped (NET_RAW included), the runtime's
seccomp profile, a read-only root filesystem, and a service-account token only where the pod calls the API.
Whether Pod Security admits them at their namespace's level is the upstream tier's to say (test_api_server)."""

import os
import subprocess
from typing import Any

import pytest

from components.platform.metadata_tls import CLIENT_FILES_SYNC, NODE_CONFIG_DIR, NODE_WRITER_SECURITY
from components.platform.workloads import OWNERSHIP_CONTAINER, OWNERSHIP_SECURITY, ownership_container
from labctl.experiments.request import ExperimentRequest, stack_config
from labctl.render import kubernetes_objects, manifest
from labctl.synth import read_stack_file, stack_reference_outputs
from tests.upstream.charts import pod_template

# The pods that talk to an API server with their service account, and why.
API_CLIENTS = {
    "kubevirt-cloud-controller",  # a guest's cloud controller makes its LoadBalancer Services in this cluster
    "restore-drill", "restore-drill-ready",  # the drill runs velero and kubectl against the guest's API
}


def own_pods(result: Any) -> list[tuple[str, dict[str, Any]]]:
    pods = []
    for _, registration in kubernetes_objects(result):
        obj = manifest(registration)
        template = pod_template(obj)
        if template:
            pods.append((str(obj["metadata"]["name"]), dict(template["spec"])))
    return pods


def node_writer_findings(pod: dict[str, Any]) -> list[str]:
    """The one pod that keeps root: it writes the metadata client's files into the node's JuiceFS directory, for
    the CSI plugins (root themselves) to read, and may do nothing else."""
    (container,) = pod["containers"]
    host_paths = [volume["hostPath"]["path"] for volume in pod["volumes"] if "hostPath" in volume]
    found = []
    if container["securityContext"] != NODE_WRITER_SECURITY:
        found.append(f"{CLIENT_FILES_SYNC}: more than root without capabilities")
    if len(host_paths) != 1 or not host_paths[0].startswith(f"{NODE_CONFIG_DIR}/"):
        found.append(f"{CLIENT_FILES_SYNC}: a node directory other than its own")
    if pod.get("automountServiceAccountToken") is not False or pod["securityContext"] != {
            "seccompProfile": {"type": "RuntimeDefault"}}:
        found.append(f"{CLIENT_FILES_SYNC}: token or seccomp")
    return found


def findings(name: str, pod: dict[str, Any]) -> list[str]:
    if name == CLIENT_FILES_SYNC:
        return node_writer_findings(pod)
    context = pod.get("securityContext", {})
    found = [f"{name}: {key}" for key, wanted in (("runAsNonRoot", True), ("seccompProfile",
                                                                           {"type": "RuntimeDefault"}))
             if context.get(key) != wanted]
    if context.get("runAsUser") in (None, 0):
        found.append(f"{name}: runs as root")
    if pod.get("automountServiceAccountToken") is not (name in API_CLIENTS):
        found.append(f"{name}: service-account token")
    for container in [*pod.get("initContainers", []), *pod["containers"]]:
        security = container.get("securityContext", {})
        label = f"{name}/{container['name']}"
        if container["name"] == OWNERSHIP_CONTAINER:
            # The one root container: CHOWN alone, once, over the store's own volume (baseline admits it).
            if security != OWNERSHIP_SECURITY or not container["volumeMounts"]:
                found.append(f"{label}: more than CHOWN over its volume")
            continue
        if security.get("allowPrivilegeEscalation") is not False:
            found.append(f"{label}: privilege escalation")
        if security.get("capabilities") != {"drop": ["ALL"]}:
            found.append(f"{label}: capabilities")
        if security.get("readOnlyRootFilesystem") is not True:
            found.append(f"{label}: writable root filesystem")
    return found


@pytest.mark.parametrize(("stack", "at_least"), [("prod", 6), ("lab", 1)])
def test_every_pod_the_program_writes_meets_restricted_and_more(stack, at_least, request):
    pods = own_pods(request.getfixturevalue(stack))
    assert len(pods) >= at_least
    assert [finding for name, pod in pods for finding in findings(name, pod)] == []


def test_the_restore_drills_pods_too(build, prod):
    config = stack_config(read_stack_file("lab"), ExperimentRequest(name="drill", workers=2, restore_from="latest"))
    pods = own_pods(build("exp-drill", config, prod_outputs=stack_reference_outputs(prod)))
    assert {"restore-drill", "restore-drill-ready"} <= {name for name, _ in pods}
    assert [finding for name, pod in pods for finding in findings(name, pod)] == []


def test_the_stores_hand_their_volumes_to_their_user_and_nothing_else_runs_as_root(prod):
    for store in ("minio", "juicefs-meta"):
        pod = prod.one("kubernetes:apps/v1:StatefulSet", store).inputs["spec"]["template"]["spec"]
        owner, *later = pod["initContainers"]
        assert all(c["securityContext"].get("runAsUser", 1) != 0 for c in later), "only the hand-over keeps root"
        (main,) = pod["containers"]
        data = [m for m in main["volumeMounts"] if m["name"] == "data"]
        assert owner["volumeMounts"] == data and owner["command"][-len(data):] == [m["mountPath"] for m in data]
        assert {"name": "OWNER", "value": str(pod["securityContext"]["runAsUser"])} in owner["env"]


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root, as the init container has")
def test_the_hand_over_script_changes_everything_once_and_the_top_directory_last(tmp_path):
    data = tmp_path / "data"
    (data / "member" / "snap").mkdir(parents=True)
    (data / "member" / "snap" / "db").write_text("x")
    (data / "member").chmod(0o700)
    command = ownership_container({"name": "m", "volumeMounts": [{"name": "data", "mountPath": str(data)}]},
                                  ["data"])["command"]
    env = {"OWNER": "65532", "PATH": "/usr/bin:/bin"}
    assert subprocess.run(command, env=env, check=False).returncode == 0
    assert {path.stat().st_uid for path in [data, *data.rglob("*")]} == {65532}
    (data / "new-as-root").write_text("y")
    os.chown(data / "new-as-root", 0, 0)
    assert subprocess.run(command, env=env, check=False).returncode == 0
    assert (data / "new-as-root").stat().st_uid == 0, "a directory already handed over is not walked again"


def test_the_check_can_fail():
    pod = {"securityContext": {"runAsNonRoot": True}, "containers": [{"name": "c"}]}
    assert findings("p", pod) == ["p: seccompProfile", "p: runs as root", "p: service-account token",
                                  "p/c: privilege escalation", "p/c: capabilities", "p/c: writable root filesystem"]
