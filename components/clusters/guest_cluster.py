"""``GuestCluster``: one Talos Kubernetes cluster of KubeVirt VMs, declared as Cluster API objects.

Cluster → KubevirtCluster (a LoadBalancer Service in front of the API server, an address from Cilium's LAN
pool) and TalosControlPlane → the control-plane KubevirtMachineTemplate; per simulated zone, a
MachineDeployment → a TalosConfigTemplate (the zone label) and a KubevirtMachineTemplate; a
MachineHealthCheck replaces workers that stop being Ready. Every VM boots a Talos image CDI imports once
per cluster from the image factory, cloned onto each VM's own disk. The class decides priority, QoS and
what a drain does (components/clusters/classes.py).
"""

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.address_ranges import GUEST_PODS, GUEST_SERVICES
from components.capacity import ROLLOUT_LAYER, Demand, requests_of
from components.clusters import addons, cloud_provider
from components.clusters.classes import BOOT_DISK, CONTROL_PLANE_EVICTION, ClusterClass
from components.clusters.image import schematic_yaml
from components.config import GuestClusterSettings
from components.labels import CLASS_LABEL
from components.metal.patches import ZONE_LABEL
from components.platform.shared_fs import DEFAULT_CLASS, MOUNT_POD
from components.quantities import disk_quantity
from components.versions import CILIUM

CAPI = "cluster.x-k8s.io/v1beta1"
INFRASTRUCTURE = "infrastructure.cluster.x-k8s.io/v1alpha1"
CONTROL_PLANE = "controlplane.cluster.x-k8s.io/v1alpha3"
BOOTSTRAP = "bootstrap.cluster.x-k8s.io/v1alpha3"
CLUSTER_NAME_LABEL = "cluster.x-k8s.io/cluster-name"
POOL_LABEL = "homelab.dev/pool"
CONTROL_PLANE_POOL = "control-plane"
# A class that rolls out (ClusterClass.rolls_out): Cluster API starts a control plane's successor before it removes
# it (TalosControlPlane's default maxSurge 1), and the budget holds room for that one VM; workers are replaced one
# at a time in place. Any other class waits for its machines to be deleted (Cluster API's OnDelete).
ROLLOUT_SURGE = "rollout-surge"
CONTROL_PLANE_ROLLOUT = {True: {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}, False: {"type": "OnDelete"}}
MACHINE_ROLLOUT = {True: {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}},
                   False: {"type": "OnDelete"}}


@dataclass(frozen=True)
class GuestClusterArgs:
    name: str
    namespace: str
    cluster_class: ClusterClass
    settings: GuestClusterSettings
    talos_version: str
    kubernetes_version: str
    # The image factory's disk image for the VMs (the OpenStack platform image: Talos reads its config drive).
    image_url: pulumi.Input[str]
    # Chaos Mesh inside the cluster, for fault-injection experiments.
    chaos: bool = False
    # The guest's Cilium runs the infrastructure cluster's release (its per-stack override included).
    cilium_version: str = CILIUM
    # What every Cluster API object waits for: the operator's providers, Ready (in the stack that makes them).
    after: tuple[pulumi.Resource, ...] = ()
    # The namespace the cluster's Argo CD registration belongs to (an experiment's), so it goes with it.
    argocd_owner: k8s.core.v1.Namespace | None = None


def workers_per_zone(settings: GuestClusterSettings) -> dict[str, int]:
    """Workers spread over the zones as evenly as they go, the first zones taking the remainder."""
    base, extra = divmod(settings.workers, len(settings.zones))
    return {zone: base + (1 if index < extra else 0) for index, zone in enumerate(settings.zones)}


def demands(args: GuestClusterArgs) -> list[Demand]:
    """What runs in the guest's own namespace: its VMs, its cloud controller (what its quota covers) and, if its
    class rolls out, the room for the one more VM a rollout starts (checked, not reserved: Budget.rollout_room)."""
    cls, size = args.cluster_class, args.settings.size
    surge = [replace(cls.vm_demand(args.name, ROLLOUT_SURGE, size, 1), layer=ROLLOUT_LAYER)] if cls.rolls_out else []
    return [cls.vm_demand(args.name, CONTROL_PLANE_POOL, size, args.settings.control_planes),
            cls.vm_demand(args.name, "workers", size, args.settings.workers), *surge,
            cloud_provider.demand(args.name, cls.layer, cls.priority.name)]


