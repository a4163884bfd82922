"""What Kubernetes itself runs as pods on the control-plane nodes, sized for a Pi and counted in the budget.

Talos runs the API server, controller manager and scheduler as static pods on every control-plane node, and
CoreDNS as a Deployment: real pods with real requests that eat into the allocatable memory before any
platform service. The three control-plane components get explicit requests in the machine config, and the
budget reads those same values. CoreDNS keeps Talos' own manifest (its machine config can swap the image
but not the resources), so its requests are Talos' defaults, stated here once.
"""

from typing import Any

from components.capacity import Demand, requests_of
from components.config import Node
from components.quantities import resources

LAYER = "kubernetes"
# Machine-config key under ``cluster`` → the component's resources.
STATIC_PODS: dict[str, dict[str, Any]] = {
    "apiServer": resources("200m", "384Mi", memory_limit="1536Mi"),
    "controllerManager": resources("50m", "128Mi", memory_limit="512Mi"),
    "scheduler": resources("10m", "64Mi", memory_limit="256Mi"),
}
# Talos' CoreDNS Deployment: two replicas, 100m / 70Mi requested each.
COREDNS_REPLICAS = 2
COREDNS_RESOURCES = resources("100m", "70Mi", memory_limit="170Mi")


def cluster_patch() -> dict[str, Any]:
    """The ``cluster`` section of a control-plane node's patch that sizes the static pods."""
    return {component: {"resources": sizes} for component, sizes in STATIC_PODS.items()}


def demands(nodes: tuple[Node, ...]) -> list[Demand]:
    control_planes = sum(node.role == "controlplane" for node in nodes)
    static = [Demand(LAYER, "control-plane", component, requests_of(sizes), control_planes, False)
              for component, sizes in STATIC_PODS.items()]
    return [*static, Demand(LAYER, "coredns", "coredns", requests_of(COREDNS_RESOURCES), COREDNS_REPLICAS,
                                False)]
