"""Which platform namespaces may ask the Talos API for which role, and the admission policy holding each to it.

Talos lends its API to pods through the control planes' ``kubernetesTalosAPIAccess``: a ``talos.dev/v1alpha1``
ServiceAccount in an allowed namespace, asking for allowed roles, gets a talosconfig with them. Talos checks the
two lists apart, any allowed role in any allowed namespace (kubeaccess/serviceaccount/crd_controller.go at
v1.12.9), so with two grants the etcd snapshots' namespace could ask for the upgrader's ``os:admin``. The
``ValidatingAdmissionPolicy`` here closes that: in a granted namespace, a talos.dev ServiceAccount may ask only
for that namespace's own roles.
"""

import pulumi

from components.config import PlatformSettings
from components.metal.patches import TalosApiAccess
from components.platform import admission, etcd_backup, talos_upgrade

NAME = "homelab-talos-api-roles"


def grants(settings: PlatformSettings) -> dict[str, tuple[str, ...]]:
    """Namespace → the Talos roles its one job needs (the reason for each is in that job's module)."""
    granted = {talos_upgrade.NAMESPACE: (talos_upgrade.TALOS_ROLE,)}
    if settings.backups.etcd is not None:
        granted[etcd_backup.NAMESPACE] = (etcd_backup.TALOS_ROLE,)
    return dict(sorted(granted.items()))


def machine_access(granted: dict[str, tuple[str, ...]]) -> TalosApiAccess:
    """The control planes' setting: every granted role and namespace (the policy pairs them)."""
    return TalosApiAccess(roles=tuple(sorted({role for roles in granted.values() for role in roles})),
                          namespaces=tuple(granted))


def validation(granted: dict[str, tuple[str, ...]]) -> dict[str, str]:
    roles = {namespace: list(allowed) for namespace, allowed in granted.items()}
    return {"expression": f"!(object.metadata.namespace in {roles!r}) || (has(object.spec) && "
                          f"has(object.spec.roles) && object.spec.roles.all(role, "
                          f"role in {roles!r}[object.metadata.namespace]))",
            "message": "a talos.dev ServiceAccount may ask only for its namespace's own Talos roles: "
                       + "; ".join(f"{namespace}: {', '.join(allowed)}" for namespace, allowed in granted.items())}


def role_policy(parent: pulumi.Resource, granted: dict[str, tuple[str, ...]],
                depends_on: list[pulumi.Resource]) -> list[pulumi.Resource]:
    return admission.denying_policy(NAME, [{"apiGroups": ["talos.dev"], "apiVersions": ["v1alpha1"],
                                            "operations": ["CREATE", "UPDATE"], "resources": ["serviceaccounts"]}],
                                    [validation(granted)], parent, depends_on)
