"""Each rule on the smallest resources that pass it and that break it, one branch at a time."""

import json

import pytest

from policy.rules import (
    BUCKET,
    BUCKET_POLICY,
    ENCRYPTION,
    PUBLIC_ACCESS_BLOCK,
    RULES,
    VERSIONING,
    Resource,
    Violation,
    check,
    credential_outputs_are_secret,
)
from policy.values import UNKNOWN

SIZED = {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "32Mi"}}
UNSIZED = {"requests": {"cpu": "10m"}}


def _workload(kind, spec, namespace="apps", name="app"):
    api = "batch/v1" if kind in ("Job", "CronJob") else "apps/v1"
    return Resource(f"kubernetes:{api}:{kind}", name, {"kind": kind, "metadata": {"namespace": namespace},
                                                       "spec": spec})


def _pod_spec(containers=None, init=None, priority=None):
    spec = {"containers": containers or []}
    if init:
        spec["initContainers"] = init
    if priority:
        spec["priorityClassName"] = priority
    return spec


def _templated(kind, pod_spec, namespace="apps"):
    if kind == "CronJob":
        return _workload(kind, {"jobTemplate": {"spec": {"template": {"spec": pod_spec}}}}, namespace)
    return _workload(kind, {"template": {"spec": pod_spec}}, namespace)


def _messages(resources, rule, stack="prod"):
    found = check(resources, stack, rules=[rule])
    assert all(v.rule == rule and v.resource in {r.name for r in resources} for v in found), found
    return [v.message for v in found]


@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"])
def test_every_pod_template_kind_has_its_containers_and_init_containers_sized(kind):
    sized = _pod_spec([{"name": "a", "resources": SIZED}], init=[{"name": "i", "resources": SIZED}])
    assert _messages([_templated(kind, sized)], "requests-and-limits") == []
    unsized = _pod_spec([{"name": "a", "resources": SIZED}], init=[{"name": "init", "resources": UNSIZED}])
    assert _messages([_templated(kind, unsized)], "requests-and-limits") == [
        "container init lacks CPU/memory requests or a memory limit"]
    bare = _pod_spec([{"name": "bare"}])
    assert _messages([_templated(kind, bare)], "requests-and-limits") == [
        "container bare lacks CPU/memory requests or a memory limit"]


def test_objects_without_a_pod_template_are_not_judged_for_sizing():
    config_map = Resource("kubernetes:core/v1:ConfigMap", "c", {"kind": "ConfigMap", "spec": {
        "template": {"spec": _pod_spec([{"name": "x"}])}}})
    assert _messages([config_map], "requests-and-limits") == []
    no_spec = Resource("kubernetes:apps/v1:Deployment", "d", {"kind": "Deployment", "spec": "unknown"})
    assert _messages([no_spec], "requests-and-limits") == []
    template_not_a_map = _workload("Deployment", {"template": "unknown"})
    assert _messages([template_not_a_map], "requests-and-limits") == []


def test_a_kind_is_read_from_the_object_or_else_from_its_pulumi_type():
    typed = Resource("kubernetes:apps/v1:Deployment", "d", {"spec": {"template": {"spec": _pod_spec([{"name": "x"}])}}})
    assert len(_messages([typed], "requests-and-limits")) == 1


def _release(values):
    return Resource("kubernetes:helm.sh/v3:Release", "chart", {"version": "1.0.0", "values": values})


def test_chart_values_are_sized_block_by_block():
    assert _messages([_release({"controller": {"resources": SIZED}})], "requests-and-limits") == []
    assert _messages([_release({"controller": {"resources": UNSIZED}})], "requests-and-limits") == [
        "values.controller.resources is not fully sized"]
    # Keyed by container: each block judged under its own path.
    assert _messages([_release({"resources": {"manager": UNSIZED, "proxy": SIZED}})], "requests-and-limits") == [
        "values.resources.manager is not fully sized"]
    # An empty block is the chart's own default, and a key merely ending in `resources` is not one.
    assert _messages([_release({"resources": {}, "podResources": "x"})], "requests-and-limits") == []
    assert _messages([_release(None)], "requests-and-limits") == []


