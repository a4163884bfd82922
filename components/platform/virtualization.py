"""Virtualisation: KubeVirt and CDI from their pinned release manifests, and their custom resources.

Guest clusters are KubeVirt VMs, and their disks are imported by CDI. Only boards that can run KVM under
Talos host VMs (components/boards.py): Talos labels those nodes, and KubeVirt's node agents and VMs are
placed on them alone. arm64 has no CPU models for KubeVirt to pick from, so it passes the host CPU
through. The control components run one replica each: a Pi cluster cannot spare two of everything, and
running VMs do not need them to keep running.
"""

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.boards import BOARDS
from components.capacity import Demand, pod_template_demand
from components.config import Node
from components.metal.patches import KVM_LABEL
from components.platform.shared_fs import DEFAULT_CLASS
from components.quantities import resources
from components.versions import CDI, KUBEVIRT

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
    """An operator Deployment from a release manifest, resized by a patch the program applies after it."""

    name: str
    namespace: str
    release: str
    replicas: int
    resources: dict[str, Any]


# Upstream ships virt-operator as 2 replicas of 450Mi requests and cdi-operator as 100m/150Mi with no limits.
# Running VMs never depend on the operators, so one small replica each is enough on four Pis.
OPERATORS = (
    Operator("virt-operator", KUBEVIRT_NAMESPACE, KUBEVIRT, 1, resources("10m", "256Mi", memory_limit="512Mi")),
    Operator("cdi-operator", CDI_NAMESPACE, CDI, 1, resources("100m", "150Mi", memory_limit="256Mi")),
)


def operator_patch_body(operator: Operator) -> dict[str, Any]:
    """The fields of the operator's Deployment the program owns. ``patchForce`` takes them over from the
    manifest's own apply; the release annotation changes with each upgrade, so the patch is applied again
    after the new manifest (which resets them)."""
    return {
        "metadata": {"name": operator.name, "namespace": operator.namespace,
                     "annotations": {"pulumi.com/patchForce": "true", "homelab.dev/release": operator.release}},
        "spec": {"replicas": operator.replicas, "template": {"spec": {"containers": [
            {"name": operator.name, "resources": operator.resources}]}}},
    }


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


def install(parent: pulumi.Resource, kubevirt: dict[str, Any], cdi: dict[str, Any],
            depends_on: list[pulumi.Resource]) -> list[pulumi.Resource]:
    """Operators from the release manifests, then the CRs that make them deploy (which wait for the CRDs)."""
    opts = pulumi.ResourceOptions(parent=parent, depends_on=depends_on)
    kubevirt_operator = k8s.yaml.v2.ConfigFile("kubevirt-operator", file=KUBEVIRT_OPERATOR, opts=opts)
    cdi_operator = k8s.yaml.v2.ConfigFile("cdi-operator", file=CDI_OPERATOR, opts=opts)
    resized = [
        k8s.apps.v1.DeploymentPatch(
            f"{operator.name}-size", **operator_patch_body(operator),
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[manifest]))
        for operator, manifest in zip(OPERATORS, (kubevirt_operator, cdi_operator), strict=True)
    ]
    return [
        kubevirt_operator,
        cdi_operator,
        *resized,
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
