"""The homelab's rules as plain functions over resources: type, name, properties, protect.

Most rules judge one resource at a time, so the CrossGuard pack runs them on each resource's inputs before
its step and a violation stops ``pulumi up`` before anything changes. ``hardened-buckets`` needs a bucket
and its companions together, so it judges the whole stack. ``secret-credentials`` needs to know which
values are secrets: the analyzer hands a pack every secret already unwrapped (pulumi_policy/deserialize.py
@ 1.21.0), so that rule runs only over synth, where Pulumi's secret markers survive. The tests run every
rule over every synthesized stack.

A property the engine does not know yet (see ``policy.values``) is never judged either way.
"""

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from policy.values import SECRET, all_known, at, items, known, mapping, walk

PRODUCTION_PRIORITY, EXPERIMENT_PRIORITY = "homelab-production", "homelab-experiment"
PRODUCTION_NAMESPACE = "production"
POD_TEMPLATE_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
# Resources whose loss loses data: protected in prod.
STATEFUL_TYPES = ("talos:machine/secrets:Secrets", "aws:s3/bucket:Bucket", "kubernetes:core/v1:PersistentVolume")
# Property names whose value is a credential and must be a secret wherever it appears.
CREDENTIAL_KEYS = frozenset({"password", "secret-key", "secretAccessKey", "clientSecret", "client_secret",
                             "admin-password", "privateKey", "kubeconfig", "talosconfig", "cloud"})
# `${NAME}`: a value the workload expands from its environment (filled from a Secret), not a credential.
_ENV_REFERENCE = re.compile(r"\$\{[A-Z0-9_]+\}")
_RANGE = re.compile(r"[\^~*<>|]|\bx\b|latest", re.IGNORECASE)
BUCKET = "aws:s3/bucket:Bucket"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
# Each bucket's companion resources, and what a bucket without one lacks.
COMPANIONS = {VERSIONING: "no versioning configuration", ENCRYPTION: "no default encryption",
              PUBLIC_ACCESS_BLOCK: "no public access block", BUCKET_POLICY: "no bucket policy"}
SSE_ALGORITHMS = frozenset({"AES256", "aws:kms", "aws:kms:dsse"})
PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    props: Mapping[str, Any]
    protect: bool = False
    urn: str = ""


@dataclass(frozen=True)
class Violation:
    rule: str
    resource: str
    message: str
    urn: str = field(default="", compare=False)


ResourceRule = Callable[[Resource, str], Iterator[Violation]]
StackRule = Callable[[Sequence[Resource], str], Iterator[Violation]]


def _violation(rule: str, resource: Resource, message: str) -> Violation:
    return Violation(rule, resource.name, message, resource.urn)


def _kind(resource: Resource) -> str:
    return str(resource.props.get("kind") or resource.type.rsplit(":", 1)[-1])


def _namespace(resource: Resource) -> Any:
    return at(resource.props, "metadata", "namespace")


def _pod_spec(resource: Resource) -> Mapping[str, Any]:
    """The pod template's spec of a workload; empty for anything else, or where it is not known."""
    if _kind(resource) not in POD_TEMPLATE_KINDS:
        return {}
    spec = at(resource.props, "spec")
    if _kind(resource) == "CronJob":
        spec = at(spec, "jobTemplate", "spec")
    return mapping(at(spec, "template", "spec"))


def _vm_spec(resource: Resource) -> Mapping[str, Any]:
    """The VM spec of a KubevirtMachineTemplate; empty for anything else."""
    if _kind(resource) != "KubevirtMachineTemplate":
        return {}
    return mapping(at(resource.props, "spec", "template", "spec", "virtualMachineTemplate", "spec", "template",
                      "spec"))


def _sized(resources: Any) -> bool | None:
    """CPU and memory requests and a memory limit; None when any part of that is not known."""
    requests, limits = at(resources, "requests") or {}, at(resources, "limits") or {}
    if not known(requests, limits):
        return None
    return {"cpu", "memory"} <= set(mapping(requests)) and "memory" in mapping(limits)


def _chart_values(resource: Resource) -> Mapping[str, Any]:
    """The values of a Helm release, or of a chart the Helm add-on provider puts into a guest cluster."""
    if resource.type.startswith("kubernetes:helm.sh/"):
        return mapping(resource.props.get("values"))
    if _kind(resource) == "HelmChartProxy":
        template = at(resource.props, "spec", "valuesTemplate")
        if not (isinstance(template, str) and known(template)):
            return {}
        try:
            return mapping(yaml.safe_load(template))
        except yaml.YAMLError:  # a template that is YAML only once rendered: its sizes are not judged here
            return {}
    return {}


