"""The budget's arithmetic, one rule at a time, on small hand-made plans whose every figure is worked out here."""

from dataclasses import replace

import pytest

from components.capacity import (
    Amount,
    Budget,
    CapacityError,
    Demand,
    NodeBudget,
    Workload,
    chart_demands,
    node_budget,
    plan,
    pod_template_demand,
    requests_of,
    total,
    value_at,
)
from tests.test_capacity import _reference


def test_amounts_add_subtract_and_scale_per_dimension():
    assert Amount(1, 2) + Amount(10, 20) == Amount(11, 22)
    assert Amount(10, 20) - Amount(1, 2) == Amount(9, 18)
    assert Amount(3, 5).times(4) == Amount(12, 20)
    assert total([]) == Amount() and total([Amount(1, 2), Amount(3, 4), Amount(5, 6)]) == Amount(9, 12)


@pytest.mark.parametrize(("amount", "fits"), [
    (Amount(100, 100), True), (Amount(99, 100), True), (Amount(100, 99), True),
    (Amount(101, 100), False), (Amount(100, 101), False)])
def test_an_amount_fits_only_when_both_dimensions_fit(amount, fits):
    assert amount.fits_in(Amount(100, 100)) is fits


def test_requests_win_over_limits_key_by_key():
    assert requests_of({"limits": {"cpu": "2", "memory": "1Gi"}, "requests": {"cpu": "500m"}}) == Amount(500, 1024)
    assert requests_of({"requests": {"memory": "64Mi"}}) == Amount(0, 64)
    assert requests_of({"requests": {"cpu": "2"}}) == Amount(2000, 0)
    assert requests_of({"requests": None, "limits": None}) == Amount()
    assert requests_of({}) == Amount()


def test_value_at_walks_nested_keys_and_names_the_missing_path():
    assert value_at({"a": {"b": {"c": 3}}}, ("a", "b", "c")) == 3
    assert value_at({"a": 1}, ()) == {"a": 1}
    with pytest.raises(KeyError, match=r"a\.b\.c is not set in the chart values"):
        value_at({"a": {"b": 5}}, ("a", "b", "c"))
    with pytest.raises(KeyError, match=r"a\.x is not set"):
        value_at({"a": {"b": 5}}, ("a", "x"))


SIZED = {"requests": {"cpu": "100m", "memory": "64Mi"}}


def test_chart_demand_skips_a_disabled_workload_and_counts_an_enabled_one():
    workloads = [Workload("on", ("a",), enabled=("a", "enabled")), Workload("off", ("b",), enabled=("b", "enabled"))]
    values = {"a": {"enabled": True, **SIZED}, "b": {"enabled": False, **SIZED}}
    (demand,) = chart_demands("platform", "chart", values, workloads, node_count=3)
    assert demand == Demand("platform", "chart", "on", Amount(100, 64), 1, False)


def test_chart_demand_of_fixed_sidecars_counts_each_container_and_each_node():
    fixed = Workload("csi", ("unused",), per_node=True, fixed=SIZED, containers=3)
    (demand,) = chart_demands("platform", "csi-chart", {}, [fixed], node_count=5)
    assert (demand.per_pod, demand.pods, demand.per_node, demand.amount) == (Amount(300, 192), 5, True,
                                                                            Amount(1500, 960))


def test_chart_demand_takes_a_fixed_replica_count_or_reads_it():
    values = {"r": "3", **SIZED}
    fixed, read = Workload("fixed", (), replicas=2), Workload("read", (), replicas=("r",))
    demands = chart_demands("kubernetes", "c", values, [fixed, read], node_count=9)
    assert [(d.workload, d.pods, d.per_node, d.layer) for d in demands] == [
        ("fixed", 2, False, "kubernetes"), ("read", 3, False, "kubernetes")]


def test_a_pod_template_demand_adds_every_container():
    spec = {"containers": [{"resources": SIZED}, {"resources": {"requests": {"cpu": "1", "memory": "1Gi"}}},
                           {"name": "unsized"}]}
    demand = pod_template_demand("apps", "job", spec, pods=2, per_node=True)
    assert demand == Demand("apps", "job", "job", Amount(1100, 1088), 2, True)
    assert pod_template_demand("apps", "none", {}, pods=1).per_pod == Amount()


NOTHING = Amount()


def _node(name: str, allocatable: Amount, daemons: Amount = NOTHING, kvm: bool = True) -> NodeBudget:
    return NodeBudget(name, allocatable + Amount(500, 1000), allocatable, daemons, kvm)


def _demand(layer: str, amount: Amount, pods: int = 1, vm: bool = False, per_node: bool = False) -> Demand:
    return Demand(layer, f"{layer}-owner", f"{layer}-workload", amount, pods, per_node, vm=vm)


