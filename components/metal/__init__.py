"""The bare-metal layer: Talos Linux on the inventory's boards, one infrastructure Kubernetes cluster."""

from components.metal.cluster import TalosCluster, TalosClusterArgs

__all__ = ["TalosCluster", "TalosClusterArgs"]