def test_a_guest_chart_is_sized_through_its_values_template():
    def proxy(template):
        return Resource("kubernetes:addons.cluster.x-k8s.io/v1alpha1:HelmChartProxy", "p", {
            "kind": "HelmChartProxy", "spec": {"version": "1.0.0", "valuesTemplate": template}})

    assert _messages([proxy("resources:\n  requests: {cpu: 10m}\n")], "requests-and-limits") == [
        "values.resources is not fully sized"]
    assert _messages([proxy("resources: " + json.dumps(SIZED))], "requests-and-limits") == []
    assert _messages([proxy(None), proxy("")], "requests-and-limits") == []


@pytest.mark.parametrize(("resources", "sized"), [
    (SIZED, True), ({"requests": {"cpu": "1", "memory": "1Mi"}, "limits": {"memory": "1Mi", "cpu": "1"}}, True),
    ({"requests": {"cpu": "1", "memory": "1Mi"}}, False), ({"limits": {"memory": "1Mi"}}, False),
    ({"requests": {"cpu": "1", "memory": "1Mi"}, "limits": None}, False), ("100m", False), (None, False)])
def test_sized_means_cpu_and_memory_requests_and_a_memory_limit(resources, sized):
    found = _messages([_templated("Deployment", _pod_spec([{"name": "c", "resources": resources}]))],
                      "requests-and-limits")
    assert (found == []) is sized


def _vm(namespace, requests, limits, priority):
    vm = {"priorityClassName": priority, "domain": {"resources": {"requests": requests, "limits": limits}}}
    return Resource("kubernetes:infrastructure.cluster.x-k8s.io/v1alpha1:KubevirtMachineTemplate", "vm", {
        "kind": "KubevirtMachineTemplate", "metadata": {"namespace": namespace},
        "spec": {"template": {"spec": {"virtualMachineTemplate": {"spec": {"template": {"spec": vm}}}}}}})


EXACT = {"cpu": "1", "memory": "1Gi"}


def test_production_vms_request_their_limits_at_the_production_priority():
    assert _messages([_vm("production", EXACT, EXACT, "homelab-production")], "production-guaranteed") == []
    assert _messages([_vm("production", {"cpu": "500m", "memory": "1Gi"}, EXACT, "homelab-production")],
                     "production-guaranteed") == ["VM requests differ from its limits"]
    assert _messages([_vm("production", EXACT, EXACT, "homelab-experiment")], "production-guaranteed") == [
        "VM priority is homelab-experiment, not homelab-production"]
    # Other namespaces and other kinds are not production's VMs.
    assert _messages([_vm("experiment-x", {"cpu": "1"}, EXACT, None)], "production-guaranteed") == []
    assert _messages([_templated("Deployment", _pod_spec(priority="x"), "production")], "production-guaranteed") == []


def test_nothing_in_an_experiment_namespace_outranks_production():
    rule = "experiment-priority"
    assert _messages([_vm("experiment-x", EXACT, EXACT, "homelab-production")], rule) == [
        "runs at homelab-production in experiment-x"]
    assert _messages([_templated("Job", _pod_spec(priority="system-node-critical"), "experiment-y")], rule) == [
        "runs at system-node-critical in experiment-y"]
    assert _messages([_templated("Job", _pod_spec(priority="homelab-experiment"), "experiment-y"),
                      _templated("Job", _pod_spec(), "experiment-y")], rule) == []
    assert _messages([_templated("Job", _pod_spec(priority="homelab-production"), "production"),
                      _templated("Job", _pod_spec(priority="homelab-production"), "my-experiment-z")], rule) == []


