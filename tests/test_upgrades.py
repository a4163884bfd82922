"""A version bump in config reaches every layer, and a `pulumi up` after the upgrade finds nothing to change.

Layers: the machine secrets and configs (Talos and Kubernetes), each node's installer image, the Talos upgrade
Jobs, the guest image, and the guest clusters' Cluster API objects (TalosControlPlane and MachineDeployment
versions, and new machine templates and image for a new Talos version, which is what makes Cluster API roll
the VMs). The upgrade itself happens on hardware; what decides it is registered here."""

import yaml

from components.versions import KUBERNETES, TALOS
from labctl.synth import SynthResult, synthesize

TALOS_BUMP, KUBERNETES_BUMP = "v1.12.10", "v1.33.12"
APPLY = "talos:machine/configurationApply:ConfigurationApply"
TCP = "kubernetes:controlplane.cluster.x-k8s.io/v1alpha3:TalosControlPlane"
MD = "kubernetes:cluster.x-k8s.io/v1beta1:MachineDeployment"
TEMPLATE = "kubernetes:infrastructure.cluster.x-k8s.io/v1alpha1:KubevirtMachineTemplate"
DATA_VOLUME = "kubernetes:cdi.kubevirt.io/v1beta1:DataVolume"
JOB = "kubernetes:batch/v1:Job"


def _pinned(build, talos: str, kubernetes: str) -> SynthResult:
    return build("prod", {"homelab:versions": {"talos": talos, "kubernetes": kubernetes}})


def _calls(result: SynthResult, token: str) -> list[dict]:
    return [call.args for call in result.invocations if call.token == token]


def _dashed(version: str) -> str:
    return version.lstrip("v").replace(".", "-")


