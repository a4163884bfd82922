"""KubeVirt and CDI: pinned release manifests, CRs after their operators, VMs only on boards that run KVM."""

import json

import yaml

from components import versions
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
    rejected = reject("prod", {"homelab:nodes": nodes, "homelab:versions": {"talos": "v1.12.12"}})
    assert "homelab:nodes" in rejected.error.keys
    assert any("KubeVirt" in issue.problem for issue in rejected.error.issues)
    assert rejected.registered == []


def test_the_operators_from_release_manifests_are_resized_after_them_and_again_after_each_upgrade(prod):
    """Upstream's virt-operator is 2 × 450Mi of requests and no limits; the patch owns replicas and resources."""
    from components.versions import CDI, KUBEVIRT

    for name, manifest, release in (("virt-operator", "kubevirt-operator", KUBEVIRT),
                                    ("cdi-operator", "cdi-operator", CDI)):
        patch = prod.one("kubernetes:apps/v1:DeploymentPatch", f"{name}-size")
        assert prod.one(CONFIG_FILE, manifest).urn in patch.dependencies
        metadata, spec = patch.inputs["metadata"], patch.inputs["spec"]
        assert metadata["name"] == name
        assert metadata["annotations"] == {"pulumi.com/patchForce": "true", "homelab.dev/release": release}
        assert spec["replicas"] == 1
        (container,) = spec["template"]["spec"]["containers"]
        assert container["name"] == name and "memory" in container["resources"]["limits"]
