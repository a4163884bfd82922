"""TalosCluster under mocks: what it registers for the reference inventory, and what a change adds."""

import ipaddress
import json
from typing import Any

import yaml

from components.metal.image import schematic_id
from labctl.synth import SynthResult
from tests.conftest import prod_nodes, redacted

APPLY = "talos:machine/configurationApply:ConfigurationApply"
BOOTSTRAP = "talos:machine/bootstrap:Bootstrap"
SECRETS = "talos:machine/secrets:Secrets"
SCHEMATIC = "talos:imageFactory/schematic:Schematic"
KUBECONFIG = "talos:cluster/kubeconfig:Kubeconfig"
CLUSTER = "homelab:metal:TalosCluster"


def _patches(result: SynthResult, node: str) -> list[dict[str, Any]]:
    apply = result.one(APPLY, f"homelab-{node}")
    return [yaml.safe_load(patch) for patch in apply.inputs["configPatches"]]


def _machine(result: SynthResult, node: str) -> dict[str, Any]:
    return _patches(result, node)[0]


def test_one_configuration_apply_per_node(prod):
    applies = prod.by_type(APPLY)
    assert sorted(a.inputs["node"] for a in applies) == [f"192.168.10.1{i}" for i in range(1, 5)]
    cluster = prod.one(CLUSTER, "homelab")
    assert all(a.parent == cluster.urn for a in applies)


def test_bootstrap_runs_once_on_a_control_plane_after_its_config(prod):
    (bootstrap,) = prod.by_type(BOOTSTRAP)
    assert bootstrap.inputs["node"] == "192.168.10.11"  # pi-1, a control plane
    assert prod.one(APPLY, "homelab-pi-1").urn in bootstrap.dependencies
    kubeconfig = prod.one(KUBECONFIG, "homelab-kubeconfig")
    assert bootstrap.urn in kubeconfig.dependencies


def test_kubernetes_waits_for_talos_health_of_the_whole_inventory(prod):
    (health,) = [call for call in prod.invocations if call.token == "talos:cluster/getHealth:getHealth"]
    assert health.args["controlPlaneNodes"] == health.args["endpoints"] == ["192.168.10.11", "192.168.10.12",
                                                                          "192.168.10.13"]
    assert health.args["workerNodes"] == ["192.168.10.14"]
    # The Kubernetes checks stay on: they are what proves the VIP and the API server answer.
    assert not health.args.get("skipKubernetesChecks")
    provider = prod.one("pulumi:providers:kubernetes", "infrastructure")
    waited_for = {prod.one(BOOTSTRAP, "homelab-bootstrap").urn} | {apply.urn for apply in prod.by_type(APPLY)}
    assert waited_for <= set(provider.dependencies)


def _kinds(result: SynthResult, node: str) -> dict[str, dict[str, Any]]:
    return {patch["kind"]: patch for patch in _patches(result, node) if "kind" in patch}


def test_patches_per_role(prod):
    control_plane, worker = _machine(prod, "pi-1"), _machine(prod, "pi-4")
    assert _kinds(prod, "pi-1")["Layer2VIPConfig"] == {
        "apiVersion": "v1alpha1", "kind": "Layer2VIPConfig", "name": "192.168.10.10", "link": "end0"}
    assert control_plane["cluster"]["allowSchedulingOnControlPlanes"] is True
    assert "Layer2VIPConfig" not in _kinds(prod, "pi-4")
    assert "allowSchedulingOnControlPlanes" not in worker["cluster"]
    for patch in (control_plane, worker):
        assert patch["cluster"]["network"]["cni"] == {"name": "none"}
        assert patch["cluster"]["proxy"] == {"disabled": True}
        assert patch["machine"]["features"]["kubePrism"] == {"enabled": True, "port": 7445}