@pytest.mark.parametrize(("image", "pinned"), [
    ("repo/app:1.2.3", True), ("repo/app@sha256:" + "a" * 64, True), ("registry:5000/team/app:v2", True),
    ("repo/app:latest", False), ("repo/app", False), ("registry:5000/app", False), ("repo/app:1.x", False),
    ("repo/app:~1.2", False), ("repo/app:^1", False), ("repo/app:1.*", False), ("repo/app:", False),
    ("repo/app:LATEST", False), ("repo/app:>=1", False), ("repo/app:1|2", False)])
def test_an_image_is_pinned_by_an_exact_tag_or_a_digest(image, pinned):
    pod = _templated("Deployment", _pod_spec([{"name": "c", "image": image, "resources": SIZED}]))
    found = _messages([pod], "pinned-versions")
    assert found == ([] if pinned else [f"image {image} at spec.template.spec.containers[0].image is not pinned"])


def test_only_fields_named_image_are_images_and_a_library_image_needs_its_tag_too():
    props = {"imageName": "repo/app:latest", "spec": {"image": 3}, "imagePolicy": "repo/x", "init": {"image": ""}}
    assert _messages([Resource("kubernetes:v1:Thing", "t", props)], "pinned-versions") == []
    bare = {"a": {"image": "busybox"}, "b": {"image": "nginx:latest"}, "c": {"image": "busybox:1.37.0"}}
    assert _messages([Resource("kubernetes:v1:Thing", "t", bare)], "pinned-versions") == [
        "image busybox at a.image is not pinned", "image nginx:latest at b.image is not pinned"]


@pytest.mark.parametrize(("tag", "pinned"), [("1.2.3", True), (None, True), ("", True), (1.5, True),
                                             ("latest", False), ("1.x", False), ("~1.2", False)])
def test_a_chart_values_image_is_pinned_by_its_tag_or_else_by_the_chart(tag, pinned):
    image = {"repository": "repo/app", **({} if tag is None else {"tag": tag})}
    found = _messages([_release({"controller": {"image": image}})], "pinned-versions")
    assert found == ([] if pinned else [f"image tag {tag!r} at values.controller.image.tag is not pinned"])


@pytest.mark.parametrize(("version", "pinned"), [("1.20.2", True), ("v0.10.4", True), ("", False),
                                                 ("1.20.x", False), ("~1.20", False), (None, False)])
def test_chart_versions_are_exact_for_releases_guest_charts_and_argo_applications(version, pinned):
    release = Resource("kubernetes:helm.sh/v3:Release", "r", {"version": version})
    chart = Resource("kubernetes:helm.sh/v4:Chart", "c", {"version": version})
    proxy = Resource("kubernetes:addons.cluster.x-k8s.io/v1alpha1:HelmChartProxy", "p",
                     {"kind": "HelmChartProxy", "spec": {"version": version}})
    app = Resource("kubernetes:argoproj.io/v1alpha1:Application", "a",
                   {"kind": "Application", "spec": {"source": {"chart": "x", "targetRevision": version}}})
    found = _messages([release, chart, proxy, app], "pinned-versions")
    assert found == ([] if pinned else [f"chart version {str(version or '')!r} is not pinned"] * 4)


def test_an_application_from_git_is_not_a_chart_and_a_proxy_without_spec_is_unpinned():
    git_app = Resource("kubernetes:argoproj.io/v1alpha1:Application", "a",
                       {"kind": "Application", "spec": {"source": {"repoURL": "x", "targetRevision": "HEAD"}}})
    assert _messages([git_app], "pinned-versions") == []
    assert _messages([Resource("kubernetes:argoproj.io/v1alpha1:Application", "b", {"kind": "Application"})],
                     "pinned-versions") == []
    assert _messages([Resource("kubernetes:x/v1:HelmChartProxy", "p", {"kind": "HelmChartProxy"})],
                     "pinned-versions") == ["chart version '' is not pinned"]


@pytest.mark.parametrize(("file", "pinned"), [
    ("https://github.com/o/r/releases/download/v1.6.2/operator.yaml", True),
    ("https://github.com/o/r/releases/latest/download/operator.yaml", False),
    ("https://example.com/o/r/releases/download/v1.x/operator.yaml", False),
    ("https://github.com/o/r/releases/LATEST/download/v1.0.0/operator.yaml", False), ("operator.yaml", False),
    ("", False)])
