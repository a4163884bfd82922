"""Bad config fails before anything is registered, with one message that names the key and the fix."""

from typing import Any

import pytest

from components.config import HomelabConfig, Secret, parse_config
from labctl.synth import read_stack_file
from tests.conftest import prod_nodes


def _nodes(**changes: dict[str, Any]) -> list[dict[str, Any]]:
    """The reference inventory with per-index changes, e.g. ``_nodes(**{"1": {"ip": ...}})``."""
    nodes = prod_nodes()
    for index, change in changes.items():
        nodes[int(index)].update(change)
    return nodes


def _cluster(**changes: Any) -> dict[str, Any]:
    cluster = dict(read_stack_file("prod")["homelab:cluster"])
    cluster.update(changes)
    return cluster


def _platform(**changes: Any) -> dict[str, Any]:
    return {**read_stack_file("prod")["homelab:platform"], **changes}


def _offsite(**backup: Any) -> dict[str, Any]:
    cloud = dict(read_stack_file("prod")["homelab:cloud"])
    return {**cloud, "backup": {**cloud["backup"], **backup}}


def _fifth_node(**fields: Any) -> list[dict[str, Any]]:
    node = {"name": "pi-5", "ip": "192.168.10.15", "role": "worker", "board": "rpi4b-8gb", "arch": "arm64",
            "installDisk": "/dev/sda", "zone": "zone-b"}
    node.update(fields)
    return [*prod_nodes(), node]


def _cloud(section: str, **changes: Any) -> dict[str, Any]:
    cloud = dict(read_stack_file("prod")["homelab:cloud"])
    cloud[section] = {**cloud[section], **changes}
    return {"homelab:cloud": cloud}


