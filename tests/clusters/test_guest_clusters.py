"""Guest clusters: every Cluster API reference resolves, classes decide QoS and priority, experiments are fenced."""

import json

import pytest
import yaml
from pulumi.runtime.rpc import UNKNOWN

from components import stacks
from components.clusters.fences import experiment_egress
from components.quantities import cpu_millicores, memory_mib
from components.versions import TALOS
from labctl import engine
from labctl.engine import ProgramError
from labctl.mocks import HomelabMocks
from labctl.synth import PROJECT_DIR, read_stack_file, runtime_config, stack_reference_outputs
from tests.conftest import redacted

CR = "kubernetes:"
NAMESPACE = "kubernetes:core/v1:Namespace"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
PRIORITY = "kubernetes:scheduling.k8s.io/v1:PriorityClass"


def _objects(result, namespace):
    """(apiVersion, kind, namespace, name) → body of every object the stack declares in ``namespace``."""
    found = {}
    for r in result.registrations:
        meta = r.inputs.get("metadata") or {}
        if r.type.startswith(CR) and "kind" in r.inputs and meta.get("namespace") == namespace:
            found[(r.inputs["apiVersion"], r.inputs["kind"], namespace, meta["name"])] = r.inputs
    return found


def _refs(value):
    """Every ``{apiVersion, kind, name}`` reference inside a spec."""
    if isinstance(value, dict):
        if {"apiVersion", "kind", "name"} <= set(value):
            yield value
        for item in value.values():
            yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def _of_kind(objects, kind):
    return {key[3]: body for key, body in objects.items() if key[1] == kind}


@pytest.mark.parametrize(("stack", "namespace"), [("prod", "production"), ("lab", "experiment-sandbox")])
def test_every_reference_between_cluster_api_objects_resolves(stack, namespace, request):
    result = request.getfixturevalue(stack)
    objects = _objects(result, namespace)
    refs = [ref for body in objects.values() for ref in _refs(body.get("spec", {}))]
    assert len(refs) >= 5
    for ref in refs:
        key = (ref["apiVersion"], ref["kind"], ref.get("namespace", namespace), ref["name"])
        assert key in objects, f"dangling reference {key}"
    (cluster_name,) = _of_kind(objects, "Cluster")
    deployments = _of_kind(objects, "MachineDeployment")
    for deployment in deployments.values():
        spec = deployment["spec"]
        assert spec["clusterName"] == spec["template"]["spec"]["clusterName"] == cluster_name
        assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
    (check,) = _of_kind(objects, "MachineHealthCheck").values()
    selected = check["spec"]["selector"]["matchLabels"].items()
    assert all(selected <= d["spec"]["template"]["metadata"]["labels"].items() for d in deployments.values())
    images = _of_kind(objects, "DataVolume")
    for template in _of_kind(objects, "KubevirtMachineTemplate").values():
        vm = template["spec"]["template"]["spec"]["virtualMachineTemplate"]["spec"]
        (disk,) = vm["dataVolumeTemplates"]
        assert disk["spec"]["source"]["pvc"]["name"] in images
        assert {v["dataVolume"]["name"] for v in vm["template"]["spec"]["volumes"]} == {disk["metadata"]["name"]}


def _templates(result, namespace):
    """The cluster's machine templates by pool, their Talos version's suffix taken off."""
    version = "-" + TALOS.lstrip("v").replace(".", "-") + "-"
    templates = _of_kind(_objects(result, namespace), "KubevirtMachineTemplate")
    assert all(version in name for name in templates)
    return {name.rsplit(version, 1)[0]: body for name, body in templates.items()}


def _vm_specs(result, namespace):
    templates = _templates(result, namespace)
    return {name: t["spec"]["template"]["spec"]["virtualMachineTemplate"]["spec"]["template"]["spec"]
            for name, t in templates.items()}