def test_the_versions_in_config_reach_every_layer(build):
    result = _pinned(build, TALOS_BUMP, KUBERNETES_BUMP)
    assert result.outputs["versions"]["talos"] == TALOS_BUMP
    (secrets,) = result.by_type("talos:machine/secrets:Secrets")
    assert secrets.inputs["talosVersion"] == TALOS_BUMP
    for config in _calls(result, "talos:machine/getConfiguration:getConfiguration"):
        assert (config["talosVersion"], config["kubernetesVersion"]) == (TALOS_BUMP, KUBERNETES_BUMP)
    assert {urls["talosVersion"] for urls in _calls(result, "talos:imageFactory/getUrls:getUrls")} == {TALOS_BUMP}
    for apply in result.by_type(APPLY):
        installer = yaml.safe_load(apply.inputs["configPatches"][0])["machine"]["install"]["image"]
        assert installer.endswith(f":{TALOS_BUMP}")
    jobs = [job for job in result.by_type(JOB) if job.inputs["metadata"]["namespace"] == "talos-upgrade"]
    assert len(jobs) == len(result.by_type(APPLY))
    for job in jobs:
        (container,) = job.inputs["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["TARGET"] == TALOS_BUMP and container["image"].endswith(f":{TALOS_BUMP}")
    (control_plane,) = result.by_type(TCP)
    assert control_plane.inputs["spec"]["version"] == KUBERNETES_BUMP
    assert control_plane.inputs["spec"]["controlPlaneConfig"]["controlplane"]["talosVersion"] == "v1.12"
    assert f"-{_dashed(TALOS_BUMP)}-" in control_plane.inputs["spec"]["infrastructureTemplate"]["name"]
    for deployment in result.by_type(MD):
        spec = deployment.inputs["spec"]["template"]["spec"]
        assert spec["version"] == KUBERNETES_BUMP and f"-{_dashed(TALOS_BUMP)}-" in spec["infrastructureRef"]["name"]
    (image,) = result.by_type(DATA_VOLUME)
    assert image.inputs["metadata"]["name"].startswith(f"talos-{_dashed(TALOS_BUMP)}-")
    for template in result.by_type(TEMPLATE):
        (disk,) = template.inputs["spec"]["template"]["spec"]["virtualMachineTemplate"]["spec"]["dataVolumeTemplates"]
        assert disk["spec"]["source"]["pvc"]["name"] == image.inputs["metadata"]["name"]


def test_a_new_talos_version_makes_new_machine_templates_and_a_new_image_so_cluster_api_rolls_the_vms(prod, build):
    bumped = _pinned(build, TALOS_BUMP, KUBERNETES)
    names = {r.inputs["metadata"]["name"] for r in prod.by_type(TEMPLATE) + prod.by_type(DATA_VOLUME)}
    bumped_names = {r.inputs["metadata"]["name"] for r in bumped.by_type(TEMPLATE) + bumped.by_type(DATA_VOLUME)}
    assert names.isdisjoint(bumped_names) and len(names) == len(bumped_names)
    # The objects that point at them are the same ones, changed in place.
    assert [r.urn for r in prod.by_type(TCP) + prod.by_type(MD)] == [r.urn for r in bumped.by_type(TCP) +
                                                                     bumped.by_type(MD)]


def test_a_new_vm_size_or_disk_makes_new_templates_and_image_too(prod, build):
    from labctl.synth import read_stack_file

    production = read_stack_file("prod")["homelab:production"]
    bigger = build("prod", {"homelab:production": {**production, "disk": "30GiB"}})
    before = {r.inputs["metadata"]["name"] for r in prod.by_type(TEMPLATE) + prod.by_type(DATA_VOLUME)}
    after = {r.inputs["metadata"]["name"] for r in bigger.by_type(TEMPLATE) + bigger.by_type(DATA_VOLUME)}
    assert before.isdisjoint(after)


def test_production_rolls_out_within_its_budget_and_experiments_wait_to_be_recreated(prod, lab):
    (control_plane,) = prod.by_type(TCP)
    assert control_plane.inputs["spec"]["rolloutStrategy"] == {"type": "RollingUpdate",
                                                               "rollingUpdate": {"maxSurge": 1}}
    for deployment in prod.by_type(MD):
        assert deployment.inputs["spec"]["strategy"] == {"type": "RollingUpdate",
                                                         "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}
    total = prod.outputs["capacity"]["total"]
    (surge,) = [w for w in prod.outputs["capacity"]["workloads"] if w["workload"] == "rollout-surge"]
    assert total["rolloutRoom"] == surge["total"] and surge["total"]["memory_mib"] > 0
    (vm,) = [w for w in prod.outputs["capacity"]["workloads"]
             if w["owner"] == "production" and w["workload"] == "control-plane"]
    assert surge["perPod"] == vm["perPod"]
    for experiment in lab.by_type(TCP):
        assert experiment.inputs["spec"]["rolloutStrategy"] == {"type": "OnDelete"}
    assert {d.inputs["spec"]["strategy"]["type"] for d in lab.by_type(MD)} == {"OnDelete"}


def _inputs(result: SynthResult) -> dict[str, dict]:
    return {r.urn: r.inputs for r in result.registrations}


def test_an_update_after_an_upgrade_registers_exactly_what_the_upgrade_did(prod):
    """What a later `pulumi up` would diff against: the inputs of every resource. The upgrade is the update
    that moved both pins (Kubernetes rolling node by node); the one after it reads the upgrade's own outputs."""
    older = {**prod.outputs, "versions": {"talos": TALOS_BUMP, "kubernetes": KUBERNETES_BUMP}}
    upgrade = synthesize("prod", deployed_outputs=older)
    assert upgrade.outputs["versions"] == {**prod.outputs["versions"], "talos": TALOS, "kubernetes": KUBERNETES}
    after = synthesize("prod", deployed_outputs=upgrade.outputs)
    assert _inputs(after) == _inputs(upgrade)
    # And both are what a first deployment at these pins registers: nothing records the versions that ran before.
    assert _inputs(upgrade) == _inputs(prod)
