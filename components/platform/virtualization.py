"""Virtualisation: KubeVirt and CDI from their pinned release manifests, and their custom resources.

Guest clusters are KubeVirt VMs, and their disks are imported by CDI. Only boards that can run KVM under
Talos host VMs (components/boards.py): Talos labels those nodes, and KubeVirt's node agents and VMs are
placed on them alone. arm64 has no CPU models for KubeVirt to pick from, so it passes the host CPU
through. The control components run one replica each: a Pi cluster cannot spare two of everything, and
running VMs do not need them to keep running.
"""

import json
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

from components.boards import BOARDS
from components.capacity import Demand, pod_template_demand
from components.config import Node
from components.metal.patches import KVM_LABEL
from components.platform.shared_fs import DEFAULT_CLASS
from components.quantities import resources
from components.versions import CDI, KUBEVIRT

# A VM's launcher pod is named after it (GenerateName "virt-launcher-<vm>-", pkg/virt-controller/services/
# template.go at v1.6.2): the dashboards and rules count a guest's VMs by these pods in its namespace.
LAUNCHER_PODS = 'k8s_pod_name=~"virt-launcher-.*"'

KUBEVIRT_NAMESPACE = "kubevirt"
CDI_NAMESPACE = "cdi"
KUBEVIRT_OPERATOR = f"https://github.com/kubevirt/kubevirt/releases/download/{KUBEVIRT}/kubevirt-operator.yaml"
CDI_OPERATOR = (f"https://github.com/kubevirt/containerized-data-importer/releases/download/{CDI}/"
                "cdi-operator.yaml")
_CPU_MODEL = {"arm64": "host-passthrough", "amd64": "host-model"}


@dataclass(frozen=True)
class Component:
    """A KubeVirt or CDI deployment whose container resources the operator is told to set."""

    name: str
    kind: str
    container: str
    resources: dict[str, Any]
    per_node: bool = False


KUBEVIRT_COMPONENTS = (
    Component("virt-api", "Deployment", "virt-api", resources("25m", "96Mi", memory_limit="160Mi")),
    Component("virt-controller", "Deployment", "virt-controller", resources("25m", "128Mi", memory_limit="192Mi")),
    Component("virt-handler", "DaemonSet", "virt-handler", resources("25m", "192Mi", memory_limit="320Mi"),
              per_node=True),
)
CDI_COMPONENTS = (
    Component("cdi-apiserver", "Deployment", "cdi-apiserver", resources("10m", "64Mi", memory_limit="128Mi")),
    Component("cdi-deployment", "Deployment", "cdi-controller", resources("10m", "96Mi", memory_limit="160Mi")),
    Component("cdi-uploadproxy", "Deployment", "cdi-uploadproxy", resources("10m", "48Mi", memory_limit="96Mi")),
)
IMPORTER_RESOURCES = resources("100m", "256Mi", cpu_limit="1", memory_limit="512Mi")


@dataclass(frozen=True)
class Operator:
    """An operator Deployment of a release manifest, resized as the manifest is registered."""

    manifest: str
    url: str
    name: str
    namespace: str
    replicas: int
    resources: dict[str, Any]

    def pod_template(self) -> dict[str, Any]:
        """The Deployment fields the program sets: what the budget counts."""
        return {"replicas": self.replicas, "template": {"spec": {"containers": [
            {"name": self.name, "resources": self.resources}]}}}


# Upstream ships virt-operator as 2 replicas of 450Mi requests and cdi-operator as 100m/150Mi, both without
# limits. Running VMs never depend on the operators, so one small replica each is enough on four Pis.
OPERATORS = (
    Operator("kubevirt-operator", KUBEVIRT_OPERATOR, "virt-operator", KUBEVIRT_NAMESPACE, 1,
             resources("10m", "256Mi", memory_limit="512Mi")),
    Operator("cdi-operator", CDI_OPERATOR, "cdi-operator", CDI_NAMESPACE, 1,
             resources("100m", "150Mi", memory_limit="256Mi")),
)


