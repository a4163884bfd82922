"""Talos machine configs as their real generators build them, through the project's talos-check.

Infrastructure nodes are generated as pulumiverse-talos 0.8.1 generates them (the getConfiguration invoke's
own arguments, then ConfigurationApply's patches), in metal mode. Guest machines are generated as the Cluster
API bootstrap provider generates them (the TalosControlPlane's and TalosConfigTemplates' generate type, Talos
version, the Cluster's networks, then their patches), in cloud mode: they boot the OpenStack platform image
(components/clusters/image.py).
"""

import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

from labctl.render import TALOS_APPLY
from labctl.synth import SynthResult, read_stack_file

GET_CONFIGURATION = "talos:machine/getConfiguration:getConfiguration"
CUSTOM = "kubernetes:"
# Cluster API's KubeVirt provider gives the control plane a LoadBalancer address; any address stands for it.
GUEST_ENDPOINT = "192.0.2.10:6443"




def infrastructure_machines(result: SynthResult) -> list[dict[str, Any]]:
    """One machine per ConfigurationApply, with the arguments of the invoke that made its base config."""
    generated = {call.args["machineType"]: call.args for call in result.invocations
                 if call.token == GET_CONFIGURATION}
    roles = {node["name"]: node["role"] for node in read_stack_file(result.stack)["homelab:nodes"]}
    machines = []
    for apply in result.by_type(TALOS_APPLY):
        cluster = apply.parent.rsplit("::", 1)[-1]  # the TalosCluster component, named after the cluster
        machine_type = roles[apply.name.removeprefix(f"{cluster}-")]
        args = generated[machine_type]
        machines.append({
            "name": apply.name, "generator": "provider", "mode": "metal",
            "clusterName": args["clusterName"], "endpoint": args["clusterEndpoint"],
            "kubernetesVersion": args["kubernetesVersion"], "talosVersion": args["talosVersion"],
            "machineType": machine_type, "patches": list(apply.inputs["configPatches"]),
        })
    return machines


def _custom_objects(result: SynthResult, kind: str) -> list[dict[str, Any]]:
    return [r.inputs for r in result.registrations
            if r.type.startswith(CUSTOM) and r.inputs.get("kind") == kind and not r.read]


def guest_machines(result: SynthResult) -> list[dict[str, Any]]:
    """One machine per TalosControlPlane and per TalosConfigTemplate, as CABPT generates them."""
    clusters = {(c["metadata"]["namespace"], c["spec"]["controlPlaneRef"]["name"]): c
                for c in _custom_objects(result, "Cluster")}
    machines = []

    def machine(name: str, cluster: dict[str, Any], version: str, spec: dict[str, Any]) -> dict[str, Any]:
        network = cluster["spec"].get("clusterNetwork", {})
        return {
            "name": name, "generator": "cabpt", "mode": "cloud", "clusterName": cluster["metadata"]["name"],
            "endpoint": GUEST_ENDPOINT, "kubernetesVersion": version, "talosVersion": spec["talosVersion"],
            "machineType": spec["generateType"], "patches": list(spec.get("strategicPatches", [])),
            "jsonPatches": list(spec.get("configPatches", [])),
            "podSubnets": network.get("pods", {}).get("cidrBlocks", []),
            "serviceSubnets": network.get("services", {}).get("cidrBlocks", []),
        }

    for control_plane in _custom_objects(result, "TalosControlPlane"):
        meta, spec = control_plane["metadata"], control_plane["spec"]
        cluster = clusters[(meta["namespace"], meta["name"])]
        machines.append(machine(f"{meta['namespace']}/{meta['name']}", cluster, spec["version"],
                                spec["controlPlaneConfig"]["controlplane"]))
    by_cluster = {c["metadata"]["name"]: c for c in clusters.values()}
    for deployment in _custom_objects(result, "MachineDeployment"):
        template = deployment["spec"]["template"]["spec"]
        config_name = template["bootstrap"]["configRef"]["name"]
        (config,) = [c for c in _custom_objects(result, "TalosConfigTemplate")
                     if c["metadata"]["name"] == config_name
                     and c["metadata"]["namespace"] == deployment["metadata"]["namespace"]]
        machines.append(machine(f"{deployment['metadata']['namespace']}/{config_name}",
                                by_cluster[deployment["spec"]["clusterName"]], template["version"],
                                config["spec"]["template"]["spec"]))
    return machines


def _run(talos_check: Path, machines: list[dict[str, Any]], *flags: str) -> list[dict[str, Any]]:
    done = subprocess.run([str(talos_check), *flags], input=json.dumps(machines), capture_output=True, text=True,
                          check=True, timeout=120)
    return list(json.loads(done.stdout))


def talos_verdicts(talos_check: Path, machines: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Each machine's errors as the Talos machinery reports them (strict: warnings count as errors)."""
    return {result["name"]: result["errors"] for result in _run(talos_check, machines)}


def admission_plugins(talos_check: Path, machine: dict[str, Any]) -> list[dict[str, Any]]:
    """The API server's admission plugin configuration in the config Talos generates for ``machine``."""
    (result,) = _run(talos_check, [machine], "--print-config")
    (v1alpha1,) = [doc for doc in yaml.safe_load_all(result["config"]) if doc and "cluster" in doc]
    return list(v1alpha1["cluster"]["apiServer"]["admissionControl"])
