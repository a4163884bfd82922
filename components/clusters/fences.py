"""What fences a guest cluster's namespace in, as plain specs: its quota, its container defaults, and the
network rules between experiments, production and the LAN (components/clusters/namespaces.py makes the objects).

An experiment reaches only what it needs: its own namespace (its VMs, its control plane's endpoint, its
cloud controller), the cluster DNS, the infrastructure cluster's API on the LAN (its cloud controller), and the
internet (images, the off-site bucket). No other namespace of the infrastructure cluster: not the platform's
unauthenticated stores (Loki, Mimir, Tempo), not Argo CD, not storage, not production. Production, in turn,
takes no traffic from any experiment namespace: either side alone would do, both together survive a mistake
in one.
"""

from typing import Any

from components.address_ranges import API_SERVER_PORT, INFRASTRUCTURE_PODS
from components.capacity import Amount, Demand, total
from components.labels import CLASS_LABEL

# Set by Kubernetes on every namespace.
NAME_LABEL = "kubernetes.io/metadata.name"
# CDI's importer and clone pods, which run beside the VMs while disks are made.
IMPORT_HEADROOM = Amount(cpu_m=500, memory_mib=512)
CONTAINER_DEFAULTS = {"defaultRequest": {"cpu": "100m", "memory": "128Mi"},
                      "default": {"cpu": "500m", "memory": "512Mi"}}


def quota(demands: list[Demand]) -> Amount:
    return total(demand.amount for demand in demands) + IMPORT_HEADROOM


def _class_not_in(cls: str) -> dict[str, Any]:
    return {"key": CLASS_LABEL, "operator": "NotIn", "values": [cls]}


def _not_class(cls: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchExpressions": [_class_not_in(cls)]}}


# Cilium maps 0.0.0.0/0 to the world outside the cluster and, with its CIDR match mode set to nodes
# (components/platform/network.py), to the nodes and the API server on them, never to pods: other namespaces
# come only through the namespace selector.
WORLD = {"ipBlock": {"cidr": "0.0.0.0/0"}}


# The cluster DNS: the CoreDNS pods Talos deploys in kube-system, labelled k8s-app=kube-dns
# (internal/app/machined/pkg/controllers/k8s/internal/k8stemplates @ v1.12.11), on port 53.
CLUSTER_DNS = {"namespaceSelector": {"matchLabels": {NAME_LABEL: "kube-system"}},
               "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}
DNS_PORTS = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
# In a NetworkPolicy peer, a bare pod selector means the policy's own namespace.
OWN_NAMESPACE: dict[str, Any] = {"podSelector": {}}


def experiment_egress(lan_subnet: str) -> list[dict[str, Any]]:
    """Its own namespace, the cluster DNS, the internet, and of the LAN's hosts (the Pis among them) only the
    Kubernetes API, which the experiment's cloud controller needs. Cilium matches nodes by CIDR (its match
    mode is ``nodes``), so without the exception the world rule would open every node's ports (Talos,
    kubelet); it never matches pods, so other namespaces stay shut. Services are judged after Cilium
    translates them to their pods, so a ClusterIP opens nothing the rules do not."""
    return [
        {"to": [OWN_NAMESPACE]},
        {"to": [CLUSTER_DNS], "ports": DNS_PORTS},
        # Each node also answers on an address of its pod range (Cilium's router IP): out of the world too.
        {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": [lan_subnet, str(INFRASTRUCTURE_PODS)]}}]},
        {"to": [{"ipBlock": {"cidr": lan_subnet}}], "ports": [{"protocol": "TCP", "port": API_SERVER_PORT}]},
    ]


def production_ingress() -> list[dict[str, Any]]:
    """From any namespace but an experiment's, and from outside the cluster (the LAN, the tailnet)."""
    return [{"from": [_not_class("experiment")]}, {"from": [WORLD]}]
