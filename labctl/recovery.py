"""What `labctl recover` prints: the disaster-recovery runbook with this homelab's names filled in.

Three stages, in this order, because each stands on the one before: the infrastructure cluster from its etcd
snapshot, the storage layer from its off-site copy, then production's apps from their Velero backups. The
names come from the platform stack as the program would build it (bucket names, prefixes, nodes, filesystems);
nothing is run. README, Disaster recovery, says why each step is there.
"""

from dataclasses import dataclass
from typing import Any

from components.apps.production import APPS_SCHEDULE
from components.apps.production import FILESYSTEM as PRODUCTION_FILESYSTEM
from components.platform import replication
from components.platform.metadata import metadata_url
from components.platform.shared_fs import FILESYSTEM
from labctl.synth import SynthResult


@dataclass(frozen=True)
class Step:
    title: str
    commands: tuple[str, ...]


CONFIGURATION_APPLY = "talos:machine/configurationApply:ConfigurationApply"


def _nodes(outputs: dict[str, Any]) -> list[dict[str, str]]:
    """Control planes first: they wait for the bootstrap; workers join once the API is up."""
    nodes = [node for image in outputs["bootImages"].values() for node in image["nodes"]]
    return sorted(nodes, key=lambda node: node["role"] != "controlplane")


def etcd_steps(result: SynthResult) -> list[Step]:
    outputs = result.outputs
    snapshots = outputs.get("etcdSnapshots")
    nodes = _nodes(outputs)
    first = nodes[0]
    applies = {registration.name: registration.urn for registration in result.by_type(CONFIGURATION_APPLY)}
    if snapshots is None:
        return [Step("1. The infrastructure cluster: no etcd snapshots are configured "
                     "(homelab:platform.backups.etcd); rebuild it empty with `pulumi up` and go on to step 2", ())]
    where = f"s3://{snapshots['bucket']}/{snapshots['prefix']}/"
    return [
        Step("1a. Fetch and decrypt the newest etcd snapshot (with your own AWS credentials: the cluster's key "
             "can only add snapshots)",
             (f"aws s3 ls {where} | sort | tail -1",
              f"aws s3 cp {where}<newest>.snap.age etcd.snap.age",
              "age --decrypt --identity etcd-backup.key --output etcd.snap etcd.snap.age")),
        Step("1b. Boot every node into maintenance mode (First boot), then give each its machine config again "
             "(the stack still holds the machine secrets, so the nodes are the same cluster's)",
             tuple(f"pulumi up --stack {result.stack} --target '{urn}' --replace '{urn}'"
                   for urn in (applies[f"{outputs['infrastructureClusterName']}-{node['name']}"] for node in nodes))),
        Step(f"1c. Bootstrap etcd on {first['name']} from the snapshot, instead of an empty one",
             (f"pulumi stack output talosconfig --show-secrets --stack {result.stack} > talosconfig && "
              "export TALOSCONFIG=$PWD/talosconfig",
              f"talosctl --nodes {first['ip']} bootstrap --recover-from=./etcd.snap",
              f"talosctl --nodes {first['ip']} health",
              f"pulumi up --stack {result.stack}   # the rest of the platform, reconciled from code")),
    ]


def storage_steps(outputs: dict[str, Any]) -> list[Step]:
    """After step 1 the metadata etcd and the object store are back, empty: the copy fills them."""
    bucket = outputs["backup"]["storageBucket"]
    filesystems = [FILESYSTEM, *((PRODUCTION_FILESYSTEM,) if "productionKubeconfig" in outputs else ())]
    return [Step(
        f"2. The storage layer: load each filesystem's newest metadata dump into the metadata etcd, from a pod "
        f"with the engine's client certificate (the `offsite-replication` Job's template), then point the "
        f"filesystem at the off-site bucket {bucket} (or rclone its chunks back first)",
        tuple(command for fs in filesystems for command in (
            f"rclone copyto {replication.dump_key(bucket, fs)} /work/{fs}.json.gz",
            f"juicefs load '{metadata_url(fs)}' /work/{fs}.json.gz",
            f"juicefs config '{metadata_url(fs)}' --storage s3 --bucket https://{bucket}.s3."
            f"{outputs['backup']['region']}.amazonaws.com --force",
        )))]


def apps_steps() -> list[Step]:
    return [Step("3. Production's apps: once Cluster API has rebuilt production, restore the newest backup of "
                 "its schedule with the Velero inside it",
                 (f"velero --kubeconfig production.kubeconfig restore create --from-schedule {APPS_SCHEDULE} --wait",
                  "velero --kubeconfig production.kubeconfig restore describe --details"))]


def runbook(result: SynthResult) -> list[Step]:
    return [*etcd_steps(result), *storage_steps(result.outputs), *apps_steps()]