def test_a_manifest_is_pinned_by_the_release_in_its_url(file, pinned):
    manifest = Resource("kubernetes:yaml/v2:ConfigFile", "m", {"file": file})
    assert _messages([manifest], "pinned-versions") == ([] if pinned else [f"manifest {file!r} is not pinned"])


def _bucket_set(name="logs", **overrides):
    bucket = Resource("aws:s3/bucket:Bucket", f"{name}-bucket", {"bucket": name})
    policy = json.dumps({"Statement": [{"Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})
    parts = {
        "versioning": Resource("aws:s3/bucketVersioning:BucketVersioning", f"{name}-versioning",
                               {"bucket": name, "versioningConfiguration": {"status": "Enabled"}}),
        "encryption": Resource("aws:s3/bucketServerSideEncryptionConfiguration:"
                               "BucketServerSideEncryptionConfiguration", f"{name}-sse", {"bucket": name, "rules": [
                                   {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]}),
        "public": Resource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", f"{name}-public", {
            "bucket": name, "blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
            "restrictPublicBuckets": True}),
        "policy": Resource("aws:s3/bucketPolicy:BucketPolicy", f"{name}-tls", {"bucket": name, "policy": policy}),
    }
    parts.update(overrides)
    return [bucket, *(part for part in parts.values() if part is not None)]


def test_a_bucket_with_all_four_companions_is_hardened():
    assert _messages(_bucket_set(), "hardened-buckets") == _messages(_bucket_set(), "bucket-settings") == []


def test_companions_belong_to_a_bucket_by_its_name_when_the_bucket_property_is_unknown():
    for unknown in (None, UNKNOWN):
        renamed = [Resource(r.type, r.name, {**r.props, "bucket": unknown}) for r in _bucket_set()]
        assert _messages(renamed, "hardened-buckets") == []
    strangers = [Resource(r.type, f"other-{r.name}", {**r.props, "bucket": "other"}) for r in _bucket_set()[1:]]
    assert len(_messages([_bucket_set()[0], *strangers], "hardened-buckets")) == 4
    unknown_strangers = [Resource(r.type, f"other-{r.name}", {**r.props, "bucket": UNKNOWN})
                         for r in _bucket_set()[1:]]
    assert len(_messages([Resource(BUCKET, "logs-bucket", {"bucket": UNKNOWN}), *unknown_strangers],
                         "hardened-buckets")) == 4


@pytest.mark.parametrize(("part", "message"), [
    ("versioning", "no versioning configuration"), ("encryption", "no default encryption"),
    ("public", "no public access block"), ("policy", "no bucket policy")])
def test_each_missing_companion_is_named_on_its_bucket(part, message):
    found = check(_bucket_set(**{part: None}), "prod", rules=["hardened-buckets"])
    assert found == [Violation("hardened-buckets", "logs-bucket", message)]


@pytest.mark.parametrize(("props", "message"), [
    ({"versioningConfiguration": {"status": "Suspended"}}, "versioning is not enabled"),
    ({}, "versioning is not enabled"),
    ({"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": "true"},
     "public access is not fully blocked (restrictPublicBuckets)"),
    ({"blockPublicAcls": False, "ignorePublicAcls": True}, "public access is not fully blocked "
     "(blockPublicAcls, blockPublicPolicy, restrictPublicBuckets)"),
    ({"policy": "{}"}, "the policy does not deny non-TLS access"),
    ({"policy": None}, "the policy does not deny non-TLS access"),
    ({"policy": "not json"}, "the policy does not deny non-TLS access"),
    ({"rules": []}, "default encryption names no algorithm (AES256 or aws:kms)"),
    ({"rules": [{"bucketKeyEnabled": True}]}, "default encryption names no algorithm (AES256 or aws:kms)"),
    ({"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "none"}}]},
     "default encryption names no algorithm (AES256 or aws:kms)"),
])
def test_each_weak_setting_is_named_on_its_companion(props, message):
    type_ = next(t for t, keys in ((VERSIONING, {"versioningConfiguration"}), (BUCKET_POLICY, {"policy"}),
                                   (PUBLIC_ACCESS_BLOCK, {"blockPublicAcls"}), (ENCRYPTION, {"rules"}))
                 if keys & set(props) or (not props and t == VERSIONING))
    found = check([Resource(type_, "logs-part", {"bucket": "logs", **props})], "prod", rules=["bucket-settings"])
    assert found == [Violation("bucket-settings", "logs-part", message)]


@pytest.mark.parametrize("props", [
    {"versioningConfiguration": UNKNOWN}, {"versioningConfiguration": {"status": UNKNOWN}},
    {"blockPublicAcls": UNKNOWN, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True},
    {"policy": UNKNOWN}, {"rules": UNKNOWN}, {"rules": [{"applyServerSideEncryptionByDefault": UNKNOWN}]}])
def test_a_setting_not_known_yet_is_not_judged(props):
    type_ = VERSIONING if "versioningConfiguration" in props else BUCKET_POLICY if "policy" in props \
        else ENCRYPTION if "rules" in props else PUBLIC_ACCESS_BLOCK
    assert check([Resource(type_, "logs-part", props)], "prod", rules=["bucket-settings"]) == []


@pytest.mark.parametrize(("props", "path"), [
    ({"stringData": {"password": "hunter2"}}, "stringData.password"),
    ({"users": [{"name": "a", "secretAccessKey": "k"}]}, "users[0].secretAccessKey"),
    ({"kubeconfig": "apiVersion: v1"}, "kubeconfig"), ({"data": {"cloud": "[default]"}}, "data.cloud")])
def test_a_credential_in_plain_text_is_named_by_its_path(props, path):
    assert check([Resource("kubernetes:core/v1:Secret", "s", props)], "prod", rules=["secret-credentials"]) == [
        Violation("secret-credentials", "s", f"{path} is a credential in plain text")]


def test_secrets_env_references_and_other_keys_are_not_plain_credentials():
    props = {"password": "[secret]", "env": {"password": "${ADMIN_PASSWORD}"}, "passwordFile": "/etc/p",
             "secret-key": 5, "note": "password: x", "prefix": {"password": "x${Y}"}}
    assert _messages([Resource("kubernetes:core/v1:Secret", "s", props)], "secret-credentials") == [
        "prefix.password is a credential in plain text"]


def test_credential_outputs_must_be_secret_in_every_leaf():
    outputs = {"kubeconfig": "[secret]", "s3Credentials": {"accessKey": "[secret]", "secretKey": "plain"},
               "endpoint": "https://x", "adminToken": ["[secret]", "t0ken"], "vipTalosconfig": 3}
    assert credential_outputs_are_secret(outputs) == [
        Violation("secret-credentials", "s3Credentials",
                  "output s3Credentials.secretKey is a credential in plain text"),
        Violation("secret-credentials", "adminToken", "output adminToken[1] is a credential in plain text")]
    assert credential_outputs_are_secret({"PASSWORD": "x"}) == [
        Violation("secret-credentials", "PASSWORD", "output PASSWORD is a credential in plain text")]


@pytest.mark.parametrize("type_", ["talos:machine/secrets:Secrets", "aws:s3/bucket:Bucket",
                                   "kubernetes:core/v1:PersistentVolume"])
def test_what_holds_the_only_copy_of_data_is_protected_in_prod(type_):
    assert check([Resource(type_, "x", {}, protect=False)], "prod", rules=["protect-stateful"]) == [
        Violation("protect-stateful", "x", f"{type_} is not protected in prod")]
    assert check([Resource(type_, "x", {}, protect=True)], "prod", rules=["protect-stateful"]) == []
    assert check([Resource(type_, "x", {}, protect=False)], "lab", rules=["protect-stateful"]) == []
    assert check([Resource("kubernetes:core/v1:ConfigMap", "x", {})], "prod", rules=["protect-stateful"]) == []


def test_only_prod_may_declare_objects_in_production():
    in_production = Resource("kubernetes:core/v1:ConfigMap", "c", {"metadata": {"namespace": "production"}})
    elsewhere = Resource("kubernetes:core/v1:ConfigMap", "d", {"metadata": {"namespace": "production-x"}})
    unnamed = Resource("kubernetes:core/v1:ConfigMap", "e", {"metadata": "unknown"})
    assert check([in_production, elsewhere, unnamed], "exp-demo", rules=["experiments-isolated"]) == [
        Violation("experiments-isolated", "c", "exp-demo declares an object in production")]
    assert check([in_production], "prod", rules=["experiments-isolated"]) == []


def test_check_runs_every_rule_unless_told_which():
    resources = [Resource("aws:s3/bucket:Bucket", "b-bucket", {"bucket": "b"})]
    assert {v.rule for v in check(resources, "prod")} == {"hardened-buckets", "protect-stateful"}
    assert {v.rule for v in check(resources, "prod", rules=["protect-stateful"])} == {"protect-stateful"}
    assert check(resources, "prod", rules=[]) == []
    assert list(RULES) == sorted(RULES, key=list(RULES).index)


def test_the_kind_an_object_declares_wins_over_its_pulumi_type():
    declared = Resource("kubernetes:example.com/v1:Custom", "c", {
        "kind": "Deployment", "spec": {"template": {"spec": _pod_spec([{"name": "x"}])}}})
    assert _messages([declared], "requests-and-limits") == ["container x lacks CPU/memory requests or a memory limit"]


def test_a_resource_of_another_namespace_first_does_not_end_the_search():
    elsewhere = _templated("Job", _pod_spec(priority="homelab-production"), "apps")
    note = Resource("kubernetes:core/v1:ConfigMap", "note", {"metadata": {"namespace": "experiment-x"}})
    late = _templated("Job", _pod_spec(priority="homelab-production"), "experiment-x")
    assert _messages([elsewhere, note, late], "experiment-priority") == ["runs at homelab-production in experiment-x"]
    vm_elsewhere = _vm("apps", EXACT, EXACT, None)
    bare = Resource(_vm("production", EXACT, EXACT, None).type, "bare", {
        "kind": "KubevirtMachineTemplate", "metadata": {"namespace": "production"},
        "spec": {"template": {"spec": {"virtualMachineTemplate": {"spec": {"template": {"spec": {
            "priorityClassName": "homelab-production"}}}}}}}})
    late_vm = _vm("production", {"cpu": "1"}, EXACT, "homelab-production")
    assert _messages([vm_elsewhere, bare, late_vm], "production-guaranteed") == ["VM requests differ from its limits"]


@pytest.mark.parametrize(("rule", "resource"), [
    ("requests-and-limits", _templated("Deployment", _pod_spec([{"name": "c", "resources": UNKNOWN}]))),
    ("requests-and-limits", _templated("Deployment", _pod_spec([{"name": "c", "resources": {
        "requests": UNKNOWN, "limits": {"memory": "1Mi"}}}]))),
    ("requests-and-limits", _templated("Deployment", _pod_spec([{"name": "c", "resources": {
        "requests": {"cpu": "1", "memory": "1Mi"}, "limits": UNKNOWN}}]))),
    ("requests-and-limits", _workload("Deployment", {"template": UNKNOWN})),
    ("requests-and-limits", _templated("Deployment", {"containers": UNKNOWN})),
    ("requests-and-limits", _release({"controller": {"resources": {"manager": UNKNOWN}}})),
    ("requests-and-limits", _release(UNKNOWN)),
    ("requests-and-limits", Resource("kubernetes:x/v1:HelmChartProxy", "p", {
        "kind": "HelmChartProxy", "spec": {"version": "1.0.0", "valuesTemplate": UNKNOWN}})),
    ("production-guaranteed", _vm("production", UNKNOWN, EXACT, "homelab-production")),
    ("production-guaranteed", _vm("production", EXACT, UNKNOWN, "homelab-production")),
    ("production-guaranteed", _vm("production", EXACT, EXACT, UNKNOWN)),
    ("production-guaranteed", _vm("production", {"cpu": "1", "memory": UNKNOWN}, EXACT, "homelab-production")),
    ("production-guaranteed", _vm(UNKNOWN, {"cpu": "1"}, EXACT, "x")),
    ("experiment-priority", _vm("experiment-x", EXACT, EXACT, UNKNOWN)),
    ("experiment-priority", _templated("Job", _pod_spec(priority="homelab-production"), UNKNOWN)),
    ("pinned-versions", Resource("kubernetes:helm.sh/v3:Release", "r", {"version": UNKNOWN})),
    ("pinned-versions", Resource("kubernetes:yaml/v2:ConfigFile", "m", {"file": UNKNOWN})),
    ("pinned-versions", _templated("Deployment", _pod_spec([{"name": "c", "image": UNKNOWN}]))),
    ("pinned-versions", _release({"controller": {"image": {"repository": "repo/app", "tag": UNKNOWN}}})),
    ("pinned-versions", _release({"controller": {"image": UNKNOWN}})),
    ("pinned-versions", Resource("kubernetes:x/v1:Application", "a", {
        "kind": "Application", "spec": {"source": {"chart": "x", "targetRevision": UNKNOWN}}})),
    ("secret-credentials", Resource("kubernetes:core/v1:Secret", "s", {"stringData": {"password": UNKNOWN}})),
    ("experiments-isolated", Resource("kubernetes:core/v1:ConfigMap", "c", {"metadata": {"namespace": UNKNOWN}})),
    ("experiments-isolated", Resource("kubernetes:core/v1:ConfigMap", "c", {"metadata": UNKNOWN})),
])
def test_a_value_not_known_yet_is_never_judged(rule, resource):
    """In a preview, what the engine cannot know yet (an id, a name derived from one) is left to the
    analysis before the resource's own step, where it is known; it is never a violation now."""
    assert check([resource], "exp-demo" if rule == "experiments-isolated" else "prod", rules=[rule]) == []


def test_what_the_pack_is_not_handed_is_not_judged():
    """A ConfigFile reaches the pack without its inputs (its provider builds it), and a guest chart's values
    template may be YAML only once Cluster API renders it: neither is a violation, nor a crash."""
    assert check([Resource("kubernetes:yaml/v2:ConfigFile", "m", {})], "prod", rules=["pinned-versions"]) == []
    template = Resource("kubernetes:x/v1:HelmChartProxy", "p", {
        "kind": "HelmChartProxy", "spec": {"version": "1.0.0", "valuesTemplate": "a: {{ .Cluster.name }\n: ["}})
    assert check([template], "lab", rules=["requests-and-limits"]) == []


def test_a_companion_belongs_to_its_bucket_by_the_bucket_it_names_whatever_its_own_name():
    renamed = [Resource(r.type, f"tls-and-more-{index}", r.props) for index, r in enumerate(_bucket_set()[1:])]
    assert _messages([_bucket_set()[0], *renamed], "hardened-buckets") == []


def test_a_violation_names_the_urn_of_what_broke_the_rule():
    urn = "urn:pulumi:prod::homelab::aws:s3/bucket:Bucket::b"
    (found,) = check([Resource("aws:s3/bucket:Bucket", "b", {}, urn=urn)], "prod", rules=["protect-stateful"])
    assert found.urn == urn
    (missing,) = check([Resource(BUCKET, "logs-bucket", {"bucket": "logs"}, urn=urn), *_bucket_set()[2:]], "prod",
                       rules=["hardened-buckets"])
    assert (missing.message, missing.urn) == ("no versioning configuration", urn)


def test_a_resources_block_with_only_limits_is_one_block_not_a_container_named_limits():
    assert _messages([_release({"resources": {"limits": {"memory": "1Mi"}}})], "requests-and-limits") == [
        "values.resources is not fully sized"]