def test_production_vms_are_guaranteed_high_priority_and_never_live_migrate(prod):
    vms = _vm_specs(prod, "production")
    assert set(vms) == {"production-control-plane", "production-zone-a", "production-zone-b"}
    for vm in vms.values():
        resources = vm["domain"]["resources"]
        assert resources["requests"] == resources["limits"]
        assert vm["priorityClassName"] == "homelab-production"
        # Pod-network VMs cannot live-migrate; LiveMigrate would block the drain (see classes.py).
        assert vm["evictionStrategy"] in ("External", "None")
        assert "interfaces" not in vm["domain"]["devices"], "the pod network's default (bridge) binding"
    classes = {r.inputs["metadata"]["name"]: r.inputs for r in prod.by_type(PRIORITY)}
    assert classes["homelab-production"]["value"] > classes["homelab-experiment"]["value"]


def test_experiment_vms_are_burstable_low_priority_and_never_preempt(lab, prod):
    for vm in _vm_specs(lab, "experiment-sandbox").values():
        requests, limits = vm["domain"]["resources"]["requests"], vm["domain"]["resources"]["limits"]
        assert cpu_millicores(requests["cpu"]) < cpu_millicores(limits["cpu"])
        assert memory_mib(requests["memory"]) == memory_mib(limits["memory"]), "guest memory is never overcommitted"
        assert vm["priorityClassName"] == "homelab-experiment"
    experiment = next(r for r in prod.by_type(PRIORITY)
                      if r.inputs["metadata"]["name"] == "homelab-experiment")
    assert experiment.inputs["preemptionPolicy"] == "Never"


def test_every_experiment_namespace_has_quota_limits_isolation_and_a_ttl(lab):
    (namespace,) = [r for r in lab.by_type(NAMESPACE) if r.inputs["metadata"]["name"] == "experiment-sandbox"]
    assert namespace.inputs["metadata"]["labels"]["homelab.dev/ttl"] == "7d"
    objects = {(r.type.rsplit(":", 1)[1], r.inputs["metadata"].get("namespace")) for r in lab.registrations
               if r.type.startswith(CR) and "metadata" in r.inputs}
    for kind in ("ResourceQuota", "LimitRange", "NetworkPolicy"):
        assert (kind, "experiment-sandbox") in objects
    (policy,) = lab.by_type(POLICY)
    assert policy.inputs["metadata"]["namespace"] == "experiment-sandbox"
    assert policy.inputs["spec"]["policyTypes"] == ["Egress"] and policy.inputs["spec"]["podSelector"] == {}
    assert policy.inputs["spec"]["egress"] == experiment_egress("192.168.10.0/24")


def test_experiments_reach_the_lan_only_for_the_kubernetes_api(lab):
    """Cilium's CIDR rules select the nodes too: the world rule leaves the LAN out, and of the LAN only the
    API server port is open (the experiment's cloud controller needs it; Talos and the kubelet stay shut)."""
    (policy,) = lab.by_type(POLICY)
    blocks = [(peer["ipBlock"], rule.get("ports")) for rule in policy.inputs["spec"]["egress"] for peer in rule["to"]
              if "ipBlock" in peer]
    assert blocks == [({"cidr": "0.0.0.0/0", "except": ["192.168.10.0/24", "10.244.0.0/16"]}, None),
                      ({"cidr": "192.168.10.0/24"}, [{"protocol": "TCP", "port": 6443}])]


def test_experiments_reach_no_namespace_but_their_own_and_the_cluster_dns(lab):
    """MinIO and JuiceFS' metadata etcd (storage), Loki, Mimir and Tempo (monitoring) and Argo CD have no
    peer in the fence: the only pod peers are the experiment's own namespace and kube-system's CoreDNS."""
    (policy,) = lab.by_type(POLICY)
    pods = [peer for rule in policy.inputs["spec"]["egress"] for peer in rule["to"] if "ipBlock" not in peer]
    assert pods == [{"podSelector": {}}, {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}]


def test_the_production_namespace_refuses_traffic_from_experiments(prod):
    (policy,) = [p for p in prod.by_type(POLICY) if p.inputs["metadata"]["namespace"] == "production"]
    sources = [peer for rule in policy.inputs["spec"]["ingress"] for peer in rule["from"]]
    assert {"namespaceSelector": {"matchExpressions": [
        {"key": "homelab.dev/cluster-class", "operator": "NotIn", "values": ["experiment"]}]}} in sources
    # LAN clients of Pi-hole reach it through whichever node announces its address: Cilium lets the node match
    # the world rule only in CIDR match mode "nodes".
    assert {"ipBlock": {"cidr": "0.0.0.0/0"}} in sources
    (cilium,) = [r for r in prod.by_type("kubernetes:helm.sh/v3:Release") if r.name == "cilium"]
    assert cilium.inputs["values"]["policyCIDRMatchMode"] == ["nodes"]


