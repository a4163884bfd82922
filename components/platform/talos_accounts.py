"""A pod's way to the Talos API: a ``talos.dev/v1alpha1`` ServiceAccount asking for roles, the Secret of the
same name Talos fills with a talosconfig (internal/app/machined/pkg/controllers/kubeaccess/serviceaccount at
v1.12.9), and where a pod mounts it. Which namespace may ask for which role is components/platform/talos_api.py.
"""

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

# Where the pods mount the talosconfig (its file is ``config``).
CONFIG_DIR = "/var/run/secrets/talos.dev"
VOLUME = "talos"
MOUNT: dict[str, Any] = {"name": VOLUME, "mountPath": CONFIG_DIR, "readOnly": True}


def volume(account: str) -> dict[str, Any]:
    """The pod volume of ``account``'s talosconfig Secret."""
    return {"name": VOLUME, "secret": {"secretName": account}}


def service_account(account: str, namespace: str, role: str,
                    opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    return k8s.apiextensions.CustomResource(
        account, api_version="talos.dev/v1alpha1", kind="ServiceAccount",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=account, namespace=namespace), spec={"roles": [role]}, opts=opts)
