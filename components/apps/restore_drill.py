"""The restore drill: production's latest backup restored into an experiment, and whether its apps come up.

A backup nobody has restored is a hope, not a backup. The drill experiment runs Velero on the read-only
``restore-drill`` key against production's prefix of the off-site bucket (the location is read-only too),
starts the restore with Velero's own CLI in a Job (``--from-schedule`` picks the newest completed backup),
then a second Job checks the restore ended ``Completed`` and waits for every Deployment and StatefulSet of
production's app namespaces to roll out. `pulumi up` waits for both Jobs: the stack's ``restoreDrill`` output
says the drill passed, and a Job that gives up fails the update (labctl reports that as a failed drill). The
Jobs run with cluster-admin inside the throw-away experiment cluster, never in production.
"""

from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

from components.apps.catalog import GUEST_STORAGE_CLASS
from components.apps.production import APPS_SCHEDULE, guest_velero_values
from components.clusters.addons import LOCAL_PATH_CLASS, helm_proxy_spec
from components.clusters.guest_cluster import GuestCluster
from components.platform import backups
from components.platform.chart import namespace
from components.quantities import resources
from components.versions import KUBECTL_IMAGE, VELERO_IMAGE

RESTORE_JOB, READY_JOB = "restore-drill", "restore-drill-ready"
ACCOUNT = "restore-drill"
READY_TIMEOUT = "15m"


@dataclass(frozen=True)
class DrillSeams:
    velero_bucket: pulumi.Output[str]
    region: pulumi.Output[str]
    restore_credentials: pulumi.Output[dict[str, str]]


def restore_command(restore_from: str) -> list[str]:
    source = ["--from-schedule", APPS_SCHEDULE] if restore_from == "latest" else ["--from-backup", restore_from]
    return ["/velero", "restore", "create", RESTORE_JOB, *source, "--wait", "--namespace", backups.NAMESPACE]


def ready_command(namespaces: list[str]) -> list[str]:
    """The second Job: the restore must have ended ``Completed`` (``velero restore create --wait`` exits 0 for
    ``PartiallyFailed`` and ``Failed`` too), then every Deployment and StatefulSet restored into each app
    namespace must roll out; a namespace with none of either means nothing of that app came back."""
    phase = (f"phase=$(kubectl -n {backups.NAMESPACE} get restores.velero.io {RESTORE_JOB} "
             "-o jsonpath='{.status.phase}')\n"
             'if [ "$phase" != Completed ]; then echo "restore ended $phase, not Completed"; exit 1; fi\n')
    apps = "".join(
        f"workloads=$(kubectl -n {ns} get deployments,statefulsets -o name)\n"
        f'if [ -z "$workloads" ]; then echo "nothing restored in {ns}"; exit 1; fi\n'
        f"for workload in $workloads; do kubectl -n {ns} rollout status $workload --timeout={READY_TIMEOUT}; done\n"
        for ns in namespaces)
    return ["sh", "-ec", phase + apps]


def job_spec(container: dict[str, Any]) -> dict[str, Any]:
    return {"backoffLimit": 10, "template": {"spec": {
        "serviceAccountName": ACCOUNT, "restartPolicy": "OnFailure", "containers": [container]}}}


def _succeeded(status: Any) -> bool:
    """A Job's status (SDK output object or plain mapping) says it completed."""
    succeeded = status.get("succeeded") if isinstance(status, dict) else getattr(status, "succeeded", None)
    return bool(succeeded)


def drill_report(outputs: dict[str, Any], experiment: str) -> tuple[bool, str]:
    """From a drill stack's ``restoreDrill`` output: did the restore finish and the apps come up, and what to say."""
    drill = (outputs.get("restoreDrill") or {}).get(experiment) or {}
    if not drill.get("restored"):
        return False, "restore drill FAILED: the restore did not complete (check `velero restore describe` inside)"
    if not drill.get("ready"):
        return False, "restore drill FAILED: restored, but the apps did not become ready in time"
    return True, "restore drill passed: the latest backup restored and every app became ready"