def test_quota_covers_the_vms_requests_and_the_import_pods(lab):
    quota = lab.by_type("kubernetes:core/v1:ResourceQuota")[0].inputs["spec"]["hard"]
    # sandbox: 2 VMs of 1 vCPU / 2Gi, a quarter of a core each, KubeVirt's 368Mi launcher overhead (no graphics,
    # no console log), its cloud controller (20m, 64Mi), 500m + 512Mi for CDI's import pods.
    cpu, memory = 2 * 250 + 20 + 500, 2 * (2048 + 368) + 64 + 512
    assert quota == {"requests.cpu": f"{cpu}m", "requests.memory": f"{memory}Mi"}
    # What it asks of prod's free capacity adds the JuiceFS mount pod of each VM's disk (outside its namespace).
    assert lab.outputs["experimentQuotas"]["sandbox"] == {"cpu_m": cpu + 2 * 50, "memory_mib": memory + 2 * 256}


def _vm_affinity(result, namespace):
    templates = _templates(result, namespace)
    return {name: body["spec"]["template"]["spec"]["virtualMachineTemplate"]["spec"]["template"]["spec"]["affinity"]
            for name, body in templates.items()}


def test_every_vm_of_a_cluster_keeps_away_from_the_others_and_production_workers_stay_in_their_zone(prod, lab):
    production = _vm_affinity(prod, "production")
    assert set(production) == {"production-control-plane", "production-zone-a", "production-zone-b"}
    for affinity in production.values():
        (term,) = affinity["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
        # The whole cluster, not one pool: each pool holds one VM, so a pool selector spread nothing.
        assert term["podAffinityTerm"]["labelSelector"] == {"matchLabels": {"cluster.x-k8s.io/cluster-name":
                                                                            "production"}}
        assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    assert "nodeAffinity" not in production["production-control-plane"]
    for zone in ("zone-a", "zone-b"):
        required = production[f"production-{zone}"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert required == {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "topology.kubernetes.io/zone", "operator": "In", "values": [zone]}]}]}
    (experiment,) = [a for name, a in _vm_affinity(lab, "experiment-sandbox").items() if "zone" in name]
    assert "preferredDuringSchedulingIgnoredDuringExecution" in experiment["nodeAffinity"]


def test_a_drain_restarts_a_control_plane_on_its_disk_and_hands_workers_to_cluster_api(prod, lab):
    for result, namespace in ((prod, "production"), (lab, "experiment-sandbox")):
        templates = _templates(result, namespace)
        strategies = {name.split("-", 1)[1]: body["spec"]["template"]["spec"]["virtualMachineTemplate"]["spec"][
            "template"]["spec"]["evictionStrategy"] for name, body in templates.items()}
        # External would have CAPK fail the machine for replacement: a fresh disk, so an empty etcd.
        assert strategies.pop("control-plane") == "None"
        assert set(strategies.values()) == {"External"}


def test_a_production_zone_without_a_vm_capable_pi_is_refused(reject):
    from labctl.synth import read_stack_file

    production = {**read_stack_file("prod")["homelab:production"], "zones": ["zone-a", "zone-x"]}
    rejected = reject("prod", {"homelab:production": production})
    assert rejected.error.issues[0].key == "homelab:production.zones"
    assert "zone-a, zone-b, zone-c" in str(rejected.error)


def test_workers_spread_over_simulated_zones_with_their_labels(prod):
    objects = _objects(prod, "production")
    deployments = _of_kind(objects, "MachineDeployment")
    assert {name: d["spec"]["replicas"] for name, d in deployments.items()} == {
        "production-zone-a": 1, "production-zone-b": 1}
    configs = _of_kind(objects, "TalosConfigTemplate")
    patches = [yaml.safe_load(p) for p in configs["production-zone-b"]["spec"]["template"]["spec"]["strategicPatches"]]
    assert {"machine": {"nodeLabels": {"topology.kubernetes.io/zone": "zone-b"}}} in patches


