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
    "infrastructureClusterName", "labKubeconfig", "backup", "restoreDrillCredentials", "backupRepositoryPassword",
    "dnsZoneId", "tailnetTags",
    "freeCapacity", "guestImage", "lanSubnet",
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
    """Prod's outputs, each available only once all the required ones are known to exist.

    ``StackReference.get_output`` lifts the whole of prod's outputs for every name it is asked for (prod
    exports its capacity plan and kubeconfigs: ~0.025 s per read under the mock engine); the required ones are
    lifted once here instead, each remembered with whether prod exported it as a secret.
    """

    required: pulumi.Output[dict[str, tuple[Any, bool]]]

    def get(self, name: str) -> pulumi.Output[Any]:
        return self.required.apply(lambda required: pulumi.Output.secret(required[name][0]) if required[name][1]
                                   else required[name][0])


def _required_outputs(stack: str, outputs: Mapping[str, Any], secret_names: list[str] | None
                      ) -> dict[str, tuple[Any, bool]]:
    missing_outputs(stack, outputs, REQUIRED_PROD_OUTPUTS)
    # A CLI that does not say which outputs are secret gets every one treated as secret.
    return {name: (outputs[name], secret_names is None or name in secret_names) for name in REQUIRED_PROD_OUTPUTS}


def qualified_stack(name: str, organization: str, project: str) -> str:
    """``prod`` → ``<organization>/<project>/prod``: the same organization as the stack reading it, which is
    ``organization`` on the file and S3 backends and the user's own on Pulumi Cloud. A full name stays as given."""
    return name if "/" in name else f"{organization}/{project}/{name}"


def read_prod(name: str) -> ProdSeams:
    stack = qualified_stack(name, pulumi.get_organization(), pulumi.get_project())
    reference = pulumi.StackReference(stack)
    # Secrecy is kept per output (the whole map is secret as soon as one output is), so lift it unsecret.
    outputs = pulumi.Output.unsecret(reference.outputs)
    required = pulumi.Output.all(outputs, reference.secret_output_names).apply(
        lambda pair: _required_outputs(stack, pair[0], pair[1]))
    return ProdSeams(required)
