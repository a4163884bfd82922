"""The rules as a CrossGuard policy pack, shaped by what pulumi-policy's analyzer actually hands a pack.

- A rule of one resource is a ``ResourceValidationPolicy``: the engine calls ``Analyze`` with each
  resource's inputs before its step, so a violation stops ``pulumi up`` (even with ``--skip-preview``)
  before that resource changes. Only a rule that needs the whole stack is a ``StackValidationPolicy``,
  which runs after the resource steps.
- The analyzer wraps the properties in proxies that raise ``UnknownValueError`` on a value the engine does
  not know yet, and one escaped error turns the whole policy into an advisory "can't run policy during
  preview" (``_PolicyAnalyzerServicer.Analyze`` @ pulumi-policy 1.21.0). ``plain`` reads each value through
  the proxy and keeps an unknown one as the rules' ``UNKNOWN``, so only the judgement that needs it waits.
- Secrets arrive unwrapped, so the rules that need to see them are left to synth (``SYNTH_ONLY``).

Building the ``PolicyPack`` starts the policy server and blocks (FIELD-NOTES), so this module only defines
how to build it; ``policy/__main__.py`` builds it when the Pulumi CLI runs the pack.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pulumi_policy as policy
from pulumi_policy.proxy import UnknownValueError

from policy.rules import RESOURCE_RULES, STACK_RULES, SYNTH_ONLY, Resource, ResourceRule, StackRule
from policy.values import UNKNOWN

Report = Callable[[str, str | None], None]


def plain(value: Any) -> Any:
    """The analyzer's proxies as plain mappings and lists, every unknown value as ``UNKNOWN``."""
    if isinstance(value, Mapping):
        return {key: _read(value, key) for key in value}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [_read(value, index) for index in range(len(value))]
    return value


def _read(container: Any, key: Any) -> Any:
    try:
        return plain(container[key])
    except UnknownValueError:
        return UNKNOWN


def stack_of(urn: str) -> str:
    """The stack's name, from a URN (``urn:pulumi:STACK::project::type::name``)."""
    return urn.split("::", 1)[0].removeprefix("urn:pulumi:")


def _resource(planned: policy.ResourceValidationArgs | policy.PolicyResource) -> Resource:
    """What the analyzer hands a policy, one resource of it, as the rules read resources."""
    return Resource(type=planned.resource_type, name=planned.name, props=plain(planned.props),
                    protect=bool(planned.opts.protect), urn=planned.urn)


def _description(rule: Callable[..., Any], name: str) -> str:
    return (rule.__doc__ or name).strip()


def resource_policy(name: str, rule: ResourceRule) -> policy.ResourceValidationPolicy:
    def validate(args: policy.ResourceValidationArgs, report: Report) -> None:
        for violation in rule(_resource(args), stack_of(args.urn)):
            report(violation.message, args.urn)

    return policy.ResourceValidationPolicy(name=name, description=_description(rule, name), validate=validate,
                                           enforcement_level=policy.EnforcementLevel.MANDATORY)


def stack_policy(name: str, rule: StackRule) -> policy.StackValidationPolicy:
    def validate(args: policy.StackValidationArgs, report: Report) -> None:
        resources = [_resource(planned) for planned in args.resources]
        stack = stack_of(resources[0].urn) if resources else ""
        for violation in rule(resources, stack):
            report(f"{violation.resource}: {violation.message}", violation.urn or None)

    return policy.StackValidationPolicy(name=name, description=_description(rule, name), validate=validate,
                                        enforcement_level=policy.EnforcementLevel.MANDATORY)


def policies() -> list[policy.Policy]:
    return [*(resource_policy(name, rule) for name, rule in RESOURCE_RULES.items() if name not in SYNTH_ONLY),
            *(stack_policy(name, rule) for name, rule in STACK_RULES.items())]
