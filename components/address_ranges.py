"""Every cluster's pod and service ranges, chosen so that none overlaps another or the LAN.

A guest's VMs live on the infrastructure cluster's pod network and reach MinIO and etcd by its Service
addresses, so a guest whose own ranges overlapped those would route that traffic into itself. All guests
share one pair of ranges: they never route to each other's pods or Services.
"""

from ipaddress import IPv4Network

# Talos' defaults, written into the machine config so that what the guests must avoid is stated, not assumed.
INFRASTRUCTURE_PODS = IPv4Network("10.244.0.0/16")
INFRASTRUCTURE_SERVICES = IPv4Network("10.96.0.0/12")
GUEST_PODS = IPv4Network("10.243.0.0/16")
GUEST_SERVICES = IPv4Network("10.95.0.0/16")

# The Kubernetes API on the nodes and the VIP.
API_SERVER_PORT = 6443

CLUSTER_RANGES = {
    "the infrastructure cluster's pods": INFRASTRUCTURE_PODS,
    "the infrastructure cluster's Services": INFRASTRUCTURE_SERVICES,
    "guest clusters' pods": GUEST_PODS,
    "guest clusters' Services": GUEST_SERVICES,
}