def _budget(quota: Amount = NOTHING) -> Budget:
    nodes = [_node("a", Amount(4000, 8000), Amount(500, 1000)), _node("b", Amount(4000, 8000), kvm=False)]
    demands = [_demand("kubernetes", Amount(100, 200)), _demand("platform", Amount(300, 400), pods=2),
               _demand("production", Amount(1000, 2000), vm=True), _demand("experiment", Amount(50, 60))]
    return Budget(nodes, demands, quota)


def test_the_budget_sums_each_layer_and_keeps_experiments_out_of_what_is_reserved():
    budget = _budget(Amount(10, 20))
    assert budget.capacity == Amount(9000, 18000) and budget.allocatable == Amount(8000, 16000)
    assert budget.requested("platform") == Amount(600, 800)
    assert budget.requested("experiment") == Amount(50, 60)
    assert budget.reserved == Amount(1700, 3000)
    assert budget.nodes[0].free_after_daemons == Amount(3500, 7000)
    # Only the KVM node offers VMs room, and only VM demands count against it.
    assert budget.vm_room == Amount(3500, 7000) and budget.vm_requested == Amount(1000, 2000)


def test_free_is_the_smaller_of_free_overall_and_free_for_vms_in_each_dimension():
    budget = _budget(Amount(10, 20))
    # overall: 8000-1700-10 = 6290m, 16000-3000-20 = 12980Mi; for VMs: 3500-1000-10 = 2490m, 7000-2000-20 = 4980Mi
    assert budget.free == Amount(2490, 4980)
    roomy = Budget([_node("a", Amount(9000, 1000))], [_demand("platform", Amount(0, 900))], Amount())
    # CPU is short overall on neither; memory: overall 100, for VMs 1000 (the platform pod is no VM).
    assert roomy.free == Amount(9000, 100)
    cpu_bound = Budget([_node("a", Amount(1000, 9000))], [_demand("platform", Amount(900, 0))], Amount())
    assert cpu_bound.free == Amount(100, 9000)


def test_a_budget_that_fits_has_no_problems_and_each_misfit_is_named():
    assert _budget().problems() == []
    tight = Budget([_node("a", Amount(1000, 1000))], [_demand("platform", Amount(1000, 1000))])
    assert tight.problems() == []
    assert Budget([_node("a", Amount(1000, 1000))], [_demand("platform", Amount(1001, 10))]).problems() == [
        "kubernetes + platform + production requests exceed the allocatable total"]
    assert Budget([_node("a", Amount(1000, 1000))], [_demand("platform", Amount(900, 10))],
                  Amount(101, 0)).problems() == [
        "experiment quotas exceed what is left after platform and production"]
    assert Budget([_node("a", Amount(1000, 1000))], [_demand("platform", Amount(900, 10))],
                  Amount(100, 0)).problems() == []


def test_vms_that_only_fit_on_boards_without_kvm_are_a_problem_of_their_own():
    nodes = [_node("kvm", Amount(1000, 1000)), _node("plain", Amount(8000, 8000), kvm=False)]
    budget = Budget(nodes, [_demand("production", Amount(1001, 900), vm=True)])
    assert budget.problems() == [
        "the VMs need 1001m CPU and 900Mi, but the nodes that can run VMs offer only 1000m and 1000Mi"]
    assert Budget(nodes, [_demand("production", Amount(1000, 1000), vm=True)]).problems() == []


def test_daemons_larger_than_a_node_are_named_per_node():
    nodes = [_node("small", Amount(100, 100), Amount(100, 101)), _node("fine", Amount(100, 100), Amount(100, 100))]
    assert Budget(nodes).problems()[-1:] == ["node small: per-node (DaemonSet) requests exceed its allocatable"]
    assert len(Budget(nodes).problems()) == 2


def test_the_budget_as_json_holds_every_figure_under_its_name():
    budget = _budget(Amount(10, 20))
    shown = budget.as_json()
    assert shown["nodes"][0] == {"name": "a", "capacity": {"cpu_m": 4500, "memory_mib": 9000},
                                 "allocatable": {"cpu_m": 4000, "memory_mib": 8000},
                                 "perNodeRequests": {"cpu_m": 500, "memory_mib": 1000},
                                 "freeAfterPerNode": {"cpu_m": 3500, "memory_mib": 7000}}
    assert shown["total"] == {
        "capacity": {"cpu_m": 9000, "memory_mib": 18000}, "allocatable": {"cpu_m": 8000, "memory_mib": 16000},
        "kubernetes": {"cpu_m": 100, "memory_mib": 200}, "platform": {"cpu_m": 600, "memory_mib": 800},
        "scheduled": {"cpu_m": 0, "memory_mib": 0},
        "production": {"cpu_m": 1000, "memory_mib": 2000}, "rolloutRoom": {"cpu_m": 0, "memory_mib": 0},
        "experimentQuota": {"cpu_m": 10, "memory_mib": 20},
        "vmRoom": {"cpu_m": 3500, "memory_mib": 7000}, "vms": {"cpu_m": 1000, "memory_mib": 2000},
        "free": {"cpu_m": 2490, "memory_mib": 4980}}
    assert [w["layer"] for w in shown["workloads"]] == ["experiment", "kubernetes", "platform", "production"]
    assert shown["workloads"][2] == {"layer": "platform", "owner": "platform-owner", "workload": "platform-workload",
                                     "pods": 2, "perNode": False, "perPod": {"cpu_m": 300, "memory_mib": 400},
                                     "total": {"cpu_m": 600, "memory_mib": 800}}
    assert shown["problems"] == []