def disk_mounts(args: GuestClusterArgs) -> Demand:
    """The JuiceFS mount pod each VM's disk runs on its node: in the ``juicefs`` namespace, so outside the
    guest's own namespace and quota, but the guest's all the same."""
    vms = args.settings.control_planes + args.settings.workers
    return Demand(args.cluster_class.layer, args.name, "disk-mounts", requests_of(MOUNT_POD), vms, False, vm=True)


def infrastructure_demands(args: GuestClusterArgs) -> list[Demand]:
    """Everything the guest takes from the infrastructure cluster."""
    return [*demands(args), disk_mounts(args)]


def talos_minor(version: str) -> str:
    return "v" + ".".join(version.lstrip("v").split(".")[:2])


def versioned(name: str, talos_version: str, content: Any) -> str:
    """A name that changes with the Talos version and with ``content``. Cluster API rolls machines out when
    their template reference changes, never when a template's content does (CACPPT compares template names), and
    CDI refuses any change to a DataVolume's spec: so the image and the machine templates of each version and
    content are new objects, and a new pin, size or disk rolls every VM of the cluster."""
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:6]
    return f"{name}-{talos_version.lstrip('v').replace('.', '-')}-{digest}"


def image_name(args: GuestClusterArgs) -> str:
    """The boot image's DataVolume: what decides its URL and size (the architecture aside, which the lab cannot
    see: a change of the VM hosts' architecture needs the guests recreated)."""
    return versioned("talos", args.talos_version, [schematic_yaml(), args.settings.disk])


def template_name(args: GuestClusterArgs, pool: str) -> str:
    return versioned(f"{args.name}-{pool}", args.talos_version, machine_template_spec(args, pool))


def vm_affinity(args: GuestClusterArgs, pool: str) -> dict[str, Any]:
    """Where a VM of ``pool`` may run: away from every other VM of its cluster (the anti-affinity selects the
    cluster, not the pool, so the control plane and every zone's workers spread over the Pis together), and a
    zone's workers on the Pis of that zone.

    Spreading is preferred, not required: with a Pi down, a replacement VM still starts beside a sibling rather
    than waiting. Production's zones are required (config refuses a zone no VM-capable Pi is in); an experiment's
    are simulated and only preferred, so a zone no Pi carries never leaves its VMs pending."""
    spread = {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
        "weight": 100,
        "podAffinityTerm": {"labelSelector": {"matchLabels": {CLUSTER_NAME_LABEL: args.name}},
                            "topologyKey": "kubernetes.io/hostname"}}]}}
    if pool not in args.settings.zones:
        return spread
    in_zone = {"matchExpressions": [{"key": ZONE_LABEL, "operator": "In", "values": [pool]}]}
    zone: dict[str, Any]
    if args.cluster_class.zone_bound:
        zone = {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [in_zone]}}
    else:
        zone = {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 50, "preference": in_zone}]}
    return {**spread, "nodeAffinity": zone}


def machine_template_spec(args: GuestClusterArgs, pool: str) -> dict[str, Any]:
    """A KubevirtMachineTemplate's spec: the VM each Machine of ``pool`` becomes."""
    cls, settings = args.cluster_class, args.settings
    labels = {CLUSTER_NAME_LABEL: args.name, POOL_LABEL: pool}
    vm_template = {
        "metadata": {"labels": labels},
        "spec": {
            "priorityClassName": cls.priority.name,
            "evictionStrategy": CONTROL_PLANE_EVICTION if pool == CONTROL_PLANE_POOL else cls.eviction,
            "domain": cls.domain(settings.size),
            "affinity": vm_affinity(args, pool),
            "volumes": [{"name": BOOT_DISK, "dataVolume": {"name": BOOT_DISK}}],
        },
    }
    return {"template": {"spec": {
        "virtualMachineBootstrapCheck": {"checkStrategy": "none"},
        "virtualMachineTemplate": {
            "metadata": {"namespace": args.namespace, "labels": labels},
            "spec": {
                "runStrategy": "Always",
                "dataVolumeTemplates": [{
                    "metadata": {"name": BOOT_DISK},
                    "spec": {"source": {"pvc": {"name": image_name(args), "namespace": args.namespace}},
                             "priorityClassName": cls.priority.name,
                             "storage": {"storageClassName": DEFAULT_CLASS,
                                         "resources": {"requests": {"storage": disk_quantity(settings.disk)}}}},
                }],
                "template": vm_template,
            },
        },
    }}}


