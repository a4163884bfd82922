"""Pod-spec pieces the program's own workloads share: secret-backed variables, node-spread StatefulSets, and
the security context that lets every pod the program writes itself run at Pod Security "restricted"."""

from typing import Any

from components.platform.priority import PLATFORM
from components.quantities import resources
from components.versions import BUSYBOX_IMAGE, STATIC_BUSYBOX_IMAGE


def secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    """An environment variable read from one key of a Secret (never a literal value)."""
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def object_store_keys_env(secret: str) -> list[dict[str, Any]]:
    """The object store's keys (a Secret with ``user`` and ``password``) as ``S3_ACCESS_KEY_ID`` and
    ``S3_SECRET_ACCESS_KEY``, the variables the stores' configurations expand."""
    return [secret_env("S3_ACCESS_KEY_ID", secret, "user"), secret_env("S3_SECRET_ACCESS_KEY", secret, "password")]


def spread_statefulset(service: str, replicas: int, labels: dict[str, str], container: dict[str, Any],
                       claims: list[dict[str, Any]], volumes: list[dict[str, Any]] | None = None,
                       init_containers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A StatefulSet of platform priority with at most one pod per node, all started at once.

    For replicated stores: one member per node is what lets them survive a dead node, and starting in
    parallel lets the members find each other.
    """
    pod = restricted({
        "priorityClassName": PLATFORM.name,
        "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": labels}, "topologyKey": "kubernetes.io/hostname"}]}},
        "containers": [container],
        "volumes": volumes or [],
        **({"initContainers": init_containers} if init_containers else {}),
    })
    # Added after the hardening, and first: the one container that keeps root (and only CHOWN).
    pod["initContainers"] = [ownership_container(container, [claim["metadata"]["name"] for claim in claims]),
                             *pod.get("initContainers", [])]
    return {
        "serviceName": service,
        "replicas": replicas,
        "podManagementPolicy": "Parallel",
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels},
            "spec": pod,
        },
        "volumeClaimTemplates": claims,
    }


# The user every pod the program writes itself runs as (distroless' "nonroot"); none of the images needs root.
NON_ROOT = 65532
# Read-only root filesystems: a pod's scratch space, and HOME for the tools that keep state there (MinIO's
# certificate directory, rclone's and kubectl's caches), is this emptyDir.
SCRATCH = "/tmp"
_SCRATCH_VOLUME = "scratch"
# What Pod Security "restricted" asks of each container, and a read-only root filesystem besides.
CONTAINER_SECURITY: dict[str, Any] = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                                      "readOnlyRootFilesystem": True}


def pod_security_context(user: int) -> dict[str, Any]:
    """What "restricted" asks of a pod running as ``user``."""
    return {"runAsNonRoot": True, "runAsUser": user, "runAsGroup": user, "seccompProfile": {"type": "RuntimeDefault"}}


OWNERSHIP_CONTAINER = "take-ownership"
# Its one privilege: root with CHOWN alone (Pod Security "baseline" allows it, "restricted" does not).
OWNERSHIP_SECURITY: dict[str, Any] = {"runAsUser": 0, "runAsNonRoot": False, "allowPrivilegeEscalation": False,
                                      "capabilities": {"drop": ["ALL"], "add": ["CHOWN"]},
                                      "readOnlyRootFilesystem": True}
# Each directory the main container keeps data in, unless it already belongs to the user: everything beneath it
# first and the directory itself last, so an interrupted hand-over is taken up again at the next start.
_OWNERSHIP_SCRIPT = ('set -e; for d in "$@"; do [ "$(stat -c %u "$d")" = "$OWNER" ] && continue; '
                     'find "$d" -mindepth 1 -exec chown -h "$OWNER:$OWNER" {} +; chown "$OWNER:$OWNER" "$d"; done')


def ownership_container(container: dict[str, Any], claims: list[str], user: int = NON_ROOT) -> dict[str, Any]:
    """The init container that hands ``container``'s claimed volumes to ``user``.

    Stores that ran as root before keep root's files on their node-pinned volumes, and the kubelet's ``fsGroup``
    cannot be relied on to change them: a local volume shared by two pods of the node (MinIO's drive and the
    metadata etcd's data share the user volume) is never re-owned while the other pod has it mounted
    (pkg/volume/local/local.go SetUpAt). This changes them once; later starts only check the top directory.
    """
    mounts = [mount for mount in container.get("volumeMounts", []) if mount["name"] in claims]
    return {"name": OWNERSHIP_CONTAINER, "image": BUSYBOX_IMAGE,
            "command": ["sh", "-c", _OWNERSHIP_SCRIPT, "sh", *(mount["mountPath"] for mount in mounts)],
            "env": [{"name": "OWNER", "value": str(user)}], "volumeMounts": mounts,
            "securityContext": OWNERSHIP_SECURITY, "resources": resources("10m", "16Mi", memory_limit="64Mi")}


# A static busybox (STATIC_BUSYBOX_IMAGE) copied into a pod's emptyDir, for the shell images without one lack
# (talosctl's is scratch, etcd's distroless). Scripts run by it call only shell builtins and the image's own tools.
SHELL_TOOLS = "/tools"
SHELL_VOLUME = {"name": "tools", "emptyDir": {"sizeLimit": "16Mi"}}
SHELL_MOUNT = {"name": "tools", "mountPath": SHELL_TOOLS}


def shell_copy_container() -> dict[str, Any]:
    """The init container that puts the shell in place; it goes before every container that uses it."""
    return {"name": "shell", "image": STATIC_BUSYBOX_IMAGE, "command": ["cp", "/bin/busybox", f"{SHELL_TOOLS}/busybox"],
            "volumeMounts": [SHELL_MOUNT], "resources": resources("10m", "16Mi", memory_limit="32Mi")}


def shell_command(script: str, *arguments: str) -> list[str]:
    """A container command that runs ``script`` with the copied shell (``arguments`` become ``$0``, ``$1``…)."""
    return [f"{SHELL_TOOLS}/busybox", "sh", "-c", script, *arguments]


def _hardened_container(container: dict[str, Any]) -> dict[str, Any]:
    env = [*container.get("env", []), {"name": "HOME", "value": SCRATCH}]
    mounts = [*container.get("volumeMounts", []), {"name": _SCRATCH_VOLUME, "mountPath": SCRATCH}]
    return {**container, "env": env, "volumeMounts": mounts, "securityContext": CONTAINER_SECURITY}


def restricted(pod: dict[str, Any], api_access: bool = False, user: int = NON_ROOT) -> dict[str, Any]:
    """``pod`` as Pod Security "restricted" admits it: a non-root user, no privilege escalation, every
    capability dropped and the runtime's seccomp profile; also a read-only root filesystem, and no
    service-account token unless the pod talks to the API (``api_access``)."""
    hardened = {
        **pod,
        "automountServiceAccountToken": api_access,
        "securityContext": pod_security_context(user),
        "volumes": [*pod.get("volumes", []), {"name": _SCRATCH_VOLUME, "emptyDir": {"sizeLimit": "256Mi"}}],
        "containers": [_hardened_container(c) for c in pod["containers"]],
    }
    if pod.get("initContainers"):
        hardened["initContainers"] = [_hardened_container(c) for c in pod["initContainers"]]
    return hardened