def test_room_for_a_production_rollout_is_not_reserved_but_must_fit_beside_what_is():
    budget = _budget(Amount(10, 20))
    surge = Demand("rollout", "production", "rollout-surge", Amount(1000, 2000), 1, False, vm=True)
    roomy = Budget(budget.nodes, [*budget.demands, surge], budget.experiment_quota)
    assert roomy.problems() == [] and roomy.free == budget.free and roomy.rollout_room == Amount(1000, 2000)
    too_big = replace(surge, per_pod=Amount(2600, 5100))
    (problem,) = Budget(budget.nodes, [*budget.demands, too_big], budget.experiment_quota).problems()
    assert problem.startswith("production's rollouts need room for one more VM (2600m CPU, 5100Mi)")


def test_the_workloads_are_listed_by_layer_then_owner_then_workload():
    demands = [Demand("p", "b", "x", Amount(), 1, False), Demand("p", "a", "y", Amount(), 1, False),
               Demand("p", "a", "x", Amount(), 1, False)]
    shown = Budget([_node("a", Amount(1, 1))], demands).as_json()["workloads"]
    assert [(w["owner"], w["workload"]) for w in shown] == [("a", "x"), ("a", "y"), ("b", "x")]


def test_the_table_lists_every_node_and_every_total_aligned():
    lines = _budget(Amount(10, 20)).table().splitlines()
    width = len("room for VMs (KVM nodes)")
    assert lines[0] == f"{'':<{width}}  {'CPU (m)':>8}  {'memory (Mi)':>11}"
    assert lines[1] == f"{'node a allocatable':<{width}}  {'4000':>8}  {'8000':>11}"
    assert [line.split("  ")[0].strip() for line in lines[3:]] == [
        "allocatable total", "kubernetes requests", "platform requests", "scheduled job requests",
        "production requests", "rollout room",
        "experiment quota", "room for VMs (KVM nodes)", "VM requests", "free"]
    assert lines[-1] == f"{'free':<{width}}  {'2490':>8}  {'4980':>11}"
    assert lines[9] == f"{'experiment quota':<{width}}  {'10':>8}  {'20':>11}"
    assert lines[4:8] == [f"{'kubernetes requests':<{width}}  {'100':>8}  {'200':>11}",
                          f"{'platform requests':<{width}}  {'600':>8}  {'800':>11}",
                          f"{'scheduled job requests':<{width}}  {'0':>8}  {'0':>11}",
                          f"{'production requests':<{width}}  {'1000':>8}  {'2000':>11}"]


def test_a_node_budget_keeps_back_both_reservations_and_the_eviction_threshold():
    nodes, cluster = _reference()
    budget = node_budget(nodes[0], cluster, Amount(7, 8))
    assert budget == NodeBudget("pi-1", Amount(4000, 8192), Amount(3500, 8192 - 1280), Amount(7, 8), True)


def test_a_plan_gives_every_node_the_sum_of_the_per_node_pods():
    nodes, cluster = _reference()
    demands = [_demand("platform", Amount(10, 20), pods=4, per_node=True),
               _demand("kubernetes", Amount(1, 2), pods=4, per_node=True), _demand("platform", Amount(500, 500))]
    budget = plan(nodes, cluster, demands, Amount(3, 4))
    assert {node.per_node_requests for node in budget.nodes} == {Amount(11, 22)}
    assert budget.demands == demands and budget.experiment_quota == Amount(3, 4)
    assert [node.name for node in budget.nodes] == ["pi-1", "pi-2", "pi-3", "pi-4"]


def test_the_capacity_error_lists_each_problem_then_the_table_then_the_fix():
    budget = Budget([_node("a", Amount(10, 10), Amount(20, 0))], [_demand("platform", Amount(100, 5))])
    error = CapacityError(budget)
    assert error.budget is budget
    assert str(error) == ("the plan does not fit the inventory:\n  - " + "\n  - ".join(budget.problems()) + "\n"
                          + budget.table() + "\nfix: add nodes to homelab:nodes, or shrink the platform's settings")
