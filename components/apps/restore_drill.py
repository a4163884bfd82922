"""The restore drill: production's latest backup restored into an experiment, and whether its apps come up.

A backup nobody has restored is a hope, not a backup. The drill experiment runs Velero on the read-only
``restore-drill`` key against production's prefix of the off-site bucket (the location is read-only too),
starts the restore with Velero's own CLI in a Job (``--from-schedule`` picks the newest completed backup),
then a second Job checks the restore ended ``Completed`` and waits for every pod of production's app
namespaces to become ready. `pulumi up` waits for both Jobs: the stack's ``restoreDrill`` output
says the drill passed, and a Job that gives up fails the update (labctl reports that as a failed drill). The
Jobs run with cluster-admin inside the throw-away experiment cluster, never in production.
"""

from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

from components.apps.catalog import GUEST_STORAGE_CLASS
from components.apps.production import APPS_SCHEDULE, guest_velero_values
from components.clusters.addons import LOCAL_PATH_CLASS, helm_chart_proxy, helm_proxy_spec
from components.clusters.guest_cluster import GuestCluster
from components.platform import backups
from components.platform.chart import namespace
from components.platform.workloads import restricted
from components.quantities import resources
from components.versions import KUBECTL_IMAGE, VELERO_IMAGE

RESTORE_JOB, READY_JOB = "restore-drill", "restore-drill-ready"
ACCOUNT = "restore-drill"
READY_TIMEOUT = "15m"
JOB_TIMEOUT = "60m"


@dataclass(frozen=True)
class DrillSeams:
    velero_bucket: pulumi.Output[str]
    region: pulumi.Output[str]
    restore_credentials: pulumi.Output[dict[str, str]]
    # Production's repository password: the drill reads the repository production's Velero wrote.
    backup_repository_password: pulumi.Output[str]


def restore_command(restore_from: str) -> list[str]:
    source = ["--from-schedule", APPS_SCHEDULE] if restore_from == "latest" else ["--from-backup", restore_from]
    return ["/velero", "restore", "create", RESTORE_JOB, *source, "--wait", "--namespace", backups.NAMESPACE]


def ready_checks(namespaces: list[str]) -> list[dict[str, Any]]:
    """The second Job's steps, one kubectl command each (the kubectl image has no shell), run in order as
    init containers and then the last one: the restore must have ended ``Completed`` (``velero restore
    create --wait`` returns for ``PartiallyFailed`` and ``Failed`` too), then every pod of each app namespace
    must become ready. A namespace without pods fails its step (the Job retries while the restored workloads
    are still creating them), so an app that did not come back fails the drill. Each app namespace holds one
    workload (Home Assistant a StatefulSet, Pi-hole a Deployment), so its pods are its readiness."""
    # The restore Job ends only once the restore has a final phase: it is Completed now or never.
    phase = ["kubectl", "wait", "--for=jsonpath={.status.phase}=Completed", f"restores.velero.io/{RESTORE_JOB}",
             "-n", backups.NAMESPACE, "--timeout=30s"]
    checks = [("restore-completed", phase)] + [
        (f"{ns}-ready", ["kubectl", "wait", "--for=condition=Ready", "pods", "--all", "-n", ns,
                         f"--timeout={READY_TIMEOUT}"]) for ns in namespaces]
    return [{"name": name, "image": KUBECTL_IMAGE, "command": command,
             "resources": resources("20m", "32Mi", memory_limit="128Mi")} for name, command in checks]


def job_spec(containers: list[dict[str, Any]]) -> dict[str, Any]:
    """A Job running ``containers`` one after another: all but the last as init containers."""
    *first, last = containers
    pod: dict[str, Any] = {"serviceAccountName": ACCOUNT, "restartPolicy": "OnFailure", "containers": [last]}
    if first:
        pod["initContainers"] = first
    return {"backoffLimit": 10, "template": {"spec": restricted(pod, api_access=True)}}


def _succeeded(status: Any) -> bool:
    """A Job's status (SDK output object or plain mapping) says it completed."""
    succeeded = status.get("succeeded") if isinstance(status, dict) else getattr(status, "succeeded", None)
    return bool(succeeded)


