"""Cilium with the values Talos needs, LAN LoadBalancer IPs, priority tiers, and their install order."""

import pytest

from components import versions
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


def test_vms_reach_service_addresses_because_socket_lb_stays_in_the_host_namespace(prod):
    """A KubeVirt VM's packets leave its launcher pod untranslated by socket load-balancing (Cilium's
    kube-proxy-free guide): without host-namespace-only socket LB no guest reaches a ClusterIP."""
    assert _cilium(prod)["values"]["socketLB"] == {"hostNamespaceOnly": True}


def test_load_balancer_pool_is_the_configured_lan_range_announced_on_the_lan_link(prod):
    pool = prod.one("kubernetes:cilium.io/v2:CiliumLoadBalancerIPPool", "lan-pool").inputs
    # The configured range less production's pinned DNS address (.200), which has a pool of its own.
    assert pool["spec"]["blocks"] == [{"start": "192.168.10.201", "stop": "192.168.10.239"}]
    policy = prod.one("kubernetes:cilium.io/v2alpha1:CiliumL2AnnouncementPolicy", "lan-l2").inputs
    assert policy["spec"]["loadBalancerIPs"] is True
    assert policy["spec"]["interfaces"] == ["^end0$"]


def test_production_preempts_experiments_and_experiments_preempt_nothing(prod):
    tiers = {r.inputs["metadata"]["name"]: r.inputs for r in prod.by_type(PRIORITY)}
    platform, production, experiment = (tiers[f"homelab-{t}"] for t in ("platform", "production", "experiment"))
    assert platform["value"] > production["value"] > experiment["value"]
    assert production["preemptionPolicy"] == "PreemptLowerPriority"
    assert experiment["preemptionPolicy"] == "Never"
    # Pods no chart lets us class are platform; nothing else is anybody's default.
    assert [name for name, tier in tiers.items() if tier.get("globalDefault")] == ["homelab-platform"]


def _pod_classes(result: SynthResult) -> dict[str, str | None]:
    """Every pod-making object the guest clusters bring, with the priority class its pods get."""
    found: dict[str, str | None] = {}
    for r in result.registrations:
        kind, spec = r.type.rsplit(":", 1)[-1], r.inputs.get("spec") or {}
        if kind == "DataVolume":
            found[r.urn] = spec.get("priorityClassName")
        elif kind == "KubevirtMachineTemplate":
            vm = spec["template"]["spec"]["virtualMachineTemplate"]["spec"]
            found[f"{r.urn} VM"] = vm["template"]["spec"].get("priorityClassName")
            for volume in vm["dataVolumeTemplates"]:
                found[f"{r.urn} disk"] = volume["spec"].get("priorityClassName")
        elif kind == "Deployment" and r.inputs["metadata"].get("namespace") in ("production", "experiment-sandbox"):
            found[r.urn] = spec["template"]["spec"].get("priorityClassName")
    return found


@pytest.mark.parametrize(("stack", "tier"), [("prod", "homelab-production"), ("lab", "homelab-experiment")])
def test_every_pod_a_guest_cluster_brings_names_its_class_rather_than_take_the_platform_default(stack, tier,
                                                                                                request):
    classes = _pod_classes(request.getfixturevalue(stack))
    assert len(classes) >= 5, "VMs, boot disks, the image import and the cloud controller"
    assert set(classes.values()) == {tier}


def _depends_on(result: SynthResult, urn: str) -> set[str]:
    """Every resource ``urn`` waits for, directly or through others."""
    by_urn = {r.urn: r for r in result.registrations}
    seen: set[str] = set()
    pending = list(by_urn[urn].dependencies)
    while pending:
        current = pending.pop()
        if current not in seen:
            seen.add(current)
            pending.extend(by_urn[current].dependencies if current in by_urn else ())
    return seen