MALFORMED: list[tuple[str, dict[str, Any], list[str], str]] = [
    # (case, overrides, omitted keys, the key the error must name)
    ("duplicate node name", {"homelab:nodes": _nodes(**{"1": {"name": "pi-1"}})}, [], "homelab:nodes[1].name"),
    ("duplicate node ip", {"homelab:nodes": _nodes(**{"2": {"ip": "192.168.10.11"}})}, [], "homelab:nodes[2].ip"),
    ("even control planes", {"homelab:nodes": _nodes(**{"3": {"role": "controlplane"}})}, [], "homelab:nodes"),
    ("ip outside subnet", {"homelab:nodes": _nodes(**{"3": {"ip": "10.0.0.4"}})}, [], "homelab:nodes[3].ip"),
    ("node on the vip", {"homelab:nodes": _nodes(**{"3": {"ip": "192.168.10.10"}})}, [], "homelab:nodes[3].ip"),
    ("node in lb range", {"homelab:nodes": _nodes(**{"3": {"ip": "192.168.10.201"}})}, [], "homelab:nodes[3].ip"),
    ("unknown board", {"homelab:nodes": _nodes(**{"0": {"board": "rpi3b"}})}, [], "homelab:nodes[0].board"),
    ("arch not the board's", {"homelab:nodes": _nodes(**{"0": {"arch": "amd64"}})}, [], "homelab:nodes[0].arch"),
    ("board needs newer talos", {"homelab:nodes": _fifth_node(board="rpi5-8gb"),
                                 "homelab:versions": {"talos": "v1.12.2"}}, [], "homelab:nodes[4].board"),
    ("bad node name", {"homelab:nodes": _nodes(**{"0": {"name": "Pi_1"}})}, [], "homelab:nodes[0].name"),
    ("bad install disk", {"homelab:nodes": _nodes(**{"0": {"installDisk": "sda"}})}, [],
     "homelab:nodes[0].installDisk"),
    ("unknown node key", {"homelab:nodes": _nodes(**{"0": {"ipAddress": "1.2.3.4"}})}, [],
     "homelab:nodes[0].ipAddress"),
    ("unknown top-level key", {"homelab:node": []}, [], "homelab:node"),
    ("vip outside subnet", {"homelab:cluster": _cluster(vip="10.1.1.1")}, [], "homelab:cluster.vip"),
    ("lb range reversed", {"homelab:cluster": _cluster(loadBalancerRange={"start": "192.168.10.239",
                                                                          "stop": "192.168.10.200"})},
     [], "homelab:cluster.loadBalancerRange"),
    ("unknown chart override", {"homelab:versions": {"charts": {"cillium": "1.20.2"}}}, [],
     "homelab:versions.charts.cillium"),
    ("inexact chart override", {"homelab:versions": {"charts": {"cilium": "1.20"}}}, [],
     "homelab:versions.charts.cilium"),
    ("malformed talos version", {"homelab:versions": {"talos": "1.12"}}, [], "homelab:versions.talos"),
    ("unsupported talos minor", {"homelab:versions": {"talos": "v1.13.9"}}, [], "homelab:versions.talos"),
    ("kubernetes too new for talos", {"homelab:versions": {"kubernetes": "v1.36.3"}}, [],
     "homelab:versions.kubernetes"),
    ("node on the network address", {"homelab:nodes": _nodes(**{"0": {"ip": "192.168.10.0"}})}, [],
     "homelab:nodes[0].ip"),
    ("node on the broadcast address", {"homelab:nodes": _nodes(**{"0": {"ip": "192.168.10.255"}})}, [],
     "homelab:nodes[0].ip"),
    ("cron minute 99", {"homelab:platform": _platform(backups={"schedule": "99 3 * * *"})}, [],
     "homelab:platform.backups.schedule"),
    ("cron with six fields", {"homelab:platform": _platform(backups={"schedule": "0 0 3 * * *"})}, [],
     "homelab:platform.backups.schedule"),
    ("retention of 10^20 days", {"homelab:cloud": _offsite(noncurrentVersionDays=10**20)}, [],
     "homelab:cloud.backup.noncurrentVersionDays"),
    ("memory limit below request",
     {"homelab:platform": _platform(objectStore={"memory": "1Gi", "memoryLimit": "512Mi"})}, [],
     "homelab:platform.objectStore"),
    ("zero cpu", {"homelab:platform": _platform(objectStore={"cpu": "0"})}, [], "homelab:platform.objectStore.cpu"),
    ("servers: true", {"homelab:platform": _platform(objectStore={"servers": True})}, [],
     "homelab:platform.objectStore.servers"),
    ("kubernetes past cluster api", {"homelab:versions": {"kubernetes": "v1.35.8"}}, [],
     "homelab:versions.kubernetes"),
    ("bad memory quantity", {"homelab:cluster": _cluster(reserved={"system": {"cpu": "250m", "memory": "lots"}})},
     [], "homelab:cluster.reserved.system.memory"),
    ("missing required secret", {}, ["homelab:storageRootPassword"], "homelab:storageRootPassword"),
    ("missing grafana secret", {}, ["homelab:grafanaAdminPassword"], "homelab:grafanaAdminPassword"),
    ("missing repository password", {}, ["homelab:backupRepositoryPassword"], "homelab:backupRepositoryPassword"),
    ("secret in plain text", {"homelab:storageRootPassword": "correct-horse"}, [], "homelab:storageRootPassword"),
    ("unknown role", {"homelab:role": "production"}, [], "homelab:role"),
    ("prod with lab role", {"homelab:role": "lab"}, [], "homelab:role"),
    ("missing cluster", {}, ["homelab:cluster"], "homelab:cluster"),
    ("missing platform settings", {}, ["homelab:platform"], "homelab:platform"),
    ("missing cloud settings", {}, ["homelab:cloud"], "homelab:cloud"),
    ("production without its tailnet client", _cloud("tailnet", operatorClusters=["infrastructure"]), [],
     "homelab:cloud.tailnet.operatorClusters"),
    ("record on an unpinned pool address", _cloud("dns", records=[{"name": "grafana", "type": "A",
                                                                   "target": "192.168.10.201"}]), [],
     "homelab:cloud.dns.records[0].target"),
    ("invalid bucket name", _cloud("backup", veleroBucket="Homelab_Velero"), [], "homelab:cloud.backup.veleroBucket"),
    ("one bucket for both", _cloud("backup", storageBucket="example-homelab-velero"), [],
     "homelab:cloud.backup.storageBucket"),
    ("lifecycle days below one", _cloud("backup", noncurrentVersionDays=0), [],
     "homelab:cloud.backup.noncurrentVersionDays"),
    ("bad region", _cloud("backup", region="europe"), [], "homelab:cloud.backup.region"),
    ("unknown record type", _cloud("dns", records=[{"name": "x", "type": "MX", "target": "mail"}]), [],
     "homelab:cloud.dns.records[0].type"),
    ("proxied private address", _cloud("dns", records=[{"name": "x", "type": "A", "target": "192.168.10.5",
                                                        "proxied": True}]), [], "homelab:cloud.dns.records[0]"),
    ("a record without an address", _cloud("dns", records=[{"name": "x", "type": "A", "target": "pi-1"}]), [],
     "homelab:cloud.dns.records[0]"),
    ("dns01 without contact", _cloud("dns", acmeEmail=None), [], "homelab:cloud.dns.acmeEmail"),
    ("missing tailnet policy file", _cloud("tailnet", aclFile="tailnet/nope.json"), [],
     "homelab:cloud.tailnet.aclFile"),
    ("unknown cloud key", _cloud("dns", zones=["example.net"]), [], "homelab:cloud.dns.zones"),
    ("no operator client for infrastructure", _cloud("tailnet", operatorClusters=["production"]), [],
     "homelab:cloud.tailnet.operatorClusters"),
    ("object store servers exceed nodes", {"homelab:platform": {"gitops": {"repoUrl": "https://x.example/r.git"},
                                                                "objectStore": {"servers": 6}}}, [],
     "homelab:platform.objectStore.servers"),
    ("object store image unpinned", {"homelab:platform": {"gitops": {"repoUrl": "https://x.example/r.git"},
                                                          "objectStore": {"image": "quay.io/minio/minio:latest"}}},
     [], "homelab:platform.objectStore.image"),
    ("backup retention zero", {"homelab:platform": {"gitops": {"repoUrl": "https://x.example/r.git"},
                                                    "backups": {"retentionDays": 0}}}, [],
     "homelab:platform.backups.retentionDays"),
    ("gitops repo not a url", {"homelab:platform": {"gitops": {"repoUrl": "homelab-gitops"}}}, [],
     "homelab:platform.gitops.repoUrl"),
    ("ntfy contact point without its topic", {"homelab:platform": _platform(
        alerting={"contactPoint": {"kind": "ntfy"}})}, [], "homelab:platform.alerting.contactPoint"),
    ("webhook over plain http", {"homelab:platform": _platform(
        alerting={"contactPoint": {"kind": "webhook", "url": "http://hooks.example.com/x"}})}, [],
     "homelab:platform.alerting.contactPoint.url"),
    ("email contact point without a relay", {"homelab:platform": _platform(
        alerting={"contactPoint": {"kind": "email", "to": "me@example.com", "sender": "lab@example.com"}})}, [],
     "homelab:platform.alerting.contactPoint"),
    ("unknown contact point kind", {"homelab:platform": _platform(
        alerting={"contactPoint": {"kind": "pager", "url": "https://x.example"}})}, [],
     "homelab:platform.alerting.contactPoint.kind"),
    ("etcd snapshots to an SSH key", {"homelab:platform": _platform(
        backups={"etcd": {"ageRecipient": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA"}})}, [],
     "homelab:platform.backups.etcd.ageRecipient"),
]


@pytest.mark.parametrize(("overrides", "omit", "key"), [case[1:] for case in MALFORMED],
                         ids=[case[0] for case in MALFORMED])
def test_malformed_config_names_its_key(refuse, overrides, omit, key):
    error = refuse("prod", overrides, omit)
    assert error.keys == [key], str(error)
    assert error.issues[0].fix, "every error says how to fix it"


# One refusal of each stage (the model, a cross-field check, the secrets, the lab's rules), run as the program.
STAGES = ["unknown board", "node in lb range", "missing required secret", "secret in plain text"]


@pytest.mark.parametrize("case", STAGES)
def test_bad_config_registers_nothing(reject, case):
    _, overrides, omit, key = next(entry for entry in MALFORMED if entry[0] == case)
    rejected = reject("prod", overrides, omit)
    assert rejected.error.keys == [key] and rejected.registered == []


def test_bad_lab_config_registers_nothing(reject):
    rejected = reject("lab", {"homelab:experiments": [_experiment(name="exp-demo")]})
    assert rejected.error.keys == ["homelab:experiments[0].name"] and rejected.registered == []


def test_a_lan_inside_a_clusters_address_ranges_is_refused(refuse):
    """A LAN of 10.100.0.0/16 sits inside the infrastructure cluster's Service range (10.96.0.0/12)."""
    moved = {"subnet": "10.100.0.0/16", "vip": "10.100.10.10",
             "loadBalancerRange": {"start": "10.100.10.200", "stop": "10.100.10.239"}}
    nodes = [{**node, "ip": str(node["ip"]).replace("192.168.", "10.100.")} for node in prod_nodes()]
    production = {**read_stack_file("prod")["homelab:production"], "dnsAddress": "10.100.10.200"}
    records = [{"name": "pihole", "type": "A", "target": "10.100.10.200"}]
    error = refuse("prod", {"homelab:cluster": _cluster(**moved), "homelab:nodes": nodes,
                            "homelab:production": production, **_cloud("dns", records=records)})
    assert error.keys == ["homelab:cluster.subnet"], str(error)
    assert "10.96.0.0/12" in str(error) and "Services" in str(error)


def test_lab_stack_rejects_bare_metal(refuse):
    assert refuse("lab", {"homelab:nodes": prod_nodes()}).keys == ["homelab:nodes"]


def test_unknown_key_lists_the_allowed_ones(refuse):
    error = refuse("prod", {"homelab:nodes": _nodes(**{"0": {"ipAddress": "1.2.3.4"}})})
    assert "installDisk" in error.issues[0].fix


def test_missing_secret_says_how_to_set_it(refuse):
    error = refuse("prod", {}, ["homelab:storageRootPassword"])
    assert error.issues[0].fix == "pulumi config set --secret homelab:storageRootPassword <value> --stack prod"


def _valid_raw() -> dict[str, Any]:
    raw = {key.split(":", 1)[1]: value for key, value in read_stack_file("prod").items()}
    return {**raw, "storageRootPassword": "s3cret-value", "grafanaAdminPassword": "gr4fana-value",
            "backupRepositoryPassword": "k0pia-value"}


SECRET_KEYS = ["homelab:storageRootPassword", "homelab:grafanaAdminPassword", "homelab:backupRepositoryPassword"]


def test_reference_inventory_parses_to_the_expected_shape():
    config = parse_config(_valid_raw(), "prod", SECRET_KEYS)
    assert isinstance(config, HomelabConfig)
    assert [node.name for node in config.nodes] == ["pi-1", "pi-2", "pi-3", "pi-4"]
    assert len(config.control_planes) == 3
    assert config.cluster is not None and config.cluster.endpoint == "https://192.168.10.10:6443"


def test_secrets_never_print_and_only_leave_as_secret_outputs():
    config = parse_config(_valid_raw(), "prod", SECRET_KEYS)
    secret = config.secrets.storage_root_password
    assert isinstance(secret, Secret)
    assert "s3cret-value" not in repr(config) and "s3cret-value" not in str(secret)
    assert "s3cret-value" not in config.model_dump_json()
    assert repr(secret) == str(secret) == "Secret('[secret]')"
    assert config.model_dump()["secrets"]["storage_root_password"] == "Secret('[secret]')"


def _experiment(**fields: Any) -> dict[str, Any]:
    return {"name": "try-it", **fields}


LAB_MALFORMED: list[tuple[str, dict[str, Any], str]] = [
    ("duplicate experiment", {"homelab:experiments": [_experiment(), _experiment()]}, "homelab:experiments[1].name"),
    ("reserved experiment name", {"homelab:experiments": [_experiment(name="production")]},
     "homelab:experiments[0].name"),
    ("experiment name not DNS", {"homelab:experiments": [_experiment(name="Try_It")]}, "homelab:experiments[0].name"),
    ("even guest control planes", {"homelab:experiments": [_experiment(controlPlanes=2)]},
     "homelab:experiments[0].controlPlanes"),
    ("more zones than workers", {"homelab:experiments": [_experiment(workers=1, zones=["a", "b"])]},
     "homelab:experiments[0].zones"),
    ("malformed ttl", {"homelab:experiments": [_experiment(ttl="soon")]}, "homelab:experiments[0].ttl"),
    ("production in lab", {"homelab:production": {"workers": 1}}, "homelab:production"),
    ("workers: true", {"homelab:experiments": [_experiment(workers=True)]}, "homelab:experiments[0].workers"),
    ("name past the namespace", {"homelab:experiments": [_experiment(name="a" * 43)]}, "homelab:experiments[0].name"),
    ("labctl's prefix", {"homelab:experiments": [_experiment(name="exp-demo")]}, "homelab:experiments[0].name"),
    ("ttl overflowing expiry", {"homelab:experiments": [_experiment(ttl="99999999999d")]},
     "homelab:experiments[0].ttl"),
    ("ttl past the limit", {"homelab:experiments": [_experiment(ttl="91d")]}, "homelab:experiments[0].ttl"),
    ("zones as a scalar", {"homelab:experiments": [_experiment(zones="zone-a")]}, "homelab:experiments[0].zones"),
    ("zero memory", {"homelab:experiments": [_experiment(size={"cpu": 1, "memory": "0Gi"})]},
     "homelab:experiments[0].size.memory"),
    ("prodStack is the lab", {"homelab:prodStack": "organization/homelab/lab"}, "homelab:prodStack"),
]


@pytest.mark.parametrize(("overrides", "key"), [case[1:] for case in LAB_MALFORMED],
                         ids=[case[0] for case in LAB_MALFORMED])
def test_malformed_lab_config_names_its_key(refuse, overrides, key):
    error = refuse("lab", overrides)
    assert error.keys == [key], str(error)
    assert error.issues[0].fix


def test_experiments_in_prod_are_refused(refuse):
    assert refuse("prod", {"homelab:experiments": [_experiment()]}).keys == ["homelab:experiments"]


def test_a_kubernetes_pin_names_every_layer_that_does_not_support_it(refuse):
    message = str(refuse("prod", {"homelab:versions": {"kubernetes": "v1.35.8"}}))
    assert "Cluster API 1.10 (1.29-1.33)" in message and "KubeVirt 1.6 (1.31-1.33)" in message
    assert "Talos" not in message.split("fix")[0] and "pin Kubernetes 1.33.x" in message


def test_a_pi_5_joins_on_talos_1_12_for_platform_pods_but_never_for_vms(build):
    from labctl.synth import read_stack_file

    nodes = read_stack_file("prod")["homelab:nodes"]
    five = [{**nodes[0], "name": "pi-5", "ip": "192.168.10.15", "board": "rpi5-8gb", "role": "worker"}]
    result = build("prod", {"homelab:nodes": [*nodes, *five]})
    capacity = result.outputs["capacity"]
    pi5 = next(n for n in capacity["nodes"] if n["name"] == "pi-5")
    # Its memory counts in the total, not in the room VMs have.
    agents_on_kvm_nodes = sum(n["perNodeRequests"]["memory_mib"] for n in capacity["nodes"] if n["name"] != "pi-5")
    assert capacity["total"]["allocatable"]["memory_mib"] - capacity["total"]["vmRoom"]["memory_mib"] == \
        pi5["allocatable"]["memory_mib"] + agents_on_kvm_nodes
    patches = [p for p in result.one("talos:machine/configurationApply:ConfigurationApply",
                                     "homelab-pi-5").inputs["configPatches"]]
    assert "homelab.dev/kvm: 'false'" in patches[0]


def test_vms_that_only_fit_on_boards_without_kvm_are_refused(reject_capacity):
    from labctl.synth import read_stack_file

    nodes = read_stack_file("prod")["homelab:nodes"]
    # Three of the four Pis are Pi 5s: production's three VMs no longer fit on the one that runs KVM, though
    # the total (with 16 GB boards) would hold them.
    mixed = [{**node, "board": "rpi5-16gb"} if node["name"] != "pi-1" else node for node in nodes]
    production = {**read_stack_file("prod")["homelab:production"], "zones": ["zone-a"]}
    rejected = reject_capacity({"homelab:nodes": mixed, "homelab:production": production})
    assert "the nodes that can run VMs offer only" in rejected.message
    assert rejected.registered == []


def test_every_problem_of_the_cluster_block_is_reported_together(refuse):
    # The range is outside the subnet and holds the VIP: two problems, both named.
    cluster = _cluster(vip="10.9.0.5", loadBalancerRange={"start": "10.9.0.1", "stop": "10.9.0.9"})
    error = refuse("prod", {"homelab:cluster": cluster})
    assert {"homelab:cluster.vip", "homelab:cluster.loadBalancerRange"} <= set(error.keys)
    assert any("inside the LoadBalancer range" in issue.problem for issue in error.issues)


def test_a_vip_inside_the_load_balancer_range_is_refused(refuse):
    cluster = _cluster(vip="192.168.10.205")
    (issue,) = refuse("prod", {"homelab:cluster": cluster}).issues
    assert issue.key == "homelab:cluster.vip" and "inside the LoadBalancer range" in issue.problem


@pytest.mark.parametrize(("zones", "says"), [(["zone-a", "zone-a"], "more than once"),
                                             (["control-plane"], "control plane's own machine template")])
def test_zones_that_would_collide_with_each_other_or_the_control_plane_are_refused(refuse, zones, says):
    production = {**read_stack_file("prod")["homelab:production"], "zones": zones}
    error = refuse("prod", {"homelab:production": production})
    assert error.issues[0].key == "homelab:production.zones" and says in str(error)


def test_every_refusal_of_the_corpus_names_a_concrete_fix(refuse):
    for name, overrides, omit, _ in MALFORMED:
        for issue in refuse("prod", overrides, omit).issues:
            assert "see the config" not in issue.fix, f"{name}: {issue.key} has no concrete fix"
    for name, overrides, _ in LAB_MALFORMED:
        for issue in refuse("lab", overrides).issues:
            assert "see the config" not in issue.fix, f"{name}: {issue.key} has no concrete fix"
