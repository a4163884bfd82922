"""Talos upgrades from code: a new Talos pin reaches every node, one node at a time, each after the cluster is
healthy.

Talos does not upgrade on a machine-config change: ``machine.install.image`` is read only by an install or an
upgrade, and an upgrade writes no machine-config field (Server.Upgrade validates and pulls the image it is
given: internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go at v1.12.9). So there is one Job per
node, in the rollout order (components/metal/rollout.py), and ``pulumi up`` creates each only after the one
before it has completed: pulumi-kubernetes waits for a Job's ``Complete`` condition and fails on ``Failed``
(provider/pkg/await/job.go at v4.32.0), with the time given here. Each Job:

- runs on any node but its own (a required node affinity on the hostname): the node an upgrade runs from is
  never the one it reboots;
- waits for Talos' health check of the whole cluster (``talosctl health``: etcd, kubelets, every node known
  and Ready, the control-plane pods; it fails after its wait timeout, and the Job with it);
- reads the version the node runs and stops there if it runs the pin already: a first deployment installs the
  pin, and the Job's next attempt after a failed one takes up where it stopped. Once the Job has failed for
  good, `pulumi up` fails on it and does not run it again by itself (its spec has not changed, so it is not
  replaced): fix the cause, then ``pulumi up --replace <its URN>`` (README, Versions). The versions are compared,
  not the schematics: a new extension at the same Talos version needs ``talosctl upgrade`` by hand;
- upgrades the node to the installer image its machine config names (``talosctl upgrade --wait`` returns once
  the node is back with a new boot ID: cmd/talosctl/cmd/talos/upgrade.go at v1.12.9), then checks the version
  it runs and the cluster's health again. A control plane's upgrade also takes Talos' own etcd upgrade lock
  and is refused while etcd would lose its quorum (Server.Upgrade, as above).

Who owns what: the machine config (Pulumi's, components/metal/cluster.py) owns ``machine.install.image``, the
Talos version and schematic every install and upgrade uses; these Jobs own only the version each node runs,
which no Pulumi resource records. So the Jobs' specs depend on the pin alone, and a ``pulumi up`` after an
upgrade finds nothing to change.

Its Talos role is ``os:admin``, the narrowest that works: ``MachineService/Upgrade`` is allowed to ``os:admin``
alone (internal/app/machined/pkg/system/services/machined.go at v1.12.9). It is granted to this namespace only,
and an admission policy keeps any other granted namespace from asking for it (components/platform/talos_api.py).
The talosctl image is scratch, so an init container copies in a static busybox for the script's shell
(components/platform/workloads.py).
"""

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

from components.config import Node
from components.metal.rollout import rollout_order
from components.platform import talos_accounts
from components.platform.priority import PLATFORM
from components.platform.workloads import SHELL_MOUNT, SHELL_VOLUME, restricted, shell_command, shell_copy_container
from components.quantities import resources

# talosctl's image (Dockerfile target "talosctl" at v1.12.9: FROM scratch, /talosctl alone). Its tag is the Talos
# version it drives, so it follows the stack's Talos pin.
TALOSCTL_REPOSITORY = "ghcr.io/siderolabs/talosctl"
NAMESPACE = "talos-upgrade"
TALOS_ROLE = "os:admin"
# The talos.dev ServiceAccount, and the Secret Talos fills with its talosconfig.
ACCOUNT = "talos-upgrader"
# The inventory's addresses by role, which the health check is given. The Jobs read them from here, so adding a
# node changes this and adds its own Job, and leaves every other Job as it is.
INVENTORY = "talos-inventory"
# Per attempt: the health check before, the upgrade (an installer pull, a write and a reboot of a Pi), the check
# after. The Job allows three attempts, and `pulumi up` waits as long.
HEALTH_TIMEOUT = "15m"
UPGRADE_TIMEOUT = "20m"
ATTEMPTS = 3
ATTEMPT_SECONDS = 50 * 60

# Only shell builtins beside talosctl: the container has nothing else. `talosctl version --json` prints each
# node's VersionInfo as protojson, whose spacing is not fixed, so the tag is cut out with patterns.
SCRIPT = """set -eu
health_node=
old_ifs=$IFS
IFS=,
for ip in $CONTROL_PLANES; do
  if [ "$ip" != "$NODE_IP" ]; then health_node=$ip; break; fi
done
IFS=$old_ifs
if [ -z "$health_node" ]; then health_node=${CONTROL_PLANES%%,*}; fi
health() {
  echo "waiting for the cluster to be healthy"
  set -- --control-plane-nodes "$CONTROL_PLANES"
  if [ -n "$WORKERS" ]; then set -- "$@" --worker-nodes "$WORKERS"; fi
  "$TALOSCTL" --nodes "$health_node" health "$@" --wait-timeout "$HEALTH_TIMEOUT"
}
running() {
  out=$("$TALOSCTL" --nodes "$NODE_IP" version --json)
  case "$out" in *'"tag"'*) ;; *) echo "no version in the answer of $NODE_NAME: $out" >&2; return 1 ;; esac
  rest=${out#*'"tag"'}
  rest=${rest#*'"'}
  echo "${rest%%'"'*}"
}
health
current=$(running)
if [ "$current" = "$TARGET" ]; then
  echo "$NODE_NAME runs Talos $TARGET already"
  exit 0
fi
echo "upgrading $NODE_NAME from Talos $current to $TARGET with $INSTALLER"
"$TALOSCTL" --nodes "$NODE_IP" upgrade --image "$INSTALLER" --wait --timeout "$UPGRADE_TIMEOUT"
current=$(running)
if [ "$current" != "$TARGET" ]; then
  echo "$NODE_NAME runs Talos $current after its upgrade, not $TARGET" >&2
  exit 1
fi
health
echo "$NODE_NAME runs Talos $TARGET"
"""


