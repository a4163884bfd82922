"""``Tailnet``: the tailnet policy with the tag owners the Kubernetes operator needs, and its OAuth clients.

The Tailscale Kubernetes operator authenticates with an OAuth client tagged ``tag:k8s-operator`` and tags
the proxies it creates ``tag:k8s``, so the policy must make the first tag the owner of the second. The
program owns the tailnet policy file: it is the repository's ``aclFile`` (plain JSON) with those tag
owners merged in, or an allow-members default when no file is given. One OAuth client per cluster that
runs the operator, with the scopes the operator's own end-to-end setup gives it. Exports the tags and each
client's id and secret (secret).
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_tailscale as tailscale

from components.config import TailnetSettings
from components.outputs import as_secret

OPERATOR_TAG = "tag:k8s-operator"
PROXY_TAG = "tag:k8s"
# Devices (the operator's proxies join as devices), auth keys (it mints them for the proxies) and services
# (VIP Services behind ProxyGroups and the API-server proxy; the Tailnet reconciler lists them to check its
# credentials): the set cmd/k8s-operator/e2e/setup.go creates its client with at tailscale v1.98.2
# (34c530668cb0), k8s-operator/reconciler/tailnet/tailnet.go there checking each.
OPERATOR_SCOPES = ("devices:core", "auth_keys", "services")
_DEFAULT_POLICY: dict[str, Any] = {"grants": [{"src": ["autogroup:member"], "dst": ["*"], "ip": ["*"]}]}


def policy_document(base: dict[str, Any]) -> dict[str, Any]:
    """``base`` with the operator's tag owners added (its own tag owners are kept)."""
    owners = dict(base.get("tagOwners") or {})
    owners[OPERATOR_TAG] = sorted(set(owners.get(OPERATOR_TAG, [])))
    owners[PROXY_TAG] = sorted({*owners.get(PROXY_TAG, []), OPERATOR_TAG})
    return {**base, "tagOwners": owners}


def load_policy(settings: TailnetSettings) -> dict[str, Any]:
    if settings.acl_file is None:
        return dict(_DEFAULT_POLICY)
    return dict(json.loads(Path(settings.acl_file).read_text()))


@dataclass(frozen=True)
class TailnetArgs:
    settings: TailnetSettings


class Tailnet(pulumi.ComponentResource):
    """Tailnet policy and the operator OAuth clients."""

    operator_credentials: pulumi.Output[dict[str, dict[str, str]]]

    def __init__(self, name: str, args: TailnetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:cloud:Tailnet", name, None, opts)
        policy = tailscale.Acl(
            "policy", acl=json.dumps(policy_document(load_policy(args.settings)), indent=2, sort_keys=True),
            # The program owns the policy file; without this the first `up` needs a manual import.
            overwrite_existing_content=True, opts=pulumi.ResourceOptions(parent=self),
        )
        clients = {
            cluster: tailscale.OauthClient(
                f"operator-{cluster}", description=f"homelab {cluster} k8s operator",
                scopes=list(OPERATOR_SCOPES), tags=[OPERATOR_TAG],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[policy], additional_secret_outputs=["key"]),
            )
            for cluster in args.settings.operator_clusters
        }
        self.tags = {"operator": OPERATOR_TAG, "proxies": PROXY_TAG}
        self.operator_credentials = as_secret(pulumi.Output.all(**{
            cluster: pulumi.Output.all(client.id, client.key) for cluster, client in clients.items()
        }).apply(lambda pairs: {cluster: {"clientId": pair[0], "clientSecret": pair[1]}
                                for cluster, pair in pairs.items()}))
        self.register_outputs({"tags": self.tags, "operatorCredentials": self.operator_credentials})
