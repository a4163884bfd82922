"""The budget the program exports is the one its registered values add up to, and it refuses to overcommit."""

from components.capacity import total
from components.platform.plan import object_demands
from tests.conftest import prod_nodes


def test_exported_budget_is_what_the_registered_objects_ask_for(prod):
    capacity = prod.outputs["capacity"]
    nodes = len(prod_nodes())
    demands = [
        demand
        for registration in prod.registrations
        if registration.type.startswith("kubernetes:") and "homelab:platform:Platform$" in registration.urn
        for demand in object_demands(registration.type.rsplit(":", 1)[-1], registration.inputs, nodes,
                                     vm_host_count=nodes)
    ]
    owners = {demand.owner for demand in demands}
    assert {"cilium", "cert-manager", "capi-operator", "virt-handler", "cdi-apiserver",
            "CoreProvider/cluster-api", "virt-operator", "cdi-operator"} <= owners
    # The Talos upgrade Jobs, one per node, run one at a time: one pod of their owner, as of each CronJob.
    scheduled_pods = {demand.owner: demand for demand in demands if demand.layer == "scheduled"}
    for layer, counted in (("platform", [d for d in demands if d.layer == "platform"]),
                           ("scheduled", list(scheduled_pods.values()))):
        recomputed = total(demand.amount for demand in counted)
        assert capacity["total"][layer] == {"cpu_m": recomputed.cpu_m, "memory_mib": recomputed.memory_mib}
    # One pod of each CronJob, counted at its largest init container where that is more than its containers.
    scheduled = {w["owner"]: w for w in capacity["workloads"] if w["layer"] == "scheduled"}
    assert set(scheduled) == {"offsite-replication", "offsite-restore-check", "etcd-backup", "talos-upgrade"}
    assert scheduled["talos-upgrade"]["pods"] == 1
    assert scheduled["etcd-backup"]["perPod"] == {"cpu_m": 50, "memory_mib": 64}
    assert capacity["problems"] == []


def test_platform_stays_within_thirty_one_percent_of_memory_on_the_reference_inventory(prod):
    # 30% until the upstream tier counted the JuiceFS CSI sidecars the chart runs unsized (160 Mi in all).
    total_ = prod.outputs["capacity"]["total"]
    assert total_["platform"]["memory_mib"] <= 0.30 * total_["allocatable"]["memory_mib"]


def test_a_shrunken_inventory_is_refused_before_anything_is_registered(reject_capacity):
    from labctl.synth import read_stack_file

    cluster = dict(read_stack_file("prod")["homelab:cluster"])
    cluster["reserved"] = {"system": {"cpu": "3", "memory": "7Gi"}, "kube": {"cpu": "250m", "memory": "512Mi"}}
    platform = {**read_stack_file("prod")["homelab:platform"], "objectStore": {"servers": 1}}
    production = {**read_stack_file("prod")["homelab:production"], "zones": ["zone-a"]}
    failure = reject_capacity({"homelab:cluster": cluster, "homelab:nodes": prod_nodes()[:1],
                               "homelab:platform": platform, "homelab:production": production})
    assert "platform + production requests exceed the allocatable total" in failure.message
    assert "allocatable total" in failure.message
    assert failure.registered == []


def test_csi_sidecars_the_chart_leaves_unsized_get_a_limitrange_and_are_counted(prod):
    """The JuiceFS chart's CSI sidecars have no resources to set; a LimitRange sizes them in both clusters that
    run the driver, and the budget counts two per node pod and per controller (found by the upstream tier)."""
    from components.platform.shared_fs import SIDECAR

    ranges = [r for r in prod.by_type("kubernetes:core/v1:LimitRange")
              if r.inputs["metadata"]["namespace"] == "juicefs"]
    assert len(ranges) == 2
    for limit_range in ranges:
        (limit,) = limit_range.inputs["spec"]["limits"]
        assert limit["defaultRequest"] == SIDECAR["requests"] and limit["default"] == SIDECAR["limits"]
    workloads = {w["workload"]: w for w in prod.outputs["capacity"]["workloads"] if w["owner"] == "juicefs-csi-driver"}
    assert workloads["node-sidecars"]["pods"] == len(prod_nodes())
    assert workloads["node-sidecars"]["perPod"]["memory_mib"] == 2 * 16
    assert workloads["controller-sidecars"]["pods"] == 1
