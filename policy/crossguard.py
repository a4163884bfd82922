"""The rules as a CrossGuard policy pack: one stack policy per rule, over the resources `pulumi preview` plans.

Building the ``PolicyPack`` starts the policy server and blocks (FIELD-NOTES), so this module only defines
how to build it; ``policy/__main__.py`` builds it when the Pulumi CLI runs the pack.
"""

from collections.abc import Callable, Mapping
from typing import Any

import pulumi_policy as policy

from policy.rules import RULES, Resource, Rule


def plain(value: Any) -> Any:
    """Policy props with every secret shown as the same marker synth uses."""
    if isinstance(value, policy.Secret):
        return "[secret]"
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def resource_of(planned: policy.PolicyResource) -> Resource:
    return Resource(type=planned.resource_type, name=planned.name, props=plain(planned.props),
                    protect=bool(planned.opts.protect))


def stack_policy(name: str, rule: Rule) -> policy.StackValidationPolicy:
    def validate(args: policy.StackValidationArgs, report: Callable[[str, str | None], None]) -> None:
        resources = [resource_of(r) for r in args.resources]
        for violation in rule(resources, stack_of(args)):
            report(f"{violation.resource}: {violation.message}", None)

    return policy.StackValidationPolicy(name=name, description=(rule.__doc__ or name).strip(), validate=validate,
                                        enforcement_level=policy.EnforcementLevel.MANDATORY)


def stack_of(args: policy.StackValidationArgs) -> str:
    """The stack's name, from any resource's URN (``urn:pulumi:STACK::…``)."""
    return next((str(planned.urn.split(":")[2]) for planned in args.resources), "")


def policies() -> list[policy.Policy]:
    return [stack_policy(name, rule) for name, rule in RULES.items()]