@dataclass(frozen=True)
class RestoreDrillArgs:
    cluster: GuestCluster
    # The experiment's own provider: the drill writes into the experiment.
    guest: k8s.Provider
    restore_from: str
    app_namespaces: tuple[str, ...]
    seams: DrillSeams
    # The only experiment of its stack adopts objects a previous stack left unowned (see namespace()).
    sole: bool = True


@dataclass(frozen=True)
class RestoreDrillInsideArgs:
    drill: RestoreDrillArgs
    # The experiment's Velero, installed from the infrastructure cluster: the restore waits for it.
    velero: pulumi.Resource


class RestoreDrillInside(pulumi.ComponentResource):
    """What the drill writes into the experiment: Velero's namespace, credentials and storage-class map, the
    restore Job and the Job that waits for the apps."""

    result: pulumi.Output[dict[str, bool]]

    def __init__(self, name: str, args: RestoreDrillInsideArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:apps:RestoreDrillInside", name, None, opts)
        drill, seams = args.drill, args.drill.seams
        self._cluster_name = name
        inside = pulumi.ResourceOptions(parent=self)
        # Velero's node agent restores volume data through the host's kubelet directory.
        ns = namespace(backups.NAMESPACE, self, "privileged", owner=name, adopt_unowned=drill.sole)
        ns_opts = pulumi.ResourceOptions.merge(inside, pulumi.ResourceOptions(depends_on=[ns]))
        credentials = k8s.core.v1.Secret(
            f"{name}-restore-credentials", metadata=k8s.meta.v1.ObjectMetaArgs(
                name=backups.CREDENTIALS_SECRET, namespace=backups.NAMESPACE),
            string_data={"cloud": seams.restore_credentials.apply(backups.credentials_file)}, opts=ns_opts)
        repository = backups.repository_secret(self, ns, seams.backup_repository_password,
                                               name=f"{name}-repository-password")
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
            depends_on=[args.velero, credentials, repository, storage_map, account, binding]))
        restore = self._job(RESTORE_JOB, [{"name": "velero", "image": VELERO_IMAGE,
                                           "command": restore_command(drill.restore_from),
                                           "resources": resources("50m", "64Mi", memory_limit="256Mi")}], after)
        ready = self._job(READY_JOB, ready_checks(list(drill.app_namespaces)),
                          pulumi.ResourceOptions.merge(inside, pulumi.ResourceOptions(depends_on=[restore])))
        self.result = pulumi.Output.all(restore.status, ready.status).apply(
            lambda statuses: {"restored": _succeeded(statuses[0]), "ready": _succeeded(statuses[1])})
        self.register_outputs({})

    def _job(self, name: str, containers: list[dict[str, Any]], opts: pulumi.ResourceOptions) -> k8s.batch.v1.Job:
        return k8s.batch.v1.Job(
            f"{self._cluster_name}-{name}", metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=backups.NAMESPACE),
            spec=cast(k8s.batch.v1.JobSpecArgsDict, job_spec(containers)),
            # A restore and the apps' start take longer than the provider's default ten-minute wait for a Job.
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
                custom_timeouts=pulumi.CustomTimeouts(create=JOB_TIMEOUT))))


class RestoreDrill(pulumi.ComponentResource):
    """A restore drill in an experiment: its Velero (a HelmChartProxy on the infrastructure cluster, reading
    production's backups with read-only keys) and what it writes inside; ``result`` says whether the restore
    finished and the apps came up."""

    result: pulumi.Output[dict[str, bool]]

    def __init__(self, name: str, args: RestoreDrillArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:apps:RestoreDrill", name, None, opts)
        seams = args.seams
        velero = helm_chart_proxy(
            f"{name}-velero", args.cluster.args.namespace, f"{name}-velero",
            pulumi.Output.all(seams.velero_bucket, seams.region).apply(lambda pair: helm_proxy_spec(
                name, backups.VELERO_CHART, guest_velero_values(pair[0], pair[1], read_only=True))),
            pulumi.ResourceOptions(parent=self))
        # Everything else is written into the experiment cluster through its own provider.
        inside = RestoreDrillInside(name, RestoreDrillInsideArgs(args, velero),
                                    pulumi.ResourceOptions(parent=self, providers={"kubernetes": args.guest}))
        self.result = inside.result
        self.register_outputs({"restoreDrill": self.result})
