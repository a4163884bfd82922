"""The policy pack as the Pulumi CLI runs it: pulumi-policy's own analyzer server, over gRPC, fed resources in
the shapes the engine sends (secrets marked, values not known yet as the engine's sentinel, lists as lists
the analyzer proxies), resource by resource as before each step and whole as after the last."""

import pytest

from components import stacks
from labctl import engine
from labctl.mocks import HomelabMocks
from labctl.synth import PROJECT_DIR, read_stack_file, runtime_config
from policy.rules import CREDENTIAL_KEYS, RULES, STACK_RULES, SYNTH_ONLY, Resource
from policy.values import SECRET, walk
from tests.policy.analyzer import MANDATORY, UNKNOWN, Pack, Planned, engine_properties, pack_server, secret
from tests.policy.examples import SIZED, VIOLATIONS, passing, pod

pytestmark = pytest.mark.child_process


@pytest.fixture(scope="module")
def pack():
    with pack_server() as server:
        yield server


@pytest.fixture(scope="module")
def first_preview():
    """Prod previewed before anything exists: every id, and all derived from one, unknown."""
    config, secret_keys = runtime_config(read_stack_file("prod"))
    return engine.run_program(stacks.main, mocks=HomelabMocks(first_preview=True), stack="prod", config=config,
                              secret_keys=secret_keys, project_dir=PROJECT_DIR, preview=True).registrations


def _planned(resource: Resource, stack: str, extra_unknowns: bool = False) -> Planned:
    props = dict(resource.props)
    if extra_unknowns:  # values the rule does not judge, not known yet
        props["status"] = UNKNOWN
        props["metadata"] = {**props.get("metadata", {}), "uid": UNKNOWN, "labels": {"owner": UNKNOWN}}
    return Planned(f"urn:pulumi:{stack}::homelab::{resource.type}::{resource.name}", resource.type, resource.name,
                   props, resource.protect)


def _everything(pack: Pack, planned: list[Planned]) -> list:
    return [*(d for resource in planned for d in pack.analyze(resource)), *pack.analyze_stack(planned)]


def test_the_pack_enforces_every_rule_it_can_see(pack):
    assert pack.policies() == {name: MANDATORY for name in RULES if name not in SYNTH_ONLY}


@pytest.mark.parametrize("stack", ["prod", "lab", "experiment"])
def test_every_synthesized_stack_passes_the_pack(stack, request, pack):
    registrations = request.getfixturevalue(stack).registrations
    assert _everything(pack, [Planned.of(r) for r in registrations]) == []


def test_prod_hands_the_pack_secret_credentials_which_it_does_not_call_plain(prod, pack):
    """The analyzer unwraps secrets before a policy sees them, so the pack cannot tell a secret password
    from a plain one; that rule stays with synth, and the pack must not fail every preview over it."""
    secret_credentials = [r for r in prod.registrations
                          if any(path.rsplit(".", 1)[-1] in CREDENTIAL_KEYS and value == SECRET
                                 for path, value in walk(r.inputs))]
    assert secret_credentials
    assert _everything(pack, [Planned.of(r) for r in secret_credentials]) == []


def test_a_first_preview_full_of_unknowns_passes_with_every_rule_running(first_preview, pack):
    """No "can't run policy during preview": an unknown value anywhere leaves every rule running."""
    unknown = [r for r in first_preview if UNKNOWN in str(engine_properties(r.wire))]
    assert len(unknown) > 20, len(unknown)
    assert _everything(pack, [Planned.of(r) for r in first_preview]) == []


@pytest.mark.parametrize("rule", sorted(set(RULES) - SYNTH_ONLY))
@pytest.mark.parametrize("extra_unknowns", [False, True], ids=["known", "with-unknowns"])
def test_the_pack_stops_each_violating_example(rule, extra_unknowns, pack):
    resources, stack = VIOLATIONS[rule]
    planned = [_planned(resource, stack, extra_unknowns) for resource in resources]
    if rule in STACK_RULES:
        found = pack.analyze_stack(planned)
    else:
        found = [d for resource in planned for d in pack.analyze(resource)]
    assert found and {d.policy for d in found} == {rule}
    assert all(d.mandatory and d.urn in {p.urn for p in planned} for d in found)


def test_an_image_inside_a_list_is_judged_through_the_analyzers_list_proxy(pack):
    (found,) = pack.analyze(_planned(pod("Deployment", SIZED, image="repo/app:latest"), "prod"))
    assert "image repo/app:latest at spec.template.spec.containers[0].image is not pinned" in found.message


def test_a_component_its_provider_builds_reaches_the_pack_bare_and_is_not_judged(pack):
    """pulumi-kubernetes registers a yaml/v2 ConfigFile from its Construct with no properties, so the pack gets
    none: its URL is judged in synth, and its objects each on their own."""
    bare = Planned("urn:pulumi:prod::homelab::kubernetes:yaml/v2:ConfigFile::operator",
                   "kubernetes:yaml/v2:ConfigFile", "operator", {})
    assert pack.analyze(bare) == [] and pack.analyze_stack([bare]) == []


def test_a_secret_password_reaches_the_pack_unwrapped_and_is_not_judged(pack):
    planned = Planned("urn:pulumi:prod::homelab::kubernetes:core/v1:Secret::s", "kubernetes:core/v1:Secret", "s",
                      {"stringData": secret({"password": "hunter2"}), "metadata": {"namespace": "apps"}})
    assert pack.analyze(planned) == [] and pack.analyze_stack([planned]) == []


def _leaves(value, path=()):
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path


def _with_unknown(value, path):
    if not path:
        return UNKNOWN
    head, *rest = path
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _with_unknown(value[head], rest)
    return copy


PASSING = passing()


@pytest.mark.parametrize("example", sorted(PASSING))
def test_any_one_value_not_known_yet_is_neither_a_violation_nor_a_skipped_rule(example, pack):
    resource, stack = PASSING[example]
    planned = _planned(resource, stack)
    for leaf in _leaves(dict(planned.properties)):
        unknown = Planned(planned.urn, planned.type, planned.name, _with_unknown(dict(planned.properties), leaf),
                          planned.protect)
        assert pack.analyze(unknown) == [], leaf
