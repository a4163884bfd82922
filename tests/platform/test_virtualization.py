"""KubeVirt and CDI: pinned release manifests, CRs after their operators, VMs only on boards that run KVM."""

import json

import pulumi
import yaml

from components import versions
from components.platform import virtualization
from tests.conftest import prod_nodes

CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile"


def test_operators_come_from_pinned_release_manifests(prod):
    files = {r.name: r.inputs["file"] for r in prod.by_type(CONFIG_FILE)}
    assert files["kubevirt-operator"].endswith(f"/download/{versions.KUBEVIRT}/kubevirt-operator.yaml")
    assert files["cdi-operator"].endswith(f"/download/{versions.CDI}/cdi-operator.yaml")


def test_each_cr_waits_for_its_operator(prod):
    kubevirt = prod.one("kubernetes:kubevirt.io/v1:KubeVirt", "kubevirt")
    cdi = prod.one("kubernetes:cdi.kubevirt.io/v1beta1:CDI", "cdi")
    assert prod.one(CONFIG_FILE, "kubevirt-operator").urn in kubevirt.dependencies
    assert prod.one(CONFIG_FILE, "cdi-operator").urn in cdi.dependencies
    assert kubevirt.inputs["metadata"]["annotations"]["pulumi.com/waitFor"] == "condition=Available"


def test_arm64_vms_pass_the_host_cpu_through_and_each_vms_class_decides_its_eviction(prod):
    configuration = prod.one("kubernetes:kubevirt.io/v1:KubeVirt", "kubevirt").inputs["spec"]["configuration"]
    assert configuration["cpuModel"] == "host-passthrough"
    assert "evictionStrategy" not in configuration


def test_vm_workloads_are_placed_on_kvm_nodes_only(prod):
    spec = prod.one("kubernetes:kubevirt.io/v1:KubeVirt", "kubevirt").inputs["spec"]
    assert spec["workloads"]["nodePlacement"]["nodeSelector"] == {"homelab.dev/kvm": "true"}
    apply = prod.one("talos:machine/configurationApply:ConfigurationApply", "homelab-pi-1")
    labels = yaml.safe_load(apply.inputs["configPatches"][0])["machine"]["nodeLabels"]
    assert labels["homelab.dev/kvm"] == "true"


def test_every_operator_component_gets_requests_and_limits(prod):
    for kind, name in (("kubevirt.io/v1:KubeVirt", "kubevirt"), ("cdi.kubevirt.io/v1beta1:CDI", "cdi")):
        patches = prod.one(f"kubernetes:{kind}", name).inputs["spec"]["customizeComponents"]["patches"]
        assert patches
        for patch in patches:
            (container,) = json.loads(patch["patch"])["spec"]["template"]["spec"]["containers"]
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), patch["resourceName"]
            assert "memory" in container["resources"]["limits"]


def test_an_inventory_that_cannot_host_vms_is_refused(reject):
    nodes = prod_nodes()
    for node in nodes:
        node["board"] = "rpi5-8gb"
    rejected = reject("prod", {"homelab:nodes": nodes, "homelab:versions": {"talos": "v1.12.11"}})
    assert "homelab:nodes" in rejected.error.keys
    assert any("KubeVirt" in issue.problem for issue in rejected.error.issues)
    assert rejected.registered == []


def _deployment(name, replicas=2, memory="450Mi"):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "kubevirt"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}, "template": {"spec": {
                "containers": [{"name": name, "image": "x", "resources": {"requests": {"memory": memory}}},
                               {"name": "sidecar", "image": "y"}]}}}}


def test_the_operators_are_resized_as_their_manifests_are_registered():
    """Upstream's virt-operator is 2 × 450Mi of requests and no limits; the transform sets replicas and the
    operator container's resources, and touches nothing else of the manifest."""
    operator = virtualization.OPERATORS[0]
    transform = virtualization.resize(operator)
    opts = pulumi.ResourceOptions()
    args = pulumi.ResourceTransformArgs(True, "kubernetes:apps/v1:Deployment", "kubevirt/virt-operator",
                                        _deployment("virt-operator"), opts)
    result = transform(args)
    assert result is not None and result.opts is opts
    spec = result.props["spec"]
    assert spec["replicas"] == 1 and spec["selector"] == {"matchLabels": {"app": "virt-operator"}}
    (resized, sidecar) = spec["template"]["spec"]["containers"]
    assert resized == {"name": "virt-operator", "image": "x", "resources": operator.resources}
    assert sidecar == {"name": "sidecar", "image": "y"}
    for other in (pulumi.ResourceTransformArgs(True, "kubernetes:apps/v1:Deployment", "kubevirt/virt-api",
                                               _deployment("virt-api"), opts),
                  pulumi.ResourceTransformArgs(True, "kubernetes:core/v1:Service", "kubevirt/virt-operator",
                                               {"metadata": {"name": "virt-operator"}}, opts)):
        assert transform(other) is None


def test_each_operator_manifest_is_registered_with_its_resizing_and_counted(prod):
    demands = {d.owner: d for d in virtualization.manifest_demands(virtualization.KUBEVIRT_OPERATOR)
               + virtualization.manifest_demands(virtualization.CDI_OPERATOR)}
    assert {owner: (d.pods, d.per_pod.memory_mib) for owner, d in demands.items()} == {
        "virt-operator": (1, 256), "cdi-operator": (1, 150)}
    files = {r.inputs["file"] for r in prod.by_type(CONFIG_FILE)}
    assert {virtualization.KUBEVIRT_OPERATOR, virtualization.CDI_OPERATOR} <= files
    workloads = {w["owner"] for w in prod.outputs["capacity"]["workloads"]}
    assert {"virt-operator", "cdi-operator"} <= workloads
