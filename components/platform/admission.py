"""Admission the API server applies to every Service: what addresses a Service may claim on the LAN.

- No Service anywhere sets ``externalIPs``. Nothing the program deploys needs them, and with them any
  namespace could take over traffic to any LAN address that reaches a node (CVE-2020-8554; Cilium's
  kube-proxy replacement honours them and the 1.20 chart has no switch to turn that off).
- A Service in an experiment's namespace (the copies its cloud controller makes of the guest's
  LoadBalancer Services, which carry over the guest's ``loadBalancerIP``, ``externalIPs`` and annotations:
  cloud-provider-kubevirt v0.5.1 pkg/provider/loadbalancer.go) may ask for a ``loadBalancerIP`` only inside
  ``homelab:cluster.experimentRange``.
  Cilium's pools already never grant one outside it (components/platform/network.py); this refuses the
  request at the door, with a message, instead of leaving the Service pending.
"""

import ipaddress
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

from components.config import ClusterSettings
from components.labels import CLASS_LABEL, EXPERIMENT

NAME = "homelab-service-addresses"
IN_EXPERIMENT = (f"has(namespaceObject.metadata.labels) && '{CLASS_LABEL}' in namespaceObject.metadata.labels && "
                 f"namespaceObject.metadata.labels['{CLASS_LABEL}'] == '{EXPERIMENT}'")


def validations(cluster: ClusterSettings) -> list[dict[str, str]]:
    """The CEL rules of the policy, each with the message a refused Service gets."""
    experiments = cluster.experiment_range
    allowed = [str(ipaddress.IPv4Address(address)) for address in experiments.addresses()] if experiments else []
    return [
        {"expression": "!has(object.spec.externalIPs) || size(object.spec.externalIPs) == 0",
         "message": "externalIPs are refused in this homelab: ask for a LoadBalancer address instead"},
        {"expression": f"!({IN_EXPERIMENT}) || !has(object.spec.loadBalancerIP) || "
                       f"object.spec.loadBalancerIP == '' || object.spec.loadBalancerIP in {allowed!r}",
         "message": "an experiment's Service may ask only for an address of homelab:cluster.experimentRange"
                    + (f" ({experiments.start}-{experiments.stop})" if experiments else " (none is set)")},
    ]


def denying_policy(name: str, resource_rules: list[dict[str, Any]], validations: list[dict[str, str]],
                   parent: pulumi.Resource, depends_on: list[pulumi.Resource]) -> list[pulumi.Resource]:
    """A ValidatingAdmissionPolicy and its binding that refuse, with each rule's message, what breaks a rule."""
    policy = k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
        name, metadata=k8s.meta.v1.ObjectMetaArgs(name=name),
        spec=cast(k8s.admissionregistration.v1.ValidatingAdmissionPolicySpecArgsDict, {
            "failurePolicy": "Fail", "matchConstraints": {"resourceRules": resource_rules},
            "validations": validations}),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on))
    binding = k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
        name, metadata=k8s.meta.v1.ObjectMetaArgs(name=name),
        spec=cast(k8s.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpecArgsDict,
                  {"policyName": name, "validationActions": ["Deny"]}),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[*depends_on, policy]))
    return [policy, binding]


def service_address_policy(cluster: ClusterSettings, parent: pulumi.Resource,
                           depends_on: list[pulumi.Resource]) -> list[pulumi.Resource]:
    return denying_policy(NAME, [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                                  "resources": ["services"]}], validations(cluster), parent, depends_on)
