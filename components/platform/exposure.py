"""Exposure: the Tailscale Kubernetes operator, so services reach the tailnet instead of the internet.

The operator authenticates with this cluster's OAuth client from the cloud layer. Its credentials go into
the ``operator-oauth`` Secret the chart reads, never into Helm values (values are stored in the release).
"""

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.capacity import Workload
from components.cloud.tailnet import OPERATOR_TAG, PROXY_TAG
from components.platform.chart import ChartSpec
from components.quantities import resources
from components.versions import TAILSCALE_OPERATOR

NAMESPACE = "tailscale"
OAUTH_SECRET = "operator-oauth"
TAILSCALE_CHART = ChartSpec(
    release="tailscale-operator", chart="tailscale-operator", repo="https://pkgs.tailscale.com/helmcharts",
    version=TAILSCALE_OPERATOR, namespace=NAMESPACE,
    workloads=(Workload("operator", ("operatorConfig", "resources")),),
)


def tailscale_values(cluster: str) -> dict[str, Any]:
    return {
        "operatorConfig": {
            "hostname": f"{cluster}-k8s-operator",
            "defaultTags": [OPERATOR_TAG],
            "resources": resources("10m", "64Mi", memory_limit="128Mi"),
        },
        "proxyConfig": {"defaultTags": PROXY_TAG},
    }


def oauth_secret(parent: pulumi.Resource, namespace: pulumi.Resource,
                 credentials: pulumi.Output[dict[str, str]]) -> k8s.core.v1.Secret:
    return k8s.core.v1.Secret(
        OAUTH_SECRET, metadata=k8s.meta.v1.ObjectMetaArgs(name=OAUTH_SECRET, namespace=NAMESPACE), type="Opaque",
        string_data={"client_id": credentials.apply(lambda c: c["clientId"]),
                     "client_secret": credentials.apply(lambda c: c["clientSecret"])},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[namespace]),
    )
