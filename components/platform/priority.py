"""Priority tiers: the platform first, production next, experiments last and never preempting.

The scheduler evicts lower-priority pods to place higher ones, so production (and the VMs of the
production guest cluster) preempts experiments when the boards are full, while experiment pods wait
instead of pushing anything out (``preemptionPolicy: Never``).

The platform tier is the cluster's default: not every chart lets a priority class be set for every pod
(operators, webhooks, the Cluster API providers), and a pod left at priority 0 could be preempted by a
production VM. So everything that does not say otherwise is platform, and every pod the guest clusters
bring (VMs, their disk importers and cloners, their cloud controllers) names its own class.
"""

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class PriorityTier:
    name: str
    value: int
    preempts: bool
    description: str


PLATFORM = PriorityTier("homelab-platform", 100_000, True, "Infrastructure services every cluster depends on.")
PRODUCTION = PriorityTier("homelab-production", 10_000, True, "The always-on production cluster's VMs and apps.")
EXPERIMENT = PriorityTier("homelab-experiment", -100, False,
                          "Experimental clusters: evicted first, never preempt anything.")
TIERS = (PLATFORM, PRODUCTION, EXPERIMENT)


def priority_classes(parent: pulumi.Resource,
                     depends_on: list[pulumi.Resource]) -> list[k8s.scheduling.v1.PriorityClass]:
    return [
        k8s.scheduling.v1.PriorityClass(
            tier.name,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=tier.name),
            value=tier.value,
            global_default=tier is PLATFORM,
            preemption_policy="PreemptLowerPriority" if tier.preempts else "Never",
            description=tier.description,
            opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on),
        )
        for tier in TIERS
    ]
