"""Certificates: cert-manager, a self-signed issuer for in-cluster TLS, and ACME DNS-01 through Cloudflare.

Cluster API's operator needs cert-manager for its webhooks. The ACME issuer exists only when the cloud
layer made a Cloudflare token for DNS-01 (homelab names resolve to private or tailnet addresses, so HTTP-01
cannot work); the token reaches the cluster only as a Kubernetes Secret built from a Pulumi secret.
"""

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.capacity import Workload
from components.platform.chart import ChartSpec
from components.quantities import resources
from components.versions import CERT_MANAGER

NAMESPACE = "cert-manager"
SELF_SIGNED_ISSUER = "homelab-selfsigned"
ACME_ISSUER = "letsencrypt-dns01"
_ACME_SERVER = "https://acme-v02.api.letsencrypt.org/directory"
_TOKEN_SECRET = "cloudflare-dns01-token"

CERT_MANAGER_CHART = ChartSpec(
    release="cert-manager", chart="cert-manager", repo="https://charts.jetstack.io", version=CERT_MANAGER,
    namespace=NAMESPACE,
    workloads=(
        Workload("controller", ("resources",), replicas=("replicaCount",)),
        Workload("webhook", ("webhook", "resources"), replicas=("webhook", "replicaCount")),
        Workload("cainjector", ("cainjector", "resources"), replicas=("cainjector", "replicaCount")),
    ),
)


def cert_manager_values() -> dict[str, Any]:
    return {
        "crds": {"enabled": True, "keep": True},
        "replicaCount": 1,
        "resources": resources("20m", "96Mi", memory_limit="160Mi"),
        "webhook": {"replicaCount": 1, "resources": resources("10m", "48Mi", memory_limit="64Mi")},
        "cainjector": {"replicaCount": 1, "resources": resources("10m", "96Mi", memory_limit="160Mi")},
        "startupapicheck": {"resources": resources("10m", "32Mi", memory_limit="64Mi")},
        # DNS-01 checks must see the public zone, not the LAN resolver (Pi-hole).
        "dns01RecursiveNameservers": "1.1.1.1:53,9.9.9.9:53",
        "dns01RecursiveNameserversOnly": True,
    }


@dataclass(frozen=True)
class Dns01:
    """What the ACME issuer needs: a contact address and a Cloudflare token scoped to DNS edits."""

    email: str
    cloudflare_token: pulumi.Output[str]


def issuers(parent: pulumi.Resource, cert_manager: pulumi.Resource, dns01: Dns01 | None) -> list[pulumi.Resource]:
    opts = pulumi.ResourceOptions(parent=parent, depends_on=[cert_manager])
    created: list[pulumi.Resource] = [k8s.apiextensions.CustomResource(
        SELF_SIGNED_ISSUER, api_version="cert-manager.io/v1", kind="ClusterIssuer",
        metadata={"name": SELF_SIGNED_ISSUER}, spec={"selfSigned": {}}, opts=opts,
    )]
    if dns01 is None:
        return created
    token = k8s.core.v1.Secret(
        _TOKEN_SECRET, metadata=k8s.meta.v1.ObjectMetaArgs(name=_TOKEN_SECRET, namespace=NAMESPACE),
        type="Opaque", string_data={"api-token": dns01.cloudflare_token}, opts=opts,
    )
    created += [token, k8s.apiextensions.CustomResource(
        ACME_ISSUER, api_version="cert-manager.io/v1", kind="ClusterIssuer",
        metadata={"name": ACME_ISSUER},
        spec={"acme": {
            "email": dns01.email, "server": _ACME_SERVER,
            "privateKeySecretRef": {"name": f"{ACME_ISSUER}-account"},
            "solvers": [{"dns01": {"cloudflare": {"apiTokenSecretRef": {"name": _TOKEN_SECRET, "key": "api-token"}}}}],
        }},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[cert_manager, token]),
    )]
    return created
