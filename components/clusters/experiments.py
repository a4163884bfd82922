"""The lab stack's experimental clusters: each in its own fenced namespace, all within what prod leaves free.

Prod exports what its budget leaves after Kubernetes, the platform and production (``freeCapacity``); the
experiments' quotas together must fit in it. The check gates every experiment's namespace, and
everything of an experiment depends on its namespace, so an experiment that does not fit creates nothing.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.capacity import Amount
from components.clusters import fences, lab_grants, namespaces
from components.clusters.addons import CHAOS_MESH_CHART, LOCAL_PATH_NAMESPACE
from components.clusters.classes import EXPERIMENT_CLASS
from components.clusters.guest_cluster import GuestCluster, GuestClusterArgs, demands, disk_mounts
from components.config import ExperimentSettings, Versions
from components.platform.chart import namespace


class ExperimentCapacityError(Exception):
    """The experiments ask for more than prod leaves free; the message has the numbers."""

    def __init__(self, free: Amount, quotas: Mapping[str, Amount]) -> None:
        asked = sum((q for q in quotas.values()), Amount())
        lines = [f"  {name}: {q.cpu_m}m CPU, {q.memory_mib}Mi memory" for name, q in sorted(quotas.items())]
        super().__init__(
            "the experiments do not fit in what prod leaves free:\n" + "\n".join(lines)
            + f"\n  asked: {asked.cpu_m}m CPU, {asked.memory_mib}Mi memory"
            + f"\n  free:  {free.cpu_m}m CPU, {free.memory_mib}Mi memory"
            + "\nfix: shrink or remove experiments in homelab:experiments, or destroy finished ones")


def namespace_of(experiment: ExperimentSettings) -> str:
    return f"experiment-{experiment.name}"


def experiment_args(experiment: ExperimentSettings, versions: Versions, image_url: pulumi.Input[str]
                    ) -> GuestClusterArgs:
    return GuestClusterArgs(name=experiment.name, namespace=namespace_of(experiment), cluster_class=EXPERIMENT_CLASS,
                            settings=experiment, talos_version=versions.talos,
                            kubernetes_version=versions.kubernetes, image_url=image_url, chaos=experiment.chaos,
                            cilium_version=versions.chart("cilium"))


def quotas(experiments: Sequence[ExperimentSettings], versions: Versions) -> dict[str, Amount]:
    """What each experiment asks of prod's free capacity: its namespace's quota and its disks' mount pods."""
    asked = {}
    for experiment in experiments:
        args = experiment_args(experiment, versions, "")
        asked[experiment.name] = fences.quota(demands(args)) + disk_mounts(args).amount
    return asked


def check_fits(free: Mapping[str, Any], asked: Mapping[str, Amount]) -> Amount:
    """What stays free once the quotas are granted; ExperimentCapacityError if they do not fit."""
    room = Amount(int(free["cpu_m"]), int(free["memory_mib"]))
    wanted = sum(asked.values(), Amount())
    if not wanted.fits_in(room):
        raise ExperimentCapacityError(room, asked)
    return room - wanted


@dataclass(frozen=True)
class ExperimentArgs:
    cluster: GuestClusterArgs
    settings: ExperimentSettings
    # Resolves once every experiment's quota fits in what prod leaves free.
    gate: pulumi.Output[Any]
    lan_subnet: pulumi.Output[str]
    # The only experiment of its stack adopts objects a previous stack left unowned (see namespace()).
    sole: bool = True


class InsideExperiment(pulumi.ComponentResource):
    """What is written straight into the experiment through its own provider: the namespaces its add-ons need
    with the Pod Security they need."""

    def __init__(self, name: str, args: ExperimentArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:clusters:InsideExperiment", name, None, opts)
        # The local-path provisioner's namespace, which must allow its hostPath helpers.
        namespace(LOCAL_PATH_NAMESPACE, self, "privileged", owner=name, adopt_unowned=args.sole)
        if args.settings.chaos:
            # Chaos Mesh's daemon runs privileged with the host's PID namespace and hostPath mounts: Talos'
            # baseline Pod Security refuses it in a namespace the Helm add-on provider creates unlabelled.
            namespace(CHAOS_MESH_CHART.namespace, self, "privileged", owner=name)
        self.register_outputs({})


class Experiment(pulumi.ComponentResource):
    """One experiment: its fenced namespace and its guest cluster (its apps come from the apps layer,
    components/apps/experiments.py)."""

    cluster: GuestCluster
    # The experiment's own Kubernetes provider, for what the apps layer writes into it.
    guest: k8s.Provider
    sole: bool

    def __init__(self, name: str, args: ExperimentArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:clusters:Experiment", name, None, opts)
        settings, cluster = args.settings, args.cluster
        ns = namespaces.guest_namespace(self, cluster.namespace, EXPERIMENT_CLASS.name, ttl=settings.ttl,
                                        gate=args.gate)
        # The lab's account may touch the namespace's contents only once it has bound itself the right to.
        granted = [ns, *lab_grants.grants(self, cluster.name, cluster.namespace, ns)]
        namespaces.experiment_fence(self, granted, cluster.namespace, demands(cluster), args.lan_subnet)
        self.cluster = GuestCluster(cluster.name, replace(cluster, argocd_owner=ns),
                                    opts=pulumi.ResourceOptions(parent=self, depends_on=granted))
        self.sole = args.sole
        self.guest = self.cluster.provider(parent=self)
        InsideExperiment(cluster.name, args, pulumi.ResourceOptions(parent=self, providers={"kubernetes": self.guest}))
        self.register_outputs({"namespace": cluster.namespace})


def build(experiments: Sequence[ExperimentSettings], versions: Versions, asked: Mapping[str, Amount],
          prod_free: pulumi.Output[Any], image_url: pulumi.Output[str], lan_subnet: pulumi.Output[str],
          opts: pulumi.ResourceOptions) -> list[Experiment]:
    """The experiments, each gated on ``asked`` (their quotas) fitting in prod's free capacity."""
    gate = prod_free.apply(lambda free: check_fits(free, asked))
    return [Experiment(e.name, ExperimentArgs(experiment_args(e, versions, image_url), e, gate, lan_subnet,
                                              sole=len(experiments) == 1), opts=opts)
            for e in experiments]