def test_production_is_reserved_in_prods_budget(prod):
    workloads = [w for w in prod.outputs["capacity"]["workloads"] if w["layer"] == "production"]
    assert sum(w["pods"] for w in workloads) == 3 + 1 + 3
    # 3 VMs of 2 vCPU / 2Gi, Guaranteed, plus KubeVirt's 476Mi launcher overhead each (100 of it for
    # Guaranteed QoS), the cloud controller, and the JuiceFS mount pod each VM's disk runs on its node (50m, 256Mi).
    assert prod.outputs["capacity"]["total"]["production"] == {"cpu_m": 3 * 2000 + 20 + 3 * 50,
                                                               "memory_mib": 3 * (2048 + 476) + 64 + 3 * 256}


def _experiments(*names, workers=1, memory="1Gi"):
    return {"homelab:experiments": [{"name": name, "workers": workers, "size": {"cpu": 1, "memory": memory}}
                                    for name in names]}


def test_adding_an_experiment_adds_exactly_one_guest_cluster(build, prod):
    outputs = stack_reference_outputs(prod)
    one = build("lab", _experiments("a"), prod_outputs=outputs)
    two = build("lab", _experiments("a", "b"), prod_outputs=outputs)
    clusters = [len(r.by_type("homelab:clusters:GuestCluster")) for r in (one, two)]
    assert clusters == [1, 2]
    old = {r.urn for r in one.registrations}
    assert old <= {r.urn for r in two.registrations}
    assert not [r for r in two.registrations if r.urn not in old and "::b" not in r.urn and "-b" not in r.urn]


def test_experiments_with_every_option_each_get_their_own_resources(crowded_lab):
    """Resources made once per guest cluster must not share a name: the engine refuses a duplicate URN."""
    assert len(crowded_lab.by_type("homelab:apps:RestoreDrill")) == 2
    assert len({r.urn for r in crowded_lab.registrations}) == len(crowded_lab.registrations)


def test_experiments_that_do_not_fit_in_what_prod_leaves_free_are_refused_with_numbers(build, prod):
    with pytest.raises(ProgramError) as caught:
        build("lab", _experiments("big", workers=8, memory="4Gi"), prod_outputs=stack_reference_outputs(prod))
    message = str(caught.value.__cause__ or caught.value)
    assert "do not fit" in message and "big:" in message and "free:" in message
    registered = caught.value.monitor.registrations
    assert not [r for r in registered if r.type.startswith(CR) and r.inputs.get("metadata", {}).get("name") ==
                "experiment-big"], "the experiment's namespace, and so everything in it, waits for the check"
    assert not [r for r in registered if r.type.startswith("kubernetes:cluster.x-k8s.io")]


def test_cilium_goes_into_each_guest_through_the_helm_addon_provider_with_valid_values(prod, lab):
    from components import versions
    from tests import schema_validation as schemas

    for result, namespace in ((prod, "production"), (lab, "experiment-sandbox")):
        objects = _objects(result, namespace)
        (proxy,) = [p for p in _of_kind(objects, "HelmChartProxy").values() if p["spec"]["chartName"] == "cilium"]
        (cluster,) = _of_kind(objects, "Cluster").values()
        selector = proxy["spec"]["clusterSelector"]["matchLabels"]
        assert selector.items() <= cluster["metadata"]["labels"].items()
        assert proxy["spec"]["version"] == versions.CILIUM
        values = yaml.safe_load(proxy["spec"]["valuesTemplate"])
        assert values["kubeProxyReplacement"] is True and "l2announcements" not in values
        if schemas.SCHEMAS.is_dir():
            assert schemas.validate_helm_values("cilium", versions.CILIUM, values) == []


@pytest.mark.parametrize("stack", ["prod", "lab"])
def test_a_first_preview_skips_the_kubeconfig_read_of_a_cluster_not_yet_made(stack, prod):
    """The Secret cannot exist before its Cluster: its id must be unknown until the Cluster's is, or the
    preview of a new guest cluster (a PR, `labctl experiment create --preview`) fails on the read."""
    config, secret_keys = runtime_config(read_stack_file(stack))
    references = {"organization/homelab/prod": stack_reference_outputs(prod)} if stack == "lab" else {}
    monitor = engine.run_program(stacks.main, mocks=HomelabMocks(references, first_preview=True), stack=stack,
                                 config=config, secret_keys=secret_keys, project_dir=PROJECT_DIR, preview=True)
    reads = [r for r in monitor.registrations if r.read and r.type == "kubernetes:core/v1:Secret"]
    assert reads and all(r.name.endswith("-kubeconfig") and r.id == UNKNOWN for r in reads)