def resize(operator: Operator) -> pulumi.ResourceTransform:
    """A transform for the manifest's resources: the operator's Deployment gets the program's replicas and
    container resources before it is registered, so one apply owns them (a patch applied afterwards would
    fight the manifest's own apply on every refresh and upgrade)."""
    def transform(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        # A manifest's objects arrive as plain dictionaries.
        props = cast(dict[str, Any], args.props)
        if args.type_ != "kubernetes:apps/v1:Deployment" or (props.get("metadata") or {}).get("name") != operator.name:
            return None
        spec = dict(props.get("spec") or {})
        template = dict(spec.get("template") or {})
        pod = dict(template.get("spec") or {})
        pod["containers"] = [{**container, "resources": operator.resources} if container.get("name") == operator.name
                             else container for container in pod.get("containers") or []]
        spec.update(replicas=operator.replicas, template={**template, "spec": pod})
        return pulumi.ResourceTransformResult(props={**props, "spec": spec}, opts=args.opts)
    return transform


def vm_hosts(nodes: tuple[Node, ...]) -> list[Node]:
    return [node for node in nodes if BOARDS[node.board].kvm]


def guest_architecture(nodes: tuple[Node, ...]) -> str:
    """The CPU architecture guest VMs run: that of the nodes that can host them (mixed hosts: the most common)."""
    arches = [BOARDS[node.board].arch for node in vm_hosts(nodes)]
    return max(sorted(set(arches)), key=arches.count) if arches else BOARDS[nodes[0].board].arch


def _patches(components: tuple[Component, ...]) -> list[dict[str, str]]:
    return [{
        "resourceName": component.name,
        "resourceType": component.kind,
        "type": "strategic",
        "patch": json.dumps({"spec": {"template": {"spec": {"containers": [
            {"name": component.container, "resources": component.resources}]}}}}, sort_keys=True),
    } for component in components]


def kubevirt_spec(nodes: tuple[Node, ...]) -> dict[str, Any]:
    architectures = sorted({BOARDS[node.board].arch for node in vm_hosts(nodes)})
    placement = {"nodePlacement": {"nodeSelector": {KVM_LABEL: "true"}}}
    return {
        "configuration": {
            "cpuModel": _CPU_MODEL[architectures[0]] if len(architectures) == 1 else "host-passthrough",
            "developerConfiguration": {"featureGates": []},
        },
        "infra": {"replicas": 1},
        "workloads": placement,
        "customizeComponents": {"patches": _patches(KUBEVIRT_COMPONENTS)},
        "workloadUpdateStrategy": {"workloadUpdateMethods": ["LiveMigrate"]},
        "imagePullPolicy": "IfNotPresent",
    }


def cdi_spec() -> dict[str, Any]:
    return {
        "config": {"podResourceRequirements": IMPORTER_RESOURCES},
        "customizeComponents": {"patches": _patches(CDI_COMPONENTS)},
        "imagePullPolicy": "IfNotPresent",
    }


def demands(spec_patches: list[dict[str, str]], node_count: int, replicas: int) -> list[Demand]:
    """What the operators' components request, read back from the patches the CRs carry."""
    found = []
    for patch in spec_patches:
        pod_spec = json.loads(patch["patch"])["spec"]["template"]["spec"]
        per_node = patch["resourceType"] == "DaemonSet"
        found.append(pod_template_demand("platform", patch["resourceName"], pod_spec,
                                         node_count if per_node else replicas, per_node))
    return found


def manifest_demands(url: str) -> list[Demand]:
    """What the operator of the release manifest at ``url`` asks, as the transform resizes it."""
    return [pod_template_demand("platform", operator.name, operator.pod_template()["template"]["spec"],
                                operator.replicas) for operator in OPERATORS if operator.url == url]


def install(parent: pulumi.Resource, kubevirt: dict[str, Any], cdi: dict[str, Any],
            depends_on: list[pulumi.Resource]) -> list[pulumi.Resource]:
    """Operators from the release manifests, then the CRs that make them deploy (which wait for the CRDs)."""
    opts = pulumi.ResourceOptions(parent=parent, depends_on=depends_on)
    kubevirt_operator, cdi_operator = (
        k8s.yaml.v2.ConfigFile(operator.manifest, file=operator.url, opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(transforms=[resize(operator)])))
        for operator in OPERATORS)
    return [
        kubevirt_operator,
        cdi_operator,
        k8s.apiextensions.CustomResource(
            "kubevirt", api_version="kubevirt.io/v1", kind="KubeVirt",
            metadata={"name": "kubevirt", "namespace": KUBEVIRT_NAMESPACE,
                      "annotations": {"pulumi.com/waitFor": "condition=Available"}},
            spec=kubevirt, opts=pulumi.ResourceOptions(parent=parent, depends_on=[kubevirt_operator]),
        ),
        k8s.apiextensions.CustomResource(
            "cdi", api_version="cdi.kubevirt.io/v1beta1", kind="CDI",
            metadata={"name": "cdi", "annotations": {"pulumi.com/waitFor": "condition=Available"}},
            spec=cdi, opts=pulumi.ResourceOptions(parent=parent, depends_on=[cdi_operator]),
        ),
    ]


def vm_disk_profile(parent: pulumi.Resource, depends_on: list[pulumi.Resource]) -> pulumi.Resource:
    """How CDI makes VM disks on the shared filesystem: ReadWriteMany, Filesystem mode, copied when cloned.

    CDI cannot guess these for a CSI driver it does not know, and a DataVolume without them never binds.
    ReadWriteMany lets a disk be attached on whichever Pi its VM runs on. JuiceFS has no block mode,
    so a disk is an image file on the volume (the profile says so rather than CDI trying Block).
    """
    return k8s.apiextensions.CustomResourcePatch(
        f"storage-profile-{DEFAULT_CLASS}", api_version="cdi.kubevirt.io/v1beta1", kind="StorageProfile",
        metadata={"name": DEFAULT_CLASS},
        spec={"claimPropertySets": [{"accessModes": ["ReadWriteMany"], "volumeMode": "Filesystem"}],
              "cloneStrategy": "copy"},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on),
    )