def containers_have_requests_and_limits(resource: Resource, stack: str) -> Iterator[Violation]:
    """Every container the program configures asks for CPU and memory and caps its memory."""
    pod = _pod_spec(resource)
    for container in (*items(pod.get("containers")), *items(pod.get("initContainers"))):
        if _sized(at(container, "resources")) is False:
            yield _violation("requests-and-limits", resource,
                             f"container {at(container, 'name')} lacks CPU/memory requests or a memory limit")
    for path, value in walk(_chart_values(resource)):
        if not (path.endswith("resources") and isinstance(value, Mapping) and value):
            continue
        # Some charts key resources by container (`resources.manager`): check each block.
        blocks = {path: value} if {"requests", "limits"} & set(value) else {
            f"{path}.{name}": block for name, block in value.items()}
        for where, block in blocks.items():
            if _sized(block) is False:
                yield _violation("requests-and-limits", resource, f"values.{where} is not fully sized")


def production_vms_are_guaranteed(resource: Resource, stack: str) -> Iterator[Violation]:
    """Production VMs request exactly their limits and run at the production priority."""
    vm = _vm_spec(resource)
    if not vm or _namespace(resource) != PRODUCTION_NAMESPACE:
        return
    requests, limits = at(vm, "domain", "resources", "requests"), at(vm, "domain", "resources", "limits")
    if all_known(requests, limits) and requests != limits:
        yield _violation("production-guaranteed", resource, "VM requests differ from its limits")
    priority = vm.get("priorityClassName")
    if known(priority) and priority != PRODUCTION_PRIORITY:
        yield _violation("production-guaranteed", resource, f"VM priority is {priority}, not {PRODUCTION_PRIORITY}")


def experiments_never_outrank_production(resource: Resource, stack: str) -> Iterator[Violation]:
    """Nothing in an experiment namespace runs at a priority other than the experiment one."""
    namespace = _namespace(resource)
    if not (isinstance(namespace, str) and namespace.startswith("experiment-")):
        return
    for spec in (_vm_spec(resource), _pod_spec(resource)):
        priority = spec.get("priorityClassName")
        if known(priority) and priority not in (None, EXPERIMENT_PRIORITY):
            yield _violation("experiment-priority", resource, f"runs at {priority} in {namespace}")


def _image_pinned(image: str) -> bool:
    if "@sha256:" in image:
        return True
    tag = image.rsplit("/", 1)[-1].partition(":")[2]
    return bool(tag) and not _RANGE.search(tag)


def _manifest_pinned(url: str) -> bool:
    """A release asset's URL names its release just before the file (``…/download/v1.6.2/x.yaml``); GitHub's
    ``…/releases/latest/download/x.yaml`` follows whatever is newest."""
    folders = url.split("/")[:-1]
    return bool(folders) and "latest" not in (folder.lower() for folder in folders) and not _RANGE.search(folders[-1])


def _declared_versions(resource: Resource) -> Iterator[tuple[str, Any]]:
    props = resource.props
    if resource.type.startswith("kubernetes:helm.sh/"):
        yield "chart version", props.get("version")
    if _kind(resource) == "HelmChartProxy":
        yield "chart version", at(props, "spec", "version")
    if _kind(resource) == "Application" and isinstance(source := at(props, "spec", "source"), Mapping) \
            and "chart" in source:
        yield "chart version", source.get("targetRevision")
    # A ConfigFile is a component its provider builds: the engine hands the pack no inputs of it (the provider's
    # Construct registers it bare), only its objects, which are judged each on their own.
    if resource.type == "kubernetes:yaml/v2:ConfigFile" and "file" in props:
        yield "manifest", props.get("file")


def versions_are_pinned(resource: Resource, stack: str) -> Iterator[Violation]:
    """Every chart, manifest and image version is exact: no `latest`, no ranges, no missing tags."""
    for what, declared in _declared_versions(resource):
        version = str(declared or "")
        if known(version) and not (_manifest_pinned(version) if what == "manifest"
                                   else version and not _RANGE.search(version)):
            yield _violation("pinned-versions", resource, f"{what} {version!r} is not pinned")
    for path, value in walk(resource.props):
        if not (path.endswith("image") and known(value)):
            continue
        if isinstance(value, str) and value and not _image_pinned(value):
            yield _violation("pinned-versions", resource, f"image {value} at {path} is not pinned")
        # Chart values name an image by repository and tag; no tag is the chart's own, pinned by its version.
        tag = str(value.get("tag") or "") if isinstance(value, Mapping) else ""
        if known(tag) and _RANGE.search(tag):
            yield _violation("pinned-versions", resource, f"image tag {tag!r} at {path}.tag is not pinned")


def _denies_plain_http(document: str) -> bool:
    try:
        return "aws:SecureTransport" in json.dumps(json.loads(document))
    except ValueError:
        return False