def test_the_kubeconfig_is_read_back_after_the_control_plane_and_registered_in_argocd(prod):
    (read,) = [r for r in prod.registrations if r.read and r.name == "production-kubeconfig"]
    cluster = next(r for r in prod.by_type("kubernetes:cluster.x-k8s.io/v1beta1:Cluster"))
    assert cluster.urn in read.dependencies
    assert cluster.inputs["metadata"]["annotations"]["pulumi.com/waitFor"] == "condition=ControlPlaneInitialized"
    assert prod.outputs["productionKubeconfig"] == "[secret]"
    entry = prod.one("kubernetes:core/v1:Secret", "argocd-cluster-production")
    assert entry.inputs["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "cluster"
    assert entry.inputs["metadata"]["namespace"] == "argocd"
    assert redacted(entry.inputs["stringData"]) and set(entry.inputs["stringData"]) == {"name", "server", "config"}


def test_argocd_cluster_entry_carries_the_kubeconfigs_server_and_credentials():
    from components.clusters.addons import argocd_cluster_entry
    from labctl.mocks import _guest_kubeconfig

    entry = argocd_cluster_entry("demo", _guest_kubeconfig("demo-kubeconfig"))
    assert entry["server"] == "https://demo.guest:6443"
    tls = json.loads(entry["config"])["tlsClientConfig"]
    assert set(tls) == {"caData", "certData", "keyData"} and all(tls.values())


def test_guest_load_balancers_go_through_a_cloud_controller_that_finds_the_vms(lab):
    objects = _objects(lab, "experiment-sandbox")
    (deployment,) = _of_kind(objects, "Deployment").values()
    pod = deployment["spec"]["template"]["spec"]
    assert {"name": "kubeconfig", "secret": {"secretName": "sandbox-kubeconfig"}} in pod["volumes"]
    assert pod["priorityClassName"] == "homelab-experiment"
    config = yaml.safe_load(_of_kind(objects, "ConfigMap")["kubevirt-cloud-controller-config"]["data"]["cloud-config"])
    assert config["namespace"] == "experiment-sandbox"
    vm_labels = [t["spec"]["template"]["spec"]["virtualMachineTemplate"]["spec"]["template"]["metadata"]["labels"]
                 for t in _of_kind(objects, "KubevirtMachineTemplate").values()]
    # v0.5.1 pkg/provider/loadbalancer.go: the infrastructure Service selects the VMs by the guest's cluster
    # name, and carries infraLabels as its own labels, which the address pools select by.
    assert all(labels.get("cluster.x-k8s.io/cluster-name") == "sandbox" for labels in vm_labels)
    assert config["infraLabels"] == {"cluster.x-k8s.io/cluster-name": "sandbox",
                                     "homelab.dev/cluster-class": "experiment"}
    (role,) = _of_kind(objects, "Role").values()
    assert {rule["resources"][0]: rule["verbs"] for rule in role["rules"]}["virtualmachineinstances"] == [
        "get", "list", "watch"]


def test_chaos_mesh_only_in_experiments_that_ask_for_it(build, prod):
    small = {"size": {"cpu": 1, "memory": "1Gi"}}
    experiments = [{"name": "calm", **small}, {"name": "storm", "chaos": True, **small}]
    result = build("lab", {"homelab:experiments": experiments},
                   prod_outputs=stack_reference_outputs(prod))
    proxies = {r.inputs["metadata"]["namespace"]: r.inputs["spec"]["chartName"]
               for r in result.by_type("kubernetes:addons.cluster.x-k8s.io/v1alpha1:HelmChartProxy")
               if r.inputs["spec"]["chartName"] == "chaos-mesh"}
    assert proxies == {"experiment-storm": "chaos-mesh"}


def test_argocd_names_match_the_projects_destinations(prod, lab):
    from components.platform.gitops import PROJECT_DESTINATIONS

    production = prod.one("kubernetes:core/v1:Secret", "argocd-cluster-production")
    assert production.name.removeprefix("argocd-cluster-") == PROJECT_DESTINATIONS["production"]
    (experiment,) = [r for r in lab.by_type("kubernetes:core/v1:Secret") if r.name.startswith("argocd-cluster-")]
    pattern = PROJECT_DESTINATIONS["experiment"]
    assert experiment.name.removeprefix("argocd-cluster-").startswith(pattern.rstrip("*"))


def test_the_lab_declares_nothing_in_productions_namespace_or_argocd_project(lab):
    namespaces = {r.inputs.get("metadata", {}).get("namespace") for r in lab.registrations if r.type.startswith(CR)}
    assert "production" not in namespaces
    assert not [r for r in lab.registrations if r.type.startswith("homelab:apps:") or
                r.type == "homelab:clusters:Production"]


def test_experiments_get_local_scratch_volumes_and_production_does_not(prod, experiment):
    def proxies(result):
        return {r.inputs["spec"]["chartName"] for r in result.by_type(
            "kubernetes:addons.cluster.x-k8s.io/v1alpha1:HelmChartProxy")}

    assert "local-path-provisioner" in proxies(experiment)
    assert "local-path-provisioner" not in proxies(prod)
    (ns,) = [r for r in experiment.by_type(NAMESPACE) if r.inputs["metadata"]["name"] == "local-path-storage"]
    assert ns.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    assert ns.provider.startswith(experiment.one("pulumi:providers:kubernetes", "demo-guest").urn)
    workers = [r for r in experiment.by_type("kubernetes:bootstrap.cluster.x-k8s.io/v1alpha3:TalosConfigTemplate")]
    assert all("/var/local-path-provisioner" in str(w.inputs["spec"]) for w in workers)


def test_chaos_experiments_let_the_chaos_daemon_run_privileged_inside_the_guest(experiment, lab):
    """Chaos Mesh's daemon needs host PID and hostPath: Talos' baseline Pod Security would refuse it in the
    unlabelled namespace the Helm add-on provider creates (found by the API-server tier)."""
    (ns,) = [r for r in experiment.by_type(NAMESPACE) if r.inputs["metadata"]["name"] == "chaos-mesh"]
    assert ns.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    assert ns.provider.startswith(experiment.one("pulumi:providers:kubernetes", "demo-guest").urn)
    assert not [r for r in lab.by_type(NAMESPACE) if r.inputs["metadata"]["name"] == "chaos-mesh"]


def test_the_guest_cloud_controller_runs_a_controller_its_pinned_release_knows(prod):
    """kubevirt-cloud-controller-manager v0.5.1 vendors cloud-provider v0.27: its controllers are cloud-node,
    cloud-node-lifecycle, service and route; any other name stops it at start."""
    (deployment,) = [r for r in prod.by_type("kubernetes:apps/v1:Deployment")
                     if r.inputs["metadata"]["name"].endswith("kubevirt-cloud-controller")]
    (container,) = deployment.inputs["spec"]["template"]["spec"]["containers"]
    (controllers,) = [arg for arg in container["args"] if arg.startswith("--controllers=")]
    assert set(controllers.removeprefix("--controllers=").split(",")) <= {"cloud-node", "cloud-node-lifecycle",
                                                                         "service", "route"}


@pytest.mark.parametrize(("workers", "zones"), [(1, 1), (2, 2), (3, 2), (5, 3), (7, 3), (20, 3), (4, 4), (0, 2)])
def test_workers_per_zone_places_every_worker_as_evenly_as_they_go(workers, zones):
    from components.clusters.guest_cluster import workers_per_zone
    from components.config import GuestClusterSettings

    names = tuple(f"zone-{chr(ord('a') + i)}" for i in range(zones))
    split = workers_per_zone(GuestClusterSettings(workers=workers, zones=names))
    assert list(split) == list(names)
    assert sum(split.values()) == workers
    assert max(split.values()) - min(split.values()) <= 1
    assert list(split.values()) == sorted(split.values(), reverse=True), "the first zones take the remainder"
