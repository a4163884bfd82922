"""The rules pass on every synthesized stack, and each one fires on a violating example."""

import pytest

from labctl import engine
from policy import values
from policy.rules import RULES, Resource, check
from tests.policy.examples import SIZED, VIOLATIONS, hardened_bucket, pod


def _resources(result):
    return [Resource(r.type, r.name, r.inputs, r.protect) for r in result.registrations]


@pytest.mark.parametrize("stack", ["prod", "lab", "experiment"])
def test_every_synthesized_stack_passes_every_rule(stack, request):
    result = request.getfixturevalue(stack)
    assert check(_resources(result), result.stack) == []


def test_every_rule_has_a_violating_example():
    assert set(VIOLATIONS) == set(RULES)


@pytest.mark.parametrize("rule", sorted(VIOLATIONS))
def test_each_rule_fires_on_its_violating_example(rule):
    resources, stack = VIOLATIONS[rule]
    found = check(resources, stack, rules=[rule])
    assert found and {v.rule for v in found} == {rule}


@pytest.mark.parametrize("resources", [
    {"requests": {"cpu": "10m", "memory": "16Mi"}},  # no memory limit
    {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "1"}},  # a CPU limit is not a memory limit
    {"requests": {"memory": "16Mi"}, "limits": {"memory": "32Mi"}},  # no CPU request
    {"requests": {"cpu": "10m"}, "limits": {"memory": "32Mi"}},  # no memory request
])
def test_a_container_is_sized_only_with_cpu_and_memory_requests_and_a_memory_limit(resources):
    (found,) = check([pod("Deployment", resources=resources)], "prod", rules=["requests-and-limits"])
    assert "lacks CPU/memory requests or a memory limit" in found.message
    assert check([pod("Deployment", resources=SIZED)], "prod", rules=["requests-and-limits"]) == []


def test_a_chart_put_into_a_guest_with_unsized_values_is_caught():
    values = "chaosDaemon:\n  resources:\n    requests: {cpu: 25m}\n"
    proxy = Resource("kubernetes:addons.cluster.x-k8s.io/v1alpha1:HelmChartProxy", "chaos", {
        "kind": "HelmChartProxy", "metadata": {"name": "chaos"}, "spec": {"valuesTemplate": values}})
    (found,) = check([proxy], "lab", rules=["requests-and-limits"])
    assert "values.chaosDaemon.resources is not fully sized" in found.message


@pytest.mark.parametrize(("version", "pinned"), [("1.2.3", True), ("^1.2", False), ("~1.2", False),
                                                 ("1.x", False), ("latest", False), ("", False)])
def test_chart_versions_must_be_exact(version, pinned):
    release = Resource("kubernetes:helm.sh/v3:Release", "r", {"version": version, "values": {}})
    assert (check([release], "prod", rules=["pinned-versions"]) == []) is pinned


def test_a_hardened_bucket_passes():
    assert check(hardened_bucket(), "prod", rules=["hardened-buckets", "bucket-settings"]) == []


def test_the_rules_read_the_markers_synth_writes():
    assert (values.SECRET, values.UNKNOWN) == (engine.SECRET, engine.UNKNOWN)


@pytest.mark.parametrize("stack", ["prod", "lab", "experiment"])
def test_credential_outputs_are_secret(stack, request):
    from policy.rules import credential_outputs_are_secret

    result = request.getfixturevalue(stack)
    assert credential_outputs_are_secret(result.outputs) == []
    leaked = {**result.outputs, "veleroCredentials": {"accessKeyId": "AKIA", "secretAccessKey": "[secret]"}}
    assert [v.message for v in credential_outputs_are_secret(leaked)] == [
        "output veleroCredentials.accessKeyId is a credential in plain text"]
