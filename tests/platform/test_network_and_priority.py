"""Cilium with the values Talos needs, LAN LoadBalancer IPs, priority tiers, and their install order."""

import pytest

from labctl.synth import SynthResult

RELEASE = "kubernetes:helm.sh/v3:Release"
PRIORITY = "kubernetes:scheduling.k8s.io/v1:PriorityClass"


def _cilium(result: SynthResult) -> dict:
    return result.one(RELEASE, "cilium").inputs


def test_cilium_is_pinned_and_configured_for_talos(prod):
    cilium = _cilium(prod)
    assert cilium["chart"] == "cilium" and cilium["version"].startswith("1.20.")
    assert cilium["repositoryOpts"] == {"repo": "https://helm.cilium.io/"}
    values = cilium["values"]
    assert values["ipam"] == {"mode": "kubernetes"}
    assert values["kubeProxyReplacement"] is True
    assert (values["k8sServiceHost"], values["k8sServicePort"]) == ("localhost", 7445)
    assert values["cgroup"] == {"autoMount": {"enabled": False}, "hostRoot": "/sys/fs/cgroup"}
    assert "SYS_MODULE" not in values["securityContext"]["capabilities"]["ciliumAgent"]
    assert values["bpf"]["hostLegacyRouting"] is True
    assert values["l2announcements"] == {"enabled": True}
    assert values["hubble"]["relay"]["enabled"] and values["hubble"]["ui"]["enabled"]


def test_load_balancer_pool_is_the_configured_lan_range_announced_on_the_lan_link(prod):
    pool = prod.one("kubernetes:cilium.io/v2:CiliumLoadBalancerIPPool", "lan-pool").inputs
    assert pool["spec"]["blocks"] == [{"start": "192.168.10.200", "stop": "192.168.10.239"}]
    policy = prod.one("kubernetes:cilium.io/v2alpha1:CiliumL2AnnouncementPolicy", "lan-l2").inputs
    assert policy["spec"]["loadBalancerIPs"] is True
    assert policy["spec"]["interfaces"] == ["^end0$"]


def test_production_preempts_experiments_and_experiments_preempt_nothing(prod):
    tiers = {r.inputs["metadata"]["name"]: r.inputs for r in prod.by_type(PRIORITY)}
    platform, production, experiment = (tiers[f"homelab-{t}"] for t in ("platform", "production", "experiment"))
    assert platform["value"] > production["value"] > experiment["value"]
    assert production["preemptionPolicy"] == "PreemptLowerPriority"
    assert experiment["preemptionPolicy"] == "Never"
    assert not any(t.get("globalDefault") for t in tiers.values())


def test_everything_on_the_cluster_waits_for_the_cni(prod):
    cilium = prod.one(RELEASE, "cilium")
    platform = prod.one("homelab:platform:Platform", "homelab-platform")
    children = [r for r in prod.registrations if r.parent == platform.urn and r.urn != cilium.urn]
    assert children, "the platform registers objects besides Cilium"
    for child in children:
        assert cilium.urn in child.dependencies, child.name


def test_platform_objects_target_the_infrastructure_cluster(prod):
    provider = prod.one("pulumi:providers:kubernetes", "infrastructure")
    platform = prod.one("homelab:platform:Platform", "homelab-platform")
    custom = [r for r in prod.registrations if r.parent == platform.urn]
    assert custom and all(r.provider.startswith(provider.urn) for r in custom)


@pytest.mark.parametrize("key", ["resources", "operator", "hubble"])
def test_every_cilium_workload_has_requests_and_limits(prod, key):
    values = _cilium(prod)["values"]
    blocks = {"resources": [values["resources"]], "operator": [values["operator"]["resources"]],
              "hubble": [values["hubble"]["relay"]["resources"], values["hubble"]["ui"]["backend"]["resources"],
                         values["hubble"]["ui"]["frontend"]["resources"]]}[key]
    for block in blocks:
        assert set(block["requests"]) == {"cpu", "memory"} and "memory" in block["limits"]