@dataclass(frozen=True)
class UpgradeTargets:
    """What the upgrade Jobs need: the pin, the inventory and each board's installer image (the machine config's)."""

    version: str
    nodes: tuple[Node, ...]
    installers: Mapping[str, pulumi.Output[str]]


def talosctl_image(version: str) -> str:
    return f"{TALOSCTL_REPOSITORY}:{version}"


def inventory(nodes: Sequence[Node]) -> dict[str, str]:
    """The ConfigMap's data: each role's addresses in the rollout order, comma-separated."""
    def ips(role: str) -> str:
        return ",".join(str(n.ip) for n in rollout_order(nodes) if n.role == role)
    return {"controlPlanes": ips("controlplane"), "workers": ips("worker")}


def job_environment(node: Node, version: str, installer: str) -> list[dict[str, Any]]:
    """The script's settings; the inventory's addresses come from the ConfigMap. The health check runs on a
    control plane other than the node when there is one."""
    values = {"NODE_NAME": node.name, "NODE_IP": str(node.ip), "TARGET": version, "INSTALLER": installer,
              "HEALTH_TIMEOUT": HEALTH_TIMEOUT, "UPGRADE_TIMEOUT": UPGRADE_TIMEOUT, "TALOSCTL": "/talosctl",
              "TALOSCONFIG": f"{talos_accounts.CONFIG_DIR}/config"}
    listed = [{"name": name, "valueFrom": {"configMapKeyRef": {"name": INVENTORY, "key": key}}}
              for name, key in (("CONTROL_PLANES", "controlPlanes"), ("WORKERS", "workers"))]
    return [*({"name": key, "value": value} for key, value in values.items()), *listed]


def job_spec(node: Node, version: str, installer: str) -> dict[str, Any]:
    upgrade = {"name": "upgrade", "image": talosctl_image(version), "command": shell_command(SCRIPT),
               "env": job_environment(node, version, installer),
               "volumeMounts": [SHELL_MOUNT, talos_accounts.MOUNT],
               "resources": resources("20m", "64Mi", memory_limit="128Mi")}
    elsewhere = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{
        "matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "NotIn", "values": [node.name]}]}]}}}
    return {
        "backoffLimit": ATTEMPTS - 1,
        "activeDeadlineSeconds": ATTEMPTS * ATTEMPT_SECONDS,
        # A pod stopped because its own node went down (drained for another upgrade, or lost) is not a failure.
        "podFailurePolicy": {"rules": [{"action": "Ignore",
                                        "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}]},
        "template": {"spec": restricted({
            "restartPolicy": "Never", "priorityClassName": PLATFORM.name, "affinity": elsewhere,
            "initContainers": [shell_copy_container()], "containers": [upgrade],
            "volumes": [SHELL_VOLUME, talos_accounts.volume(ACCOUNT)]})},
    }


def _job_spec_args(node: Node, targets: UpgradeTargets, installer: str) -> k8s.batch.v1.JobSpecArgsDict:
    return cast(k8s.batch.v1.JobSpecArgsDict, job_spec(node, targets.version, installer))


def job_name(node: Node) -> str:
    return f"talos-{node.name}"


def install(parent: pulumi.Resource, namespace: pulumi.Resource, targets: UpgradeTargets) -> list[pulumi.Resource]:
    """The account, the inventory and the Jobs, each Job after the one before it (the first after the rest)."""
    child = pulumi.ResourceOptions(parent=parent, depends_on=[namespace])
    account = talos_accounts.service_account(ACCOUNT, NAMESPACE, TALOS_ROLE, child)
    listed = k8s.core.v1.ConfigMap(INVENTORY, metadata=k8s.meta.v1.ObjectMetaArgs(name=INVENTORY, namespace=NAMESPACE),
                                   data=inventory(targets.nodes), opts=child)
    created: list[pulumi.Resource] = [account, listed]
    for node in rollout_order(targets.nodes):
        spec = targets.installers[node.board].apply(functools.partial(_job_spec_args, node, targets))
        created.append(k8s.batch.v1.Job(
            f"talos-upgrade-{node.name}",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=job_name(node), namespace=NAMESPACE, annotations={
                "homelab.dev/talos-version": targets.version,
                "pulumi.com/timeoutSeconds": str(ATTEMPTS * ATTEMPT_SECONDS)}),
            spec=spec,
            # A Job's template cannot change: a new pin replaces it, and the old one goes first (same name).
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[namespace, *created[:2], created[-1]],
                                        delete_before_replace=True)))
    return created

