"""``DnsRecords``: the homelab's names in its Cloudflare zone, and cert-manager's DNS-01 token.

The zone is looked up by name; each record from config carries a comment saying this program owns it (a
hand edit in the dashboard is overwritten on the next ``pulumi up``). Private addresses are never proxied
(config validation refuses it). The DNS-01 token exists only when asked for, and can edit DNS in this
zone and nothing else. Exports the zone id and the token (secret).
"""

import json
from dataclasses import dataclass

import pulumi
import pulumi_cloudflare as cloudflare

from components.config import DnsRecord, DnsSettings
from components.outputs import as_secret

# Cloudflare's permission groups for cert-manager's DNS-01 solver: edit DNS records, read the zone.
DNS_WRITE_PERMISSION = "4755a26eedb94da69e1066d98aa820be"
ZONE_READ_PERMISSION = "c8fed203ed3043cba015a93ad1616f1f"


def fqdn(record: DnsRecord, zone: str) -> str:
    return zone if record.name == "@" else f"{record.name}.{zone}"


def record_comment(stack: str) -> str:
    return f"Managed by Pulumi (homelab, stack {stack}); manual edits are overwritten."


@dataclass(frozen=True)
class DnsRecordsArgs:
    settings: DnsSettings
    stack: str
    # Records the program derives (e.g. for the production apps), added unless config declares the same name.
    derived: tuple[DnsRecord, ...] = ()


class DnsRecords(pulumi.ComponentResource):
    """Records the homelab publishes and the optional DNS-01 token."""

    zone_id: pulumi.Output[str]
    cert_manager_token: pulumi.Output[str] | None

    def __init__(self, name: str, args: DnsRecordsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:cloud:DnsRecords", name, None, opts)
        settings = args.settings
        zone = cloudflare.get_zone_output(filter={"name": settings.zone, "match": "all"},
                                          opts=pulumi.InvokeOutputOptions(parent=self))
        self.zone_id = zone.id
        declared = {record.name for record in settings.records}
        for record in (*settings.records, *(r for r in args.derived if r.name not in declared)):
            cloudflare.DnsRecord(
                f"{record.name}-{record.type.lower()}", zone_id=self.zone_id, name=fqdn(record, settings.zone),
                type=record.type, content=record.target, ttl=1, proxied=record.proxied,
                comment=record_comment(args.stack), opts=pulumi.ResourceOptions(parent=self),
            )
        self.cert_manager_token = None
        if settings.cert_manager_token:
            token = cloudflare.ApiToken(
                "cert-manager-dns01", name=f"homelab cert-manager DNS-01 ({settings.zone})",
                policies=[{
                    "effect": "allow",
                    "permission_groups": [{"id": DNS_WRITE_PERMISSION}, {"id": ZONE_READ_PERMISSION}],
                    "resources": self.zone_id.apply(
                        lambda zone_id: json.dumps({f"com.cloudflare.api.account.zone.{zone_id}": "*"})),
                }],
                opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["value"]),
            )
            self.cert_manager_token = as_secret(token.value)
        self.register_outputs({"zoneId": self.zone_id, "certManagerToken": self.cert_manager_token})
