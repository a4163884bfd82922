"""Small resources that break each rule, and ones that pass: shared by the rule tests and the pack's."""

import json

from policy.rules import Resource


def pod(kind, resources=None, priority=None, namespace="apps", image="repo/app:1.2.3"):
    container = {"name": "app", "image": image}
    if resources is not None:
        container["resources"] = resources
    spec = {"containers": [container]}
    if priority:
        spec["priorityClassName"] = priority
    return Resource(f"kubernetes:apps/v1:{kind}", "app", {
        "kind": kind, "metadata": {"name": "app", "namespace": namespace}, "spec": {"template": {"spec": spec}}})


def vm_template(namespace, requests, limits, priority):
    vm = {"priorityClassName": priority, "domain": {"resources": {"requests": requests, "limits": limits}}}
    return Resource("kubernetes:infrastructure.cluster.x-k8s.io/v1alpha1:KubevirtMachineTemplate", "vm", {
        "kind": "KubevirtMachineTemplate", "metadata": {"name": "vm", "namespace": namespace},
        "spec": {"template": {"spec": {"virtualMachineTemplate": {"spec": {"template": {"spec": vm}}}}}}})


SIZED = {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "32Mi"}}
BUCKET = Resource("aws:s3/bucket:Bucket", "logs-bucket", {"bucket": "logs"}, protect=True)

VIOLATIONS = {
    "requests-and-limits": ([pod("Deployment", resources={"requests": {"cpu": "10m"}})], "prod"),
    "production-guaranteed": ([vm_template("production", {"cpu": "1", "memory": "1Gi"},
                                            {"cpu": "2", "memory": "1Gi"}, "homelab-production")], "prod"),
    "experiment-priority": ([pod("Deployment", SIZED, priority="homelab-production",
                                  namespace="experiment-demo")], "lab"),
    "pinned-versions": ([pod("Deployment", SIZED, image="repo/app:latest")], "prod"),
    "hardened-buckets": ([BUCKET], "prod"),
    "bucket-settings": ([Resource("aws:s3/bucketVersioning:BucketVersioning", "logs-versioning", {
        "bucket": "logs", "versioningConfiguration": {"status": "Suspended"}})], "prod"),
    "secret-credentials": ([Resource("kubernetes:core/v1:Secret", "s", {"stringData": {"password": "hunter2"}})],
                           "prod"),
    "protect-stateful": ([Resource("aws:s3/bucket:Bucket", "b", {"bucket": "b"}, protect=False)], "prod"),
    "experiments-isolated": ([pod("Deployment", SIZED, namespace="production")], "exp-demo"),
}


def hardened_bucket() -> list[Resource]:
    def companion(type_, name, **props):
        return Resource(type_, name, {"bucket": "logs", **props})

    return [
        BUCKET,
        companion("aws:s3/bucketVersioning:BucketVersioning", "logs-versioning",
                  versioningConfiguration={"status": "Enabled"}),
        companion("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                  "logs-encryption", rules=[{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]),
        companion("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "logs-public-access-block",
                  blockPublicAcls=True, blockPublicPolicy=True, ignorePublicAcls=True, restrictPublicBuckets=True),
        companion("aws:s3/bucketPolicy:BucketPolicy", "logs-tls-only", policy=json.dumps(
            {"Statement": [{"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})),
    ]


def passing() -> dict[str, tuple[Resource, str]]:
    """One resource per rule that passes it, with every property a rule judges set: (resource, stack)."""
    exact = {"cpu": "1", "memory": "1Gi"}
    release = Resource("kubernetes:helm.sh/v3:Release", "chart", {"version": "1.2.3", "values": {
        "controller": {"image": {"repository": "repo/app", "tag": "1.2.3"}, "resources": SIZED}}})
    proxy = Resource("kubernetes:addons.cluster.x-k8s.io/v1alpha1:HelmChartProxy", "guest-chart", {
        "kind": "HelmChartProxy", "metadata": {"namespace": "experiment-demo"},
        "spec": {"version": "1.2.3", "valuesTemplate": "resources: " + json.dumps(SIZED)}})
    application = Resource("kubernetes:argoproj.io/v1alpha1:Application", "app", {
        "kind": "Application", "metadata": {"namespace": "argocd"},
        "spec": {"source": {"chart": "app", "targetRevision": "1.2.3"}}})
    manifest = Resource("kubernetes:yaml/v2:ConfigFile", "operator", {
        "file": "https://github.com/o/r/releases/download/v1.6.2/operator.yaml"})
    return {
        "an experiment's workload": (pod("Deployment", SIZED, priority="homelab-experiment",
                                         namespace="experiment-demo"), "exp-demo"),
        "a production VM": (vm_template("production", exact, exact, "homelab-production"), "prod"),
        "an experiment's VM": (vm_template("experiment-demo", exact, exact, "homelab-experiment"), "lab"),
        "a chart release": (release, "prod"), "a guest chart": (proxy, "lab"), "an Argo CD app": (application, "prod"),
        "a release manifest": (manifest, "prod"),
        **{f"bucket part {r.name}": (r, "prod") for r in hardened_bucket()},
    }