class RestoreDrill(pulumi.ComponentResource):
    def __init__(self, cluster: GuestCluster, guest: k8s.Provider, restore_from: str, app_namespaces: list[str],
                 seams: DrillSeams, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:apps:RestoreDrill", cluster.args.name, None, opts)
        name = cluster.args.name
        velero = k8s.apiextensions.CustomResource(
            f"{name}-velero", api_version="addons.cluster.x-k8s.io/v1alpha1", kind="HelmChartProxy",
            metadata={"name": f"{name}-velero", "namespace": cluster.args.namespace},
            spec=pulumi.Output.all(seams.velero_bucket, seams.region).apply(lambda pair: helm_proxy_spec(
                name, backups.VELERO_CHART, guest_velero_values(pair[0], pair[1], read_only=True))),
            opts=pulumi.ResourceOptions(parent=self))
        # Everything below is written into the experiment cluster through its own provider.
        self._inside = pulumi.ComponentResource("homelab:apps:RestoreDrillInside", name, None,
                                                pulumi.ResourceOptions(parent=self, providers={"kubernetes": guest}))
        self._cluster_name = name
        inside = pulumi.ResourceOptions(parent=self._inside)
        ns = namespace(backups.NAMESPACE, self._inside, privileged=True, owner=name)
        ns_opts = pulumi.ResourceOptions.merge(inside, pulumi.ResourceOptions(depends_on=[ns]))
        credentials = k8s.core.v1.Secret(
            f"{name}-restore-credentials", metadata=k8s.meta.v1.ObjectMetaArgs(
                name=backups.CREDENTIALS_SECRET, namespace=backups.NAMESPACE),
            string_data={"cloud": seams.restore_credentials.apply(backups.credentials_file)}, opts=ns_opts)
        # Production's claims ask for the shared filesystem; the experiment restores them onto its local volumes.
        storage_map = k8s.core.v1.ConfigMap(
            f"{name}-change-storage-class", metadata=k8s.meta.v1.ObjectMetaArgs(
                name="change-storage-class-config", namespace=backups.NAMESPACE,
                labels={"velero.io/plugin-config": "", "velero.io/change-storage-class": "RestoreItemAction"}),
            data={GUEST_STORAGE_CLASS: LOCAL_PATH_CLASS}, opts=ns_opts)
        account = k8s.core.v1.ServiceAccount(
            f"{name}-{ACCOUNT}", metadata=k8s.meta.v1.ObjectMetaArgs(name=ACCOUNT, namespace=backups.NAMESPACE),
            opts=ns_opts)
        binding = k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-{ACCOUNT}", metadata=k8s.meta.v1.ObjectMetaArgs(name=ACCOUNT),
            role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="ClusterRole",
                                             name="cluster-admin"),
            subjects=[k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=ACCOUNT, namespace=backups.NAMESPACE)],
            opts=inside)
        after = pulumi.ResourceOptions.merge(inside, pulumi.ResourceOptions(
            depends_on=[velero, credentials, storage_map, account, binding]))
        restore = self._job(RESTORE_JOB, {"name": "velero", "image": VELERO_IMAGE,
                                          "command": restore_command(restore_from),
                                          "resources": resources("50m", "64Mi", memory_limit="256Mi")}, after)
        ready = self._job(READY_JOB, {"name": "kubectl", "image": KUBECTL_IMAGE,
                                      "command": ready_command(app_namespaces),
                                      "resources": resources("20m", "32Mi", memory_limit="128Mi")},
                          pulumi.ResourceOptions.merge(inside, pulumi.ResourceOptions(depends_on=[restore])))
        self.result = pulumi.Output.all(restore.status, ready.status).apply(
            lambda statuses: {"restored": _succeeded(statuses[0]), "ready": _succeeded(statuses[1])})
        self.register_outputs({"restoreDrill": self.result})

    def _job(self, name: str, container: dict[str, Any], opts: pulumi.ResourceOptions) -> k8s.batch.v1.Job:
        return k8s.batch.v1.Job(
            f"{self._cluster_name}-{name}", metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=backups.NAMESPACE),
            spec=cast(k8s.batch.v1.JobSpecArgsDict, job_spec(container)), opts=opts)