def test_every_node_gets_identity_zone_and_reservations(prod):
    for node in prod_nodes():
        machine = _machine(prod, node["name"])["machine"]
        assert _kinds(prod, node["name"])["HostnameConfig"]["hostname"] == node["name"]
        # The generated config's HostnameConfig has `auto: stable`, which Talos refuses beside a hostname.
        assert _kinds(prod, node["name"])["HostnameConfig"]["auto"] == "off"
        assert _kinds(prod, node["name"])["DHCPv4Config"]["name"] == "end0"
        assert machine["install"]["disk"] == node["installDisk"]
        # What terraform-provider-talos v0.11.0 names for an SBC: the metal installer of the board's schematic.
        assert machine["install"]["image"].startswith("factory.talos.dev/metal-installer/")
        assert machine["install"]["image"].endswith(":v1.12.11")
        assert machine["nodeLabels"]["topology.kubernetes.io/zone"] == node["zone"]
        assert machine["kubelet"]["extraConfig"]["systemReserved"] == {"cpu": "250m", "memory": "768Mi", "pid": "100",
                                                                       "ephemeral-storage": "256Mi"}


def test_single_ssd_nodes_share_it_between_talos_and_the_storage_volume(prod):
    ephemeral, storage = _patches(prod, "pi-2")[-2:]
    assert ephemeral["kind"] == "VolumeConfig" and ephemeral["name"] == "EPHEMERAL"
    assert ephemeral["provisioning"]["maxSize"] == "64GiB"
    assert storage["kind"] == "UserVolumeConfig" and storage["name"] == "storage"
    assert storage["provisioning"]["diskSelector"] == {"match": "system_disk"}


def test_a_second_disk_holds_the_storage_volume_alone(build):
    nodes = prod_nodes()
    nodes[3]["storageDisk"] = "/dev/nvme0n1"
    patches = _patches(build("prod", {"homelab:nodes": nodes}), "pi-4")
    assert [p.get("kind") for p in patches] == [None, "HostnameConfig", "DHCPv4Config", "ResolverConfig",
                                                 "UserVolumeConfig"]
    assert patches[-1]["provisioning"]["diskSelector"] == {"match": "disk.dev_path == '/dev/nvme0n1'"}


def test_machine_secrets_are_protected_in_prod(prod):
    assert prod.one(SECRETS, "homelab-secrets").protect is True


def test_the_platform_stack_protects_its_data_whatever_it_is_called(tmp_path):
    """Protection follows the role: prod's own file as a stack named `home` protects the same resources."""
    import shutil
    from pathlib import Path

    from labctl.synth import PROJECT_DIR, synthesize
    from policy.rules import STATEFUL_TYPES

    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copy(PROJECT_DIR / "Pulumi.prod.yaml", tmp_path / "Pulumi.home.yaml")
    shutil.copytree(PROJECT_DIR / "tailnet", tmp_path / "tailnet")
    home = synthesize("home", project_dir=Path(tmp_path))
    stateful = [r for r in home.registrations if r.type in STATEFUL_TYPES]
    assert len(stateful) >= 1 + 2 + 4 and all(r.protect for r in stateful), [r.urn for r in stateful if not r.protect]


def test_credentials_reach_the_engine_only_as_secrets(prod):
    for apply in prod.by_type(APPLY):
        assert redacted(apply.inputs["clientConfiguration"])
        assert apply.inputs["machineConfigurationInput"] == "[secret]"
    assert prod.outputs["kubeconfig"] == "[secret]"
    assert prod.outputs["talosconfig"] == "[secret]"
    provider = prod.one("pulumi:providers:kubernetes", "infrastructure")
    assert provider.inputs["kubeconfig"] == "[secret]"
    assert provider.inputs["clusterIdentifier"] == "homelab"


def test_invokes_receive_camel_case_machine_secrets(prod):
    """pulumiverse/pulumi-talos #103: snake_case keys in an invoke are rejected by the provider."""
    machine_configs = [i for i in prod.invocations if i.token == "talos:machine/getConfiguration:getConfiguration"]
    assert sorted(i.args["machineType"] for i in machine_configs) == ["controlplane", "worker"]
    sent = json.dumps(machine_configs[0].args["machineSecrets"])
    for key in ("bootstrapToken", "secretboxEncryptionSecret", "k8sAggregator", "k8sServiceaccount"):
        assert f'"{key}"' in sent
    assert "_" not in "".join(_keys(machine_configs[0].args["machineSecrets"]))
    (client,) = [i for i in prod.invocations if i.token == "talos:client/getConfiguration:getConfiguration"]
    assert set(client.args["clientConfiguration"]) == {"caCertificate", "clientCertificate", "clientKey"}


