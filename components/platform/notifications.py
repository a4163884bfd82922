"""Where alerts go: the configuration of Mimir's own Alertmanager, from the stack's contact point.

The ruler sends every firing rule to the Alertmanager in the same process; it routes them all to one receiver,
the owner: ntfy, email or a webhook (``platform.alerting.contactPoint``), its credential the secret
``homelab:alertingCredential``. Without a contact point the receiver has no integration, and alerts are still
listed in Grafana (the Mimir data source reads the ruler's and the Alertmanager's APIs).

Mimir reads the configuration from a file per tenant (``alertmanager_storage`` backend ``local``: ``<path>/
<tenant>.yaml``, pkg/alertmanager/alertstore/local/store.go at mimir-2.17.2), so it lives in a Secret, the
credential inline: Mimir refuses ``*_file`` settings in tenant configurations.
"""

from typing import Any
from urllib.parse import urlencode

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.config import ContactPoint

RECEIVER = "owner"
SECRET = "mimir-alertmanager"
# With multitenancy off, Mimir's one tenant (-auth.no-auth-tenant's default, pkg/mimir/mimir.go at mimir-2.17.2).
TENANT = "anonymous"
# ntfy renders a webhook's JSON body into its title and message with these templates (``?template=yes`` with
# ``t`` and ``m``; docs/publish.md at ntfy v2.13.0), here over Alertmanager's webhook payload.
NTFY_TITLE = "{{.status}}: {{.commonLabels.alertname}}"
NTFY_MESSAGE = "{{range .alerts}}{{.annotations.summary}}\n{{end}}"


def ntfy_url(topic: str) -> str:
    return f"{topic}?{urlencode({'template': 'yes', 't': NTFY_TITLE, 'm': NTFY_MESSAGE})}"


def _bearer(credential: str | None) -> dict[str, Any]:
    return {"http_config": {"authorization": {"type": "Bearer", "credentials": credential}}} if credential else {}


def receiver(contact: ContactPoint | None, credential: str | None) -> dict[str, Any]:
    """The one receiver: the contact point's integration, or none."""
    if contact is None:
        return {"name": RECEIVER}
    if contact.kind == "email":
        email = {"to": contact.to, "from": contact.sender, "smarthost": contact.smarthost, "require_tls": True,
                 "send_resolved": True}
        if contact.username is not None:
            email |= {"auth_username": contact.username, "auth_password": credential}
        return {"name": RECEIVER, "email_configs": [email]}
    url = ntfy_url(str(contact.url)) if contact.kind == "ntfy" else str(contact.url)
    return {"name": RECEIVER, "webhook_configs": [{"url": url, "send_resolved": True, **_bearer(credential)}]}


def alertmanager_config(contact: ContactPoint | None, credential: str | None) -> dict[str, Any]:
    return {"route": {"receiver": RECEIVER, "group_by": ["alertname"], "group_wait": "30s",
                      "group_interval": "5m", "repeat_interval": "4h"},
            "receivers": [receiver(contact, credential)]}


def config_text(contact: ContactPoint | None, credential: str | None) -> str:
    return yaml.safe_dump(alertmanager_config(contact, credential), sort_keys=False)


def config_secret(parent: pulumi.Resource, namespace: str, contact: ContactPoint | None,
                  credential: pulumi.Output[str] | None, depends_on: list[pulumi.Resource]) -> k8s.core.v1.Secret:
    text = pulumi.Output.secret(credential.apply(lambda value: config_text(contact, value)) if credential is not None
                                else config_text(contact, None))
    return k8s.core.v1.Secret(
        SECRET, metadata=k8s.meta.v1.ObjectMetaArgs(name=SECRET, namespace=namespace), type="Opaque",
        string_data={f"{TENANT}.yaml": text}, opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on))
