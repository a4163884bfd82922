"""The platform's plan, decided before anything is registered: every chart's values and the budget.

Deciding first means a plan that does not fit the boards is refused with the whole table before the
first resource exists, and the budget is computed from the very values dicts that are then registered.
"""

from dataclasses import dataclass
from typing import Any

from components.capacity import Budget, CapacityError, plan
from components.config import ClusterSettings, Node
from components.platform import virtualization
from components.platform.certificates import CERT_MANAGER_CHART, cert_manager_values
from components.platform.chart import ChartSpec
from components.platform.network import CILIUM_CHART, cilium_values

PLATFORM_CHARTS: dict[str, ChartSpec] = {spec.release: spec for spec in (CILIUM_CHART, CERT_MANAGER_CHART)}


@dataclass(frozen=True)
class ChartPlan:
    spec: ChartSpec
    values: dict[str, Any]


@dataclass(frozen=True)
class PlatformPlan:
    cluster: ClusterSettings
    nodes: tuple[Node, ...]
    charts: dict[str, ChartPlan]
    kubevirt: dict[str, Any]
    cdi: dict[str, Any]
    budget: Budget

    @property
    def lan_links(self) -> list[str]:
        return sorted({node.lan_link for node in self.nodes})


def plan_platform(cluster: ClusterSettings, nodes: tuple[Node, ...]) -> PlatformPlan:
    """Every chart's values for this inventory, and the budget they add up to; raises CapacityError."""
    lan_links = sorted({node.lan_link for node in nodes})
    charts = {chart.spec.release: chart for chart in (
        ChartPlan(CILIUM_CHART, cilium_values(lan_links)),
        ChartPlan(CERT_MANAGER_CHART, cert_manager_values()),
    )}
    kubevirt, cdi = virtualization.kubevirt_spec(nodes), virtualization.cdi_spec()
    demands = [demand for chart in charts.values() for demand in chart.spec.demands(chart.values, len(nodes))]
    demands += virtualization.demands(kubevirt["customizeComponents"]["patches"],
                                      len(virtualization.vm_hosts(nodes)), kubevirt["infra"]["replicas"])
    demands += virtualization.demands(cdi["customizeComponents"]["patches"], len(nodes), replicas=1)
    budget = plan(nodes, cluster, demands)
    if budget.problems():
        raise CapacityError(budget)
    return PlatformPlan(cluster, nodes, charts, kubevirt, cdi, budget)