def _keys(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [*value, *(k for item in value.values() for k in _keys(item))]
    return []


def test_one_schematic_per_board_model_with_the_pi_overlay(prod, build):
    (schematic,) = [s for s in prod.by_type(SCHEMATIC) if s.name != "guest-vm"]
    document = yaml.safe_load(schematic.inputs["schematic"])
    assert document["overlay"] == {"image": "siderolabs/sbc-raspberrypi", "name": "rpi_generic"}
    assert "siderolabs/util-linux-tools" in document["customization"]["systemExtensions"]["officialExtensions"]
    nodes = [*prod_nodes(), {"name": "nuc-1", "ip": "192.168.10.21", "role": "worker", "board": "generic-amd64",
                             "arch": "amd64", "installDisk": "/dev/nvme0n1", "zone": "zone-c"}]
    mixed = build("prod", {"homelab:nodes": nodes})
    boards = sorted(s.name for s in mixed.by_type(SCHEMATIC) if s.name != "guest-vm")
    assert boards == ["homelab-generic-amd64", "homelab-rpi4b-8gb"]
    assert "/metal-installer/" in _machine(mixed, "nuc-1")["machine"]["install"]["image"]


def test_adding_a_node_adds_one_machine_and_its_local_volumes_and_changes_nothing_else(prod, build):
    nodes = [*prod_nodes(), {"name": "pi-5", "ip": "192.168.10.15", "role": "worker", "board": "rpi4b-8gb",
                             "arch": "arm64", "installDisk": "/dev/sda", "zone": "zone-b"}]
    grown = build("prod", {"homelab:nodes": nodes})
    before = {r.urn: r for r in prod.registrations}
    after = {r.urn: r for r in grown.registrations}
    added = set(after) - set(before)
    # One Talos machine, the new node's user volume offered to the replicated stores, and its Talos upgrade Job.
    assert sorted(after[urn].name for urn in added) == ["homelab-pi-5", "local-juicefs-meta-pi-5", "local-minio-pi-5",
                                                        "talos-upgrade-pi-5"]
    assert set(before) <= set(after)
    changed = [before[urn].name for urn in before if before[urn].inputs != after[urn].inputs]
    # Only the capacity dashboard, whose plan lines are this inventory's budget, and the upgrade Jobs' inventory.
    assert sorted(changed) == ["grafana-dashboards", "talos-inventory"]


def test_control_plane_pods_are_sized_in_the_machine_config_and_counted_in_the_budget(prod):
    from components.metal.control_plane import STATIC_PODS

    patches = {}
    for apply in prod.by_type(APPLY):
        machine = yaml.safe_load(apply.inputs["configPatches"][0])
        patches[apply.name] = machine.get("cluster", {})
    sized = {name for name, cluster in patches.items() if cluster.get("apiServer")}
    assert len(sized) == 3, "every control-plane node and no worker sizes the static pods"
    for name in sized:
        assert {key: patches[name][key]["resources"] for key in STATIC_PODS} == STATIC_PODS
    workloads = {(w["layer"], w["workload"]): w for w in prod.outputs["capacity"]["workloads"]}
    api = workloads[("kubernetes", "apiServer")]
    assert api["pods"] == 3 and api["perPod"]["memory_mib"] == 384
    assert workloads[("kubernetes", "coredns")]["pods"] == 2
    total = prod.outputs["capacity"]["total"]
    assert total["kubernetes"]["memory_mib"] == 3 * (384 + 128 + 64) + 2 * 70


def test_no_guest_address_range_overlaps_the_infrastructure_clusters(prod):
    """Guests' VMs sit on the infrastructure pod network and reach its Services: their own ranges must differ."""
    network = _patches(prod, "pi-1")[0]["cluster"]["network"]
    infrastructure = [ipaddress.ip_network(cidr) for cidr in [*network["podSubnets"], *network["serviceSubnets"]]]
    (guest,) = prod.by_type("kubernetes:cluster.x-k8s.io/v1beta1:Cluster")
    ranges = guest.inputs["spec"]["clusterNetwork"]
    guests = [ipaddress.ip_network(cidr) for part in ("pods", "services") for cidr in ranges[part]["cidrBlocks"]]
    assert len(infrastructure) == 2 and len(guests) == 2
    assert not [(a, b) for a in infrastructure for b in guests if a.overlaps(b)]


def test_disk_pressure_eviction_stays_on_beside_the_memory_threshold(prod):
    """The kubelet sets every evictionHard threshold not given to zero: disk pressure would never evict."""
    for node in prod_nodes():
        eviction = _machine(prod, node["name"])["machine"]["kubelet"]["extraConfig"]["evictionHard"]
        assert set(eviction) == {"memory.available", "nodefs.available", "nodefs.inodesFree", "imagefs.available",
                                 "imagefs.inodesFree"}
        assert all(value not in ("0", "0%") for value in eviction.values())


def test_nodes_resolve_through_pinned_upstream_resolvers_not_the_homelabs_own_dns(prod):
    """After a power cut, Pi-hole (in a guest) cannot start before the nodes pull images: DHCP's resolver, which
    the README points at Pi-hole, must not be the nodes' only one."""
    for node in prod_nodes():
        resolver = _kinds(prod, node["name"])["ResolverConfig"]
        assert resolver["nameservers"] == [{"address": "1.1.1.1"}, {"address": "9.9.9.9"}]


def test_a_nameserver_inside_the_load_balancer_range_is_refused(reject):
    from labctl.synth import read_stack_file

    cluster = dict(read_stack_file("prod")["homelab:cluster"])
    cluster["nameservers"] = ["1.1.1.1", cluster["loadBalancerRange"]["start"]]
    rejected = reject("prod", {"homelab:cluster": cluster})
    (issue,) = rejected.error.issues
    assert issue.key == "homelab:cluster.nameservers[1]" and "1.1.1.1" in issue.fix
    assert rejected.registered == []


def test_every_board_model_has_its_first_boot_image_and_installer_as_an_output(prod, build):
    (boot,) = prod.outputs["bootImages"].values()
    (schematic,) = [s for s in prod.by_type(SCHEMATIC) if s.name != "guest-vm"]
    assert boot["nodes"] == [{"name": n["name"], "ip": n["ip"], "role": n["role"], "installDisk": n["installDisk"]}
                             for n in prod_nodes()]
    # The disk image carries the board's overlay (its schematic) at the pinned Talos version.
    assert boot["diskImage"].startswith("https://factory.talos.dev/image/") and "/v1.12.11/" in boot["diskImage"]
    assert boot["diskImage"].endswith("/metal-arm64.raw.xz")
    # The factory's own ID of the board's schematic, computed offline.
    assert f"/image/{schematic_id(yaml.safe_load(schematic.inputs['schematic']))}/" in boot["diskImage"]
    assert boot["installer"] == _machine(prod, "pi-1")["machine"]["install"]["image"]
    assert schematic.name == "homelab-rpi4b-8gb"
    nodes = [*prod_nodes(), {"name": "nuc-1", "ip": "192.168.10.21", "role": "worker", "board": "generic-amd64",
                             "arch": "amd64", "installDisk": "/dev/nvme0n1", "zone": "zone-c"}]
    mixed = build("prod", {"homelab:nodes": nodes})
    images = mixed.outputs["bootImages"]
    assert set(images) == {"generic-amd64", "rpi4b-8gb"}
    assert [node["name"] for node in images["generic-amd64"]["nodes"]] == ["nuc-1"]
    assert images["generic-amd64"]["diskImage"].endswith("/metal-amd64.raw.zst")
