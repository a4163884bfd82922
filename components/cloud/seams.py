"""The seams between stacks: what prod exports, and how lab and ``exp-*`` stacks read it.

Prod exports the infrastructure cluster's kubeconfig, the off-site buckets and their per-consumer
credentials, the DNS zone and the tailnet's tags and operator credentials. Other stacks read them through
a StackReference on the same backend; a missing output fails the stack with one message naming every
missing output, before anything that needs them is created.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

# Outputs every lab and experiment stack needs from prod.
REQUIRED_PROD_OUTPUTS = (
    "infrastructureClusterName", "kubeconfig", "backup", "restoreDrillCredentials", "dnsZoneId", "tailnetTags",
    "freeCapacity", "guestImage",
)


class MissingProdOutputsError(Exception):
    def __init__(self, stack: str, missing: Iterable[str]) -> None:
        self.missing = sorted(missing)
        super().__init__(f"prod stack {stack} lacks the outputs {', '.join(self.missing)} that this stack reads — "
                         f"fix: run `pulumi up --stack prod` with the current program, or point "
                         f"`homelab:prodStack` at the right stack")


def missing_outputs(stack: str, outputs: Mapping[str, Any], required: Iterable[str]) -> list[str]:
    """The required names absent from ``outputs``; raises MissingProdOutputsError naming them all."""
    missing = [name for name in required if name not in outputs]
    if missing:
        raise MissingProdOutputsError(stack, missing)
    return []


@dataclass(frozen=True)
class ProdSeams:
    """Prod's outputs, each available only once all of them are known to exist."""

    reference: pulumi.StackReference
    checked: pulumi.Output[list[str]]

    def get(self, name: str) -> pulumi.Output[Any]:
        return pulumi.Output.all(self.checked, self.reference.get_output(name)).apply(lambda pair: pair[1])


def read_prod(stack: str) -> ProdSeams:
    reference = pulumi.StackReference(stack)
    # Only the names are looked at, so the check itself carries no secret.
    names = pulumi.Output.unsecret(reference.outputs.apply(lambda outputs: sorted(outputs)))
    checked = names.apply(lambda present: missing_outputs(stack, dict.fromkeys(present), REQUIRED_PROD_OUTPUTS))
    return ProdSeams(reference, checked)
