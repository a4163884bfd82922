"""The capacity budget adds up what the values ask for and refuses what the boards cannot give."""

import pytest

from components.capacity import Amount, CapacityError, Workload, chart_demands, plan, requests_of
from components.config import parse_config
from labctl.synth import read_stack_file


def _reference():
    raw = {key.split(":", 1)[1]: value for key, value in read_stack_file("prod").items()}
    raw |= {"storageRootPassword": "xxxxxxxx", "grafanaAdminPassword": "y", "backupRepositoryPassword": "z"}
    config = parse_config(raw, "prod", ["homelab:storageRootPassword", "homelab:grafanaAdminPassword",
                                        "homelab:backupRepositoryPassword"])
    assert config.cluster is not None
    return config.nodes, config.cluster


def test_requests_fall_back_to_limits_and_parse_units():
    assert requests_of({"requests": {"cpu": "250m", "memory": "1Gi"}}) == Amount(250, 1024)
    assert requests_of({"limits": {"cpu": "1", "memory": "512Mi"}}) == Amount(1000, 512)
    assert requests_of(None) == Amount()


def test_allocatable_is_the_board_minus_talos_and_kubelet_reservations():
    nodes, cluster = _reference()
    budget = plan(nodes, cluster, [])
    # 4 cores and 8192 Mi per Pi 4; 250m+250m CPU and 768+256+256 Mi memory kept back.
    assert budget.nodes[0].allocatable == Amount(3500, 8192 - 1280)
    assert budget.allocatable == Amount(4 * 3500, 4 * (8192 - 1280))


def test_chart_demand_reads_replicas_and_resources_at_the_charts_own_paths():
    values = {"operator": {"replicas": 2, "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}},
              "resources": {"requests": {"cpu": "200m", "memory": "256Mi"}}}
    demands = chart_demands("platform", "cilium", values, [
        Workload("agent", ("resources",), per_node=True),
        Workload("operator", ("operator", "resources"), replicas=("operator", "replicas")),
    ], node_count=4)
    assert [(d.workload, d.pods, d.amount) for d in demands] == [
        ("agent", 4, Amount(800, 1024)), ("operator", 2, Amount(200, 256))]


def test_a_missing_resources_block_is_an_error_not_a_zero():
    with pytest.raises(KeyError, match=r"operator\.resources"):
        chart_demands("platform", "x", {"operator": {}}, [Workload("op", ("operator", "resources"))], 4)


def test_a_plan_larger_than_the_boards_is_refused_with_the_table():
    nodes, cluster = _reference()
    values = {"resources": {"requests": {"cpu": "1", "memory": "30Gi"}}}
    budget = plan(nodes, cluster, chart_demands("platform", "huge", values, [Workload("huge", ("resources",))], 4))
    assert budget.problems() == ["kubernetes + platform + production requests exceed the allocatable total"]
    message = str(CapacityError(budget))
    assert "allocatable total" in message and "30720" in message