def test_every_chart_waits_for_the_cni_and_everything_else_transitively(prod):
    cilium = prod.one(RELEASE, "cilium")
    platform = prod.one("homelab:platform:Platform", "homelab-platform")
    children = [r for r in prod.registrations if r.parent == platform.urn and r.urn != cilium.urn]
    assert len(children) > 3
    for child in children:
        if child.type == RELEASE:
            assert cilium.urn in child.dependencies, child.name
        assert cilium.urn in _depends_on(prod, child.urn), child.name


def test_custom_resources_wait_for_the_chart_that_brings_their_crd(prod):
    cert_manager = prod.one(RELEASE, "cert-manager")
    for issuer in prod.by_type("kubernetes:cert-manager.io/v1:ClusterIssuer"):
        assert cert_manager.urn in issuer.dependencies
    cilium = prod.one(RELEASE, "cilium")
    for kind in ("cilium.io/v2:CiliumLoadBalancerIPPool", "cilium.io/v2alpha1:CiliumL2AnnouncementPolicy"):
        for resource in prod.by_type(f"kubernetes:{kind}"):
            assert cilium.urn in resource.dependencies


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


def test_a_stack_can_run_another_chart_version_and_the_guests_cilium_follows_it(build):
    result = build("prod", {"homelab:versions": {"charts": {"cilium": "1.20.2"}}})
    releases = {r.name: r.inputs["version"] for r in result.by_type("kubernetes:helm.sh/v3:Release")}
    assert releases["cilium"] == "1.20.2" and releases["cert-manager"] == versions.CERT_MANAGER
    guest = [r.inputs["spec"] for r in result.registrations if r.type.endswith(":HelmChartProxy")
             and r.inputs["spec"]["chartName"] == "cilium"]
    assert guest and all(spec["version"] == "1.20.2" for spec in guest)


def test_every_platform_release_is_overridable_and_pinned_where_the_charts_are():
    from components.platform.plan import PLATFORM_CHARTS

    assert {release: spec.version for release, spec in PLATFORM_CHARTS.items()} == versions.PLATFORM_CHART_PINS


def test_no_dynamic_request_can_take_the_pinned_dns_address(prod):
    """Cilium LB IPAM gives the first free address to the first Service that asks (the production API server's,
    created before Pi-hole's): the pinned address sits in a pool that selects only production's Pi-hole."""
    from ipaddress import IPv4Address

    from labctl.synth import read_stack_file

    dns = IPv4Address(read_stack_file("prod")["homelab:production"]["dnsAddress"])
    pools = [r.inputs for r in prod.by_type("kubernetes:cilium.io/v2:CiliumLoadBalancerIPPool")]
    (shared,) = [p for p in pools if p["metadata"]["name"] == "lan"]
    (pinned,) = [p for p in pools if p["metadata"]["name"] != "lan"]
    assert all(not IPv4Address(b["start"]) <= dns <= IPv4Address(b["stop"]) for b in shared["spec"]["blocks"])
    assert pinned["spec"]["blocks"] == [{"start": str(dns), "stop": str(dns)}]
    # The labels kubevirt-cloud-controller-manager v0.5.1 puts on the infrastructure Service it makes.
    assert pinned["spec"]["serviceSelector"] == {"matchLabels": {"cluster.x-k8s.io/cluster-name": "production",
                                                                 "cluster.x-k8s.io/tenant-service-namespace": "pihole"}}
    lb = read_stack_file("prod")["homelab:cluster"]["loadBalancerRange"]
    covered = sum(int(IPv4Address(b["stop"])) - int(IPv4Address(b["start"])) + 1 for p in pools
                  for b in p["spec"]["blocks"])
    assert covered == int(IPv4Address(lb["stop"])) - int(IPv4Address(lb["start"])) + 1


NOT_EXPERIMENTS = {"matchExpressions": [{"key": "homelab.dev/cluster-class", "operator": "NotIn",
                                         "values": ["experiment"]}]}