def _patch(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=True)


def _talos_patches(zone: str | None, local_volumes: bool = False) -> list[str]:
    """No CNI and no kube-proxy (Cilium comes as an add-on); workers carry their simulated zone, and in
    classes with local volumes the provisioner's bind mount."""
    cluster = {"cluster": {"network": {"cni": {"name": "none"}}, "proxy": {"disabled": True}}}
    patches = [_patch(cluster)]
    if zone is not None:
        patches.append(_patch({"machine": {"nodeLabels": {ZONE_LABEL: zone}}}))
        if local_volumes:
            patches.append(_patch(addons.local_path_mount_patch()))
    return patches


class GuestCluster(pulumi.ComponentResource):
    """The Cluster API objects of one guest cluster, and the Talos image its VMs boot."""

    args: GuestClusterArgs
    # Cluster API's Cluster object, and the admin kubeconfig it writes, read back.
    cluster: k8s.apiextensions.CustomResource
    kubeconfig: pulumi.Output[str]

    def __init__(self, name: str, args: GuestClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:clusters:GuestCluster", name, None, opts)
        self.args = args
        name, namespace = args.name, args.namespace
        labels = {CLASS_LABEL: args.cluster_class.name}
        image = self._object("cdi.kubevirt.io/v1beta1", "DataVolume", image_name(args), {
            "source": {"http": {"url": args.image_url}},
            "priorityClassName": args.cluster_class.priority.name,
            "storage": {"storageClassName": DEFAULT_CLASS,
                        "resources": {"requests": {"storage": disk_quantity(args.settings.disk)}}},
        }, annotations={"cdi.kubevirt.io/storage.bind.immediate.requested": "true"})
        templates = {pool: self._object(INFRASTRUCTURE, "KubevirtMachineTemplate", template_name(args, pool),
                                        machine_template_spec(args, pool), depends_on=[image])
                     for pool in (CONTROL_PLANE_POOL, *args.settings.zones)}
        infrastructure = self._object(INFRASTRUCTURE, "KubevirtCluster", name, {
            "controlPlaneServiceTemplate": {"spec": {"type": "LoadBalancer"}}})
        control_plane = self._object(CONTROL_PLANE, "TalosControlPlane", f"{name}-control-plane", {
            "version": args.kubernetes_version,
            "replicas": args.settings.control_planes,
            "rolloutStrategy": CONTROL_PLANE_ROLLOUT[args.cluster_class.rolls_out],
            "infrastructureTemplate": self._ref(INFRASTRUCTURE, "KubevirtMachineTemplate",
                                                template_name(args, CONTROL_PLANE_POOL)),
            "controlPlaneConfig": {"controlplane": {
                "generateType": "controlplane", "talosVersion": talos_minor(args.talos_version),
                "strategicPatches": _talos_patches(None)}},
        }, depends_on=[templates[CONTROL_PLANE_POOL]])
        self.cluster = self._object(CAPI, "Cluster", name, {
            "clusterNetwork": {"pods": {"cidrBlocks": [str(GUEST_PODS)]},
                               "services": {"cidrBlocks": [str(GUEST_SERVICES)]}},
            "infrastructureRef": self._ref(INFRASTRUCTURE, "KubevirtCluster", name),
            "controlPlaneRef": self._ref(CONTROL_PLANE, "TalosControlPlane",
                                         f"{name}-control-plane"),
        }, labels={**labels, addons.CLUSTER_LABEL: name},
            # `pulumi up` waits for the control plane, then reads the kubeconfig Cluster API writes.
            annotations={"pulumi.com/waitFor": "condition=ControlPlaneInitialized",
                         "pulumi.com/timeoutSeconds": "1800"},
            depends_on=[infrastructure, control_plane])
        self._proxy("cilium", addons.cilium_proxy_spec(name, args.cilium_version))
        if args.cluster_class.local_volumes:
            self._proxy("local-path", addons.local_path_proxy_spec(name))
        if args.chaos:
            self._proxy("chaos-mesh", addons.chaos_mesh_proxy_spec(name))
        for zone, replicas in workers_per_zone(args.settings).items():
            self._worker_pool(zone, replicas, templates[zone])
        self._object(CAPI, "MachineHealthCheck", f"{name}-workers", {
            "clusterName": name,
            "selector": {"matchLabels": {POOL_LABEL: "workers"}},
            "maxUnhealthy": "40%",
            "nodeStartupTimeout": "15m",
            "unhealthyConditions": [{"type": "Ready", "status": status, "timeout": "300s"}
                                    for status in ("Unknown", "False")],
        }, depends_on=[self.cluster])
        self.kubeconfig = addons.read_kubeconfig(self, name, namespace, after=self.cluster)
        # The controller mounts the kubeconfig Secret, so it starts once that exists.
        cloud_provider.install(self, name, namespace, args.cluster_class.name, args.cluster_class.priority.name,
                               depends_on=[self.cluster])
        addons.register_in_argocd(self, args.cluster_class.argocd_name(name), args.cluster_class.name,
                                  self.kubeconfig, owner=args.argocd_owner)
        self.register_outputs({"cluster": name, "namespace": namespace, "kubeconfig": self.kubeconfig})

    def provider(self, parent: pulumi.Resource) -> k8s.Provider:
        """A Kubernetes provider for objects written straight into this guest, from its kubeconfig."""
        return k8s.Provider(f"{self.args.name}-guest", kubeconfig=self.kubeconfig, cluster_identifier=self.args.name,
                            opts=pulumi.ResourceOptions(parent=parent))

    def _worker_pool(self, zone: str, replicas: int, template: pulumi.Resource) -> None:
        name = self.args.name
        config = self._object(BOOTSTRAP, "TalosConfigTemplate", f"{name}-{zone}", {"template": {"spec": {
            "generateType": "join", "talosVersion": talos_minor(self.args.talos_version),
            "strategicPatches": _talos_patches(zone, self.args.cluster_class.local_volumes)}}})
        machine_labels = {CLUSTER_NAME_LABEL: name, POOL_LABEL: "workers", ZONE_LABEL: zone}
        self._object(CAPI, "MachineDeployment", f"{name}-{zone}", {
            "clusterName": name,
            "replicas": replicas,
            "strategy": MACHINE_ROLLOUT[self.args.cluster_class.rolls_out],
            "selector": {"matchLabels": machine_labels},
            "template": {
                "metadata": {"labels": machine_labels},
                "spec": {
                    "clusterName": name,
                    "version": self.args.kubernetes_version,
                    "bootstrap": {"configRef": self._ref(BOOTSTRAP, "TalosConfigTemplate", f"{name}-{zone}")},
                    "infrastructureRef": self._ref(INFRASTRUCTURE, "KubevirtMachineTemplate",
                                                   template_name(self.args, zone)),
                },
            },
        }, depends_on=[self.cluster, config, template])

    def _proxy(self, chart: str, spec: dict[str, Any]) -> k8s.apiextensions.CustomResource:
        name = f"{self.args.name}-{chart}"
        return addons.helm_chart_proxy(f"{self.args.name}-helmchartproxy-{name}", self.args.namespace, name, spec,
                                       pulumi.ResourceOptions(parent=self, depends_on=list(self.args.after)))

    def _ref(self, api_version: str, kind: str, name: str) -> dict[str, str]:
        return {"apiVersion": api_version, "kind": kind, "name": name, "namespace": self.args.namespace}

    def _object(self, api_version: str, kind: str, name: str, spec: dict[str, Any],
                labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None,
                depends_on: list[pulumi.Resource] | None = None) -> k8s.apiextensions.CustomResource:
        metadata: dict[str, Any] = {"name": name, "namespace": self.args.namespace}
        if labels:
            metadata["labels"] = labels
        if annotations:
            metadata["annotations"] = annotations
        return k8s.apiextensions.CustomResource(
            f"{self.args.name}-{kind.lower()}-{name}", api_version=api_version, kind=kind, metadata=metadata,
            spec=spec, opts=pulumi.ResourceOptions(parent=self, depends_on=[*(depends_on or []), *self.args.after]),
        )
