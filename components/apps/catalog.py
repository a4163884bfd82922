"""The production apps: pinned charts and Pi-sized values, one ``App`` each.

Home Assistant keeps its configuration on the shared filesystem and is reachable on the tailnet through the
Tailscale operator inside the production cluster, on port 80, which the tailnet policy opens to members. It
has no LAN discovery: its VM has only the pod network, so mDNS and SSDP never reach the house (devices are
added by address; README). Pi-hole answers DNS on a LoadBalancer address from the LAN pool (the guest's cloud
controller asks the infrastructure cluster for it), listening to every network, and keeps its settings on the
shared filesystem too. Both volumes are ``juicefs`` claims inside the guest (components/apps/production.py).
A ``like: production`` experiment gets development copies of the same apps.
"""

from dataclasses import dataclass
from typing import Any

from components.config import DnsRecord
from components.quantities import resources
from components.versions import HOME_ASSISTANT, PIHOLE

GUEST_STORAGE_CLASS = "juicefs"
# Home Assistant's machine name on the tailnet (and its record in the Cloudflare zone).
HOME_ASSISTANT_HOST = "home-assistant"
# The chart's Service defaults to 8080 (its container listens on 8123); the tailnet grants members port 80.
HOME_ASSISTANT_PORT = 80


@dataclass(frozen=True)
class App:
    name: str
    chart: str
    repo: str
    version: str
    namespace: str
    values: dict[str, Any]


def home_assistant() -> App:
    return App("home-assistant", "home-assistant", "http://pajikos.github.io/home-assistant-helm-chart/",
               HOME_ASSISTANT, "home-assistant", {
                   "persistence": {"enabled": True, "storageClass": GUEST_STORAGE_CLASS, "size": "5Gi"},
                   "service": {"port": HOME_ASSISTANT_PORT,
                               "annotations": {"tailscale.com/expose": "true",
                                               "tailscale.com/hostname": HOME_ASSISTANT_HOST}},
                   "resources": resources("100m", "384Mi", memory_limit="1Gi"),
               })


PIHOLE_NAMESPACE = "pihole"


def pihole(dns_address: str | None) -> App:
    """Pi-hole v6 answers only its own subnet unless told otherwise (FTL's dns.listeningMode defaults to LOCAL,
    src/config/config.c@v6.4.1), and every query here comes from another network: the mode is stated, though
    chart 2.32.0 and later default it to ``all``. DNS goes out with ``externalTrafficPolicy: Cluster``: ``Local``
    (the chart's default) is copied by the cloud controller to the infrastructure Service, where Cilium's L2
    announcements cannot honour it, and the guest's NodePort drops queries on every VM without the pod. The
    cost: Pi-hole logs the node's address, not the client's."""
    service_dns: dict[str, Any] = {"type": "LoadBalancer", "mixedService": True, "externalTrafficPolicy": "Cluster"}
    if dns_address:
        service_dns["loadBalancerIP"] = dns_address
    return App("pihole", "pihole", "https://mojo2600.github.io/pihole-kubernetes/", PIHOLE, PIHOLE_NAMESPACE, {
        "serviceDns": service_dns,
        "extraEnvVars": {"FTLCONF_dns_listeningMode": "all"},
        "persistentVolumeClaim": {"enabled": True, "storageClass": GUEST_STORAGE_CLASS, "size": "1Gi"},
        "resources": resources("50m", "128Mi", memory_limit="384Mi"),
    })


def production_apps(dns_address: str | None) -> list[App]:
    return [home_assistant(), pihole(dns_address)]


def development_copies() -> list[App]:
    """Production's apps for a ``like: production`` experiment: same charts and pins, same settings, but
    throw-away state (no claims: the experiment has no shared filesystem of its own), no fixed DNS address
    and nothing on the tailnet, so a copy never collides with the real thing."""
    copies = []
    for app in production_apps(None):
        values = dict(app.values)
        values.pop("service", None)
        for key in ("persistence", "persistentVolumeClaim"):
            if key in values:
                values[key] = {"enabled": False}
        copies.append(App(app.name, app.chart, app.repo, app.version, app.namespace, values))
    return copies


def tailnet_records(tailnet_dns_name: str | None) -> tuple[DnsRecord, ...]:
    """Home Assistant's name in the public zone, pointing at its tailnet name (resolvable on the tailnet only)."""
    if not tailnet_dns_name:
        return ()
    return (DnsRecord(name=HOME_ASSISTANT_HOST, type="CNAME", target=f"{HOME_ASSISTANT_HOST}.{tailnet_dns_name}"),)
