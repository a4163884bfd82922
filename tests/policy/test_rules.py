"""The rules pass on every synthesized stack, and each one fires on a violating example."""

import json
from unittest.mock import MagicMock

import pulumi_policy
import pytest

from policy.crossguard import plain, policies, resource_of, stack_of
from policy.rules import RULES, Resource, check


def _resources(result):
    return [Resource(r.type, r.name, r.inputs, r.protect) for r in result.registrations]


@pytest.mark.parametrize("stack", ["prod", "lab", "experiment"])
def test_every_synthesized_stack_passes_every_rule(stack, request):
    result = request.getfixturevalue(stack)
    assert check(_resources(result), result.stack) == []


def _pod(kind, resources=None, priority=None, namespace="apps", image="repo/app:1.2.3"):
    container = {"name": "app", "image": image}
    if resources is not None:
        container["resources"] = resources
    spec = {"containers": [container]}
    if priority:
        spec["priorityClassName"] = priority
    return Resource(f"kubernetes:apps/v1:{kind}", "app", {
        "kind": kind, "metadata": {"name": "app", "namespace": namespace}, "spec": {"template": {"spec": spec}}})


def _vm_template(namespace, requests, limits, priority):
    vm = {"priorityClassName": priority, "domain": {"resources": {"requests": requests, "limits": limits}}}
    return Resource("kubernetes:infrastructure.cluster.x-k8s.io/v1alpha1:KubevirtMachineTemplate", "vm", {
        "kind": "KubevirtMachineTemplate", "metadata": {"name": "vm", "namespace": namespace},
        "spec": {"template": {"spec": {"virtualMachineTemplate": {"spec": {"template": {"spec": vm}}}}}}})


SIZED = {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "32Mi"}}
BUCKET = Resource("aws:s3/bucket:Bucket", "logs-bucket", {"bucket": "logs"}, protect=True)

VIOLATIONS = {
    "requests-and-limits": ([_pod("Deployment", resources={"requests": {"cpu": "10m"}})], "prod"),
    "production-guaranteed": ([_vm_template("production", {"cpu": "1", "memory": "1Gi"},
                                            {"cpu": "2", "memory": "1Gi"}, "homelab-production")], "prod"),
    "experiment-priority": ([_pod("Deployment", SIZED, priority="homelab-production",
                                  namespace="experiment-demo")], "lab"),
    "pinned-versions": ([_pod("Deployment", SIZED, image="repo/app:latest")], "prod"),
    "hardened-buckets": ([BUCKET], "prod"),
    "secret-credentials": ([Resource("kubernetes:core/v1:Secret", "s", {"stringData": {"password": "hunter2"}})],
                           "prod"),
    "protect-stateful": ([Resource("aws:s3/bucket:Bucket", "b", {"bucket": "b"}, protect=False)], "prod"),
    "experiments-isolated": ([_pod("Deployment", SIZED, namespace="production")], "exp-demo"),
}


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
    (found,) = check([_pod("Deployment", resources=resources)], "prod", rules=["requests-and-limits"])
    assert "lacks CPU/memory requests or a memory limit" in found.message
    assert check([_pod("Deployment", resources=SIZED)], "prod", rules=["requests-and-limits"]) == []


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
    def companion(type_, name, **props):
        return Resource(type_, name, {"bucket": "logs", **props})

    resources = [
        BUCKET,
        companion("aws:s3/bucketVersioning:BucketVersioning", "logs-versioning",
                  versioningConfiguration={"status": "Enabled"}),
        companion("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                  "logs-encryption"),
        companion("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "logs-public-access-block",
                  blockPublicAcls=True, blockPublicPolicy=True, ignorePublicAcls=True, restrictPublicBuckets=True),
        companion("aws:s3/bucketPolicy:BucketPolicy", "logs-tls-only", policy=json.dumps(
            {"Statement": [{"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})),
    ]
    assert check(resources, "prod", rules=["hardened-buckets"]) == []


def test_the_crossguard_pack_reports_what_the_rules_find():
    assert {p.name for p in policies()} == set(RULES)
    planned = MagicMock(spec=pulumi_policy.PolicyResource)
    planned.resource_type, planned.name, planned.urn = "aws:s3/bucket:Bucket", "b", "urn:pulumi:prod::homelab::x::b"
    planned.props = {"bucket": "b", "tags": {"token": pulumi_policy.Secret("t")}}
    planned.opts = MagicMock(protect=False)
    args = MagicMock(spec=pulumi_policy.StackValidationArgs)
    args.resources = [planned]
    assert stack_of(args) == "prod" and resource_of(planned).props["tags"]["token"] == "[secret]"
    reported: list[str] = []
    protect = next(p for p in policies() if p.name == "protect-stateful")
    protect.validate(args, lambda message, urn: reported.append(message))
    assert reported == ["b: aws:s3/bucket:Bucket is not protected in prod"]
    assert plain([pulumi_policy.Secret("x")]) == ["[secret]"]


@pytest.mark.parametrize("stack", ["prod", "lab", "experiment"])
def test_credential_outputs_are_secret(stack, request):
    from policy.rules import credential_outputs_are_secret

    result = request.getfixturevalue(stack)
    assert credential_outputs_are_secret(result.outputs) == []
    leaked = {**result.outputs, "veleroCredentials": {"accessKeyId": "AKIA", "secretAccessKey": "[secret]"}}
    assert [v.message for v in credential_outputs_are_secret(leaked)] == [
        "output veleroCredentials.accessKeyId is a credential in plain text"]