def test_experiments_get_no_shared_address_and_only_their_own_range_when_one_is_set(prod, build):
    from labctl.synth import read_stack_file

    pool = "kubernetes:cilium.io/v2:CiliumLoadBalancerIPPool"
    assert prod.one(pool, "lan-pool").inputs["spec"]["serviceSelector"] == NOT_EXPERIMENTS
    assert not [p for p in prod.by_type(pool) if p.name == "lan-experiments"]
    cluster = {**read_stack_file("prod")["homelab:cluster"],
               "experimentRange": {"start": "192.168.10.230", "stop": "192.168.10.239"}}
    ranged = build("prod", {"homelab:cluster": cluster})
    assert ranged.one(pool, "lan-pool").inputs["spec"]["blocks"] == [
        {"start": "192.168.10.201", "stop": "192.168.10.229"}]
    experiments = ranged.one(pool, "lan-experiments").inputs["spec"]
    assert experiments == {"blocks": [{"start": "192.168.10.230", "stop": "192.168.10.239"}],
                           "serviceSelector": {"matchLabels": {"homelab.dev/cluster-class": "experiment"}}}


def test_every_guests_cloud_controller_labels_its_services_with_the_guests_class(prod, lab):
    import yaml

    def infra_labels(result):
        maps = [r.inputs.get("data") or {} for r in result.by_type("kubernetes:core/v1:ConfigMap")]
        return [yaml.safe_load(data["cloud-config"])["infraLabels"] for data in maps if "cloud-config" in data]

    assert infra_labels(prod) == [{"cluster.x-k8s.io/cluster-name": "production",
                                   "homelab.dev/cluster-class": "production"}]
    assert infra_labels(lab) == [{"cluster.x-k8s.io/cluster-name": "sandbox",
                                  "homelab.dev/cluster-class": "experiment"}]


def test_the_service_address_policy_refuses_external_ips_everywhere_and_foreign_addresses_in_experiments(prod):
    policy = prod.one("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
                      "homelab-service-addresses").inputs["spec"]
    expressions = [v["expression"] for v in policy["validations"]]
    assert expressions[0] == "!has(object.spec.externalIPs) || size(object.spec.externalIPs) == 0"
    # Without experimentRange no address is on the list: an experiment may ask for none.
    assert expressions[1].endswith("object.spec.loadBalancerIP in []")
    binding = prod.one("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
                       "homelab-service-addresses").inputs["spec"]
    assert binding == {"policyName": "homelab-service-addresses", "validationActions": ["Deny"]}


@pytest.mark.parametrize("stack", ["prod", "lab", "experiment"])
def test_every_namespace_the_program_makes_states_its_pod_security_level(stack, request):
    """Restricted unless the namespace's reason is written beside its level (the platform's POD_SECURITY,
    production's GUEST_POD_SECURITY, the guests' namespaces); the upstream tier holds each pod to it."""
    result = request.getfixturevalue(stack)
    levels: dict[str, set[str]] = {}
    for namespace in result.by_type("kubernetes:core/v1:Namespace"):
        labels = namespace.inputs["metadata"]["labels"]
        level = labels.get("pod-security.kubernetes.io/enforce")
        assert level in ("restricted", "baseline", "privileged"), namespace.urn
        assert (labels.get("pod-security.kubernetes.io/warn") == "restricted") is (level != "restricted")
        levels.setdefault(namespace.inputs["metadata"]["name"], set()).add(level)
    # Names shared by the infrastructure cluster and production's guest carry both clusters' levels.
    expected = {"prod": {"argocd": {"restricted"}, "cert-manager": {"restricted"}, "capi-system": {"restricted"},
                         "capk-system": {"restricted"}, "cabpt-system": {"restricted"},
                         "cacppt-system": {"restricted"}, "caaph-system": {"restricted"},
                         "capi-operator-system": {"baseline"}, "storage": {"baseline"},
                         "velero": {"baseline", "privileged"}, "tailscale": {"baseline"}, "juicefs": {"privileged"},
                         "monitoring": {"restricted"}, "otel-agent": {"privileged"},
                         "production": {"baseline"}},
                "lab": {"experiment-sandbox": {"baseline"}, "local-path-storage": {"privileged"}}}
    assert {name: levels.get(name) for name in expected.get(stack, {})} == expected.get(stack, {})