def bucket_settings_are_hardened(resource: Resource, stack: str) -> Iterator[Violation]:
    """A bucket's versioning is enabled, its default encryption names an algorithm, its public access is fully
    blocked and its policy denies plain HTTP."""
    props = resource.props
    if resource.type == VERSIONING:
        status = at(props, "versioningConfiguration", "status")
        if known(status) and status != "Enabled":
            yield _violation("bucket-settings", resource, "versioning is not enabled")
    if resource.type == ENCRYPTION:
        rules = props.get("rules")
        algorithms = [at(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm") for rule in items(rules)]
        if all_known(rules) and not set(algorithms) & SSE_ALGORITHMS:
            yield _violation("bucket-settings", resource, "default encryption names no algorithm (AES256 or aws:kms)")
    if resource.type == PUBLIC_ACCESS_BLOCK:
        open_ = [flag for flag in PUBLIC_ACCESS_FLAGS if known(props.get(flag)) and props.get(flag) is not True]
        if open_:
            yield _violation("bucket-settings", resource, f"public access is not fully blocked ({', '.join(open_)})")
    if resource.type == BUCKET_POLICY:
        document = props.get("policy")
        if known(document) and not (isinstance(document, str) and _denies_plain_http(document)):
            yield _violation("bucket-settings", resource, "the policy does not deny non-TLS access")


def buckets_are_hardened(resources: Sequence[Resource], stack: str) -> Iterator[Violation]:
    """Each S3 bucket has versioning, default encryption, a public-access block and a bucket policy."""
    buckets = {r.name: r for r in resources if r.type == BUCKET}

    def owner(companion: Resource) -> str | None:
        """The bucket a companion configures: by its ``bucket`` property, else by name (unknown in previews)."""
        named = companion.props.get("bucket")
        for name, bucket in buckets.items():
            if (named is not None and known(named) and named == bucket.props.get("bucket")) or \
                    companion.name.startswith(name.removesuffix("-bucket") + "-"):
                return name
        return None

    configured = {(r.type, name) for r in resources if r.type in COMPANIONS and (name := owner(r)) is not None}
    for name, bucket in buckets.items():
        for type_, what in COMPANIONS.items():
            if (type_, name) not in configured:
                yield _violation("hardened-buckets", bucket, what)


def credentials_are_secret(resource: Resource, stack: str) -> Iterator[Violation]:
    """A credential never appears as a plain input: every credential-named property is a secret."""
    for path, value in walk(resource.props):
        key = re.split(r"[.\[]", path)[-1]
        if (key in CREDENTIAL_KEYS and isinstance(value, str) and known(value) and value != SECRET
                and not _ENV_REFERENCE.fullmatch(value)):
            yield _violation("secret-credentials", resource, f"{path} is a credential in plain text")


_CREDENTIAL_OUTPUT = re.compile(r"password|secret|token|kubeconfig|talosconfig|credentials", re.IGNORECASE)


def credential_outputs_are_secret(outputs: Mapping[str, Any]) -> list[Violation]:
    """Stack outputs that carry credentials are secrets through and through (every leaf)."""
    return [Violation("secret-credentials", name, f"output {path or name} is a credential in plain text")
            for name, value in outputs.items() if _CREDENTIAL_OUTPUT.search(name)
            for path, leaf in walk(value, name) if isinstance(leaf, str) and leaf != SECRET]


def stateful_resources_are_protected(resource: Resource, stack: str) -> Iterator[Violation]:
    """In prod, what holds the only copy of data (machine secrets, buckets, local volumes) is protected."""
    if stack == "prod" and resource.type in STATEFUL_TYPES and not resource.protect:
        yield _violation("protect-stateful", resource, f"{resource.type} is not protected in prod")


def experiments_stay_out_of_production(resource: Resource, stack: str) -> Iterator[Violation]:
    """Nothing in the lab or an experiment stack targets the production namespace."""
    if stack != "prod" and _namespace(resource) == PRODUCTION_NAMESPACE:
        yield _violation("experiments-isolated", resource, f"{stack} declares an object in production")


RESOURCE_RULES: dict[str, ResourceRule] = {
    "requests-and-limits": containers_have_requests_and_limits,
    "production-guaranteed": production_vms_are_guaranteed,
    "experiment-priority": experiments_never_outrank_production,
    "pinned-versions": versions_are_pinned,
    "bucket-settings": bucket_settings_are_hardened,
    "secret-credentials": credentials_are_secret,
    "protect-stateful": stateful_resources_are_protected,
    "experiments-isolated": experiments_stay_out_of_production,
}
STACK_RULES: dict[str, StackRule] = {"hardened-buckets": buckets_are_hardened}
# Rules the pack cannot run: they need Pulumi's secret markers, which the analyzer unwraps.
SYNTH_ONLY = frozenset({"secret-credentials"})
RULES: tuple[str, ...] = (*RESOURCE_RULES, *STACK_RULES)


def check(resources: Sequence[Resource], stack: str, rules: Iterable[str] | None = None) -> list[Violation]:
    chosen = RULES if rules is None else tuple(rules)
    found: list[Violation] = []
    for name in chosen:
        if name in STACK_RULES:
            found.extend(STACK_RULES[name](resources, stack))
        else:
            found.extend(violation for resource in resources for violation in RESOURCE_RULES[name](resource, stack))
    return found
