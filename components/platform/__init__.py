"""``Platform``: the infrastructure cluster's services, installed in the order a fresh cluster needs.

Needs the plan (components/platform/plan.py) and the infrastructure cluster's Kubernetes provider, passed
as ``providers={"kubernetes": ...}`` so every child targets that cluster. Cilium goes first: nothing with
pods can start before the CNI, so every chart and custom resource depends on it. Exports the capacity
budget.
"""

import pulumi

from components.platform.chart import install
from components.platform.network import load_balancer_objects
from components.platform.plan import PlatformPlan, plan_platform
from components.platform.priority import priority_classes

__all__ = ["Platform", "PlatformPlan", "plan_platform"]


class Platform(pulumi.ComponentResource):
    """Every platform service of the infrastructure cluster."""

    def __init__(self, name: str, platform_plan: PlatformPlan, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:platform:Platform", name, None, opts)
        cilium_plan = platform_plan.charts["cilium"]
        cilium = install(cilium_plan.spec, cilium_plan.values, parent=self)
        priority_classes(self, depends_on=[cilium])
        load_balancer_objects(platform_plan.cluster, platform_plan.lan_links, self, depends_on=[cilium])
        self.capacity = platform_plan.budget.as_json()
        self.register_outputs({"capacity": self.capacity})
