"""The budget the program exports is the one its registered values add up to, and it refuses to overcommit."""

from components.capacity import chart_demands, total
from components.platform import virtualization
from components.platform.plan import PLATFORM_CHARTS
from tests.conftest import prod_nodes

RELEASE = "kubernetes:helm.sh/v3:Release"


def test_exported_budget_matches_the_registered_chart_values(prod):
    capacity = prod.outputs["capacity"]
    releases = prod.by_type(RELEASE)
    assert {r.name for r in releases} == set(PLATFORM_CHARTS)
    nodes = len(prod_nodes())
    charts = [demand for release in releases
              for demand in chart_demands("platform", release.name, release.inputs["values"],
                                          PLATFORM_CHARTS[release.name].workloads, nodes)]
    kubevirt = prod.one("kubernetes:kubevirt.io/v1:KubeVirt", "kubevirt").inputs["spec"]
    cdi = prod.one("kubernetes:cdi.kubevirt.io/v1beta1:CDI", "cdi").inputs["spec"]
    operators = [*virtualization.demands(kubevirt["customizeComponents"]["patches"], nodes,
                                         kubevirt["infra"]["replicas"]),
                 *virtualization.demands(cdi["customizeComponents"]["patches"], nodes, 1)]
    recomputed = total(demand.amount for demand in [*charts, *operators])
    assert capacity["total"]["platform"] == {"cpu_m": recomputed.cpu_m, "memory_mib": recomputed.memory_mib}
    assert capacity["problems"] == []


def test_platform_stays_within_thirty_percent_of_memory_on_the_reference_inventory(prod):
    total_ = prod.outputs["capacity"]["total"]
    assert total_["platform"]["memory_mib"] <= 0.30 * total_["allocatable"]["memory_mib"]


def test_a_shrunken_inventory_is_refused_before_anything_is_registered(reject_capacity):
    from labctl.synth import read_stack_file

    cluster = dict(read_stack_file("prod")["homelab:cluster"])
    cluster["reserved"] = {"system": {"cpu": "3", "memory": "7Gi"}, "kube": {"cpu": "250m", "memory": "512Mi"}}
    failure = reject_capacity({"homelab:cluster": cluster, "homelab:nodes": prod_nodes()[:1]})
    assert "platform + production requests exceed the allocatable total" in failure.message
    assert "allocatable total" in failure.message
    assert failure.registered == []
