"""The homelab's rules as plain functions over resources: type, name, properties, protect.

Each rule takes every resource of a stack (some rules need several at once: a bucket and its versioning)
and the stack's name, and returns violations. The CrossGuard pack wraps each in a stack policy for
`pulumi preview --policy-pack policy`; the tests run the same functions over every synthesized stack.
"""

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

SECRET_MARKERS = ("[secret]",)
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


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    props: Mapping[str, Any]
    protect: bool = False


@dataclass(frozen=True)
class Violation:
    rule: str
    resource: str
    message: str


Rule = Callable[[Sequence[Resource], str], Iterator[Violation]]


def _kind(resource: Resource) -> str:
    return str(resource.props.get("kind") or resource.type.rsplit(":", 1)[-1])


def _namespace(resource: Resource) -> str | None:
    metadata = resource.props.get("metadata")
    return metadata.get("namespace") if isinstance(metadata, Mapping) else None


def _pod_spec(resource: Resource) -> Mapping[str, Any] | None:
    spec = resource.props.get("spec")
    if not isinstance(spec, Mapping) or _kind(resource) not in POD_TEMPLATE_KINDS:
        return None
    if _kind(resource) == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    template = spec.get("template", {})
    return template.get("spec") if isinstance(template, Mapping) else None


def _walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    yield path, value
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")


def _sized(resources: Any) -> bool:
    if not isinstance(resources, Mapping):
        return False
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    return {"cpu", "memory"} <= set(requests) and "memory" in limits


def _chart_values(resource: Resource) -> Mapping[str, Any]:
    """The values of a Helm release, or of a chart the Helm add-on provider puts into a guest cluster."""
    if resource.type.startswith("kubernetes:helm.sh/"):
        return resource.props.get("values") or {}
    if _kind(resource) == "HelmChartProxy":
        template = (resource.props.get("spec") or {}).get("valuesTemplate")
        return (yaml.safe_load(template) or {}) if isinstance(template, str) else {}
    return {}


def containers_have_requests_and_limits(resources: Sequence[Resource], stack: str) -> Iterator[Violation]:
    """Every container the program configures asks for CPU and memory and caps its memory."""
    for resource in resources:
        pod = _pod_spec(resource)
        containers = [*(pod.get("containers") or []), *(pod.get("initContainers") or [])] if pod else []
        for container in containers:
            if not _sized(container.get("resources")):
                yield Violation("requests-and-limits", resource.name,
                                f"container {container.get('name')} lacks CPU/memory requests or a memory limit")
        for path, value in _walk(_chart_values(resource)):
            if not (path.endswith("resources") and isinstance(value, Mapping) and value):
                continue
            # Some charts key resources by container (`resources.manager`): check each block.
            blocks = {path: value} if {"requests", "limits"} & set(value) else {
                f"{path}.{name}": block for name, block in value.items()}
            for where, block in blocks.items():
                if not _sized(block):
                    yield Violation("requests-and-limits", resource.name, f"values.{where} is not fully sized")


def _vm_specs(resource: Resource) -> Iterator[Mapping[str, Any]]:
    if _kind(resource) != "KubevirtMachineTemplate":
        return
    spec = resource.props.get("spec") or {}
    yield spec["template"]["spec"]["virtualMachineTemplate"]["spec"]["template"]["spec"]


def production_vms_are_guaranteed(resources: Sequence[Resource], stack: str) -> Iterator[Violation]:
    """Production VMs request exactly their limits and run at the production priority."""
    for resource in resources:
        if _namespace(resource) != PRODUCTION_NAMESPACE:
            continue
        for vm in _vm_specs(resource):
            sizes = vm.get("domain", {}).get("resources", {})
            if sizes.get("requests") != sizes.get("limits"):
                yield Violation("production-guaranteed", resource.name, "VM requests differ from its limits")
            if vm.get("priorityClassName") != PRODUCTION_PRIORITY:
                yield Violation("production-guaranteed", resource.name,
                                f"VM priority is {vm.get('priorityClassName')}, not {PRODUCTION_PRIORITY}")


def experiments_never_outrank_production(resources: Sequence[Resource], stack: str) -> Iterator[Violation]:
    """Nothing in an experiment namespace runs at a priority other than the experiment one."""
    for resource in resources:
        namespace = _namespace(resource) or ""
        if not namespace.startswith("experiment-"):
            continue
        specs = [*(_vm_specs(resource)), *([_pod_spec(resource)] if _pod_spec(resource) else [])]
        for spec in specs:
            priority = spec.get("priorityClassName") if spec else None
            if priority not in (None, EXPERIMENT_PRIORITY):
                yield Violation("experiment-priority", resource.name, f"runs at {priority} in {namespace}")


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


def versions_are_pinned(resources: Sequence[Resource], stack: str) -> Iterator[Violation]:
    """Every chart, manifest and image version is exact: no `latest`, no ranges, no missing tags."""
    for resource in resources:
        props = resource.props
        versions = []
        if resource.type.startswith("kubernetes:helm.sh/"):
            versions.append(("chart version", str(props.get("version") or "")))
        if _kind(resource) == "HelmChartProxy":
            versions.append(("chart version", str((props.get("spec") or {}).get("version") or "")))
        if _kind(resource) == "Application":
            source = (props.get("spec") or {}).get("source") or {}
            if "chart" in source:
                versions.append(("chart version", str(source.get("targetRevision") or "")))
        if resource.type == "kubernetes:yaml/v2:ConfigFile":
            versions.append(("manifest", str(props.get("file") or "")))
        for what, version in versions:
            if not (_manifest_pinned(version) if what == "manifest" else version and not _RANGE.search(version)):
                yield Violation("pinned-versions", resource.name, f"{what} {version!r} is not pinned")
        for path, value in _walk(props):
            if path.endswith("image") and isinstance(value, str) and "/" in value and not _image_pinned(value):
                yield Violation("pinned-versions", resource.name, f"image {value} at {path} is not pinned")


def buckets_are_hardened(resources: Sequence[Resource], stack: str) -> Iterator[Violation]:
    """Each S3 bucket has versioning, encryption, a full public-access block and a TLS-only policy."""
    buckets = {r.name: r for r in resources if r.type == "aws:s3/bucket:Bucket"}

    def owner(companion: Resource) -> str | None:
        """The bucket a companion configures: by its ``bucket`` property, else by name (unknown in previews)."""
        for name, bucket in buckets.items():
            if companion.props.get("bucket") == bucket.props.get("bucket") is not None or \
                    companion.name.startswith(name.removesuffix("-bucket") + "-"):
                return name
        return None

    def companions(type_: str) -> dict[str, Resource]:
        return {name: r for r in resources if r.type == type_ and (name := owner(r)) is not None}

    versioning = companions("aws:s3/bucketVersioning:BucketVersioning")
    encryption = companions("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    public = companions("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    policies = companions("aws:s3/bucketPolicy:BucketPolicy")
    for name in buckets:
        if (versioning.get(name) is None or
                versioning[name].props.get("versioningConfiguration", {}).get("status") != "Enabled"):
            yield Violation("hardened-buckets", name, "versioning is not enabled")
        if encryption.get(name) is None:
            yield Violation("hardened-buckets", name, "no default encryption")
        block = public.get(name)
        flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        if block is None or not all(block.props.get(flag) is True for flag in flags):
            yield Violation("hardened-buckets", name, "public access is not fully blocked")
        policy = policies.get(name)
        document = json.loads(policy.props.get("policy", "{}")) if policy and isinstance(
            policy.props.get("policy"), str) else {}
        if "aws:SecureTransport" not in json.dumps(document):
            yield Violation("hardened-buckets", name, "no policy denying non-TLS access")


def credentials_are_secret(resources: Sequence[Resource], stack: str) -> Iterator[Violation]:
    """A credential never appears as a plain input: every credential-named property is a secret."""
    for resource in resources:
        for path, value in _walk(resource.props):
            key = re.split(r"[.\[]", path)[-1]
            if (key in CREDENTIAL_KEYS and isinstance(value, str) and value not in SECRET_MARKERS
                    and not _ENV_REFERENCE.fullmatch(value)):
                yield Violation("secret-credentials", resource.name, f"{path} is a credential in plain text")


_CREDENTIAL_OUTPUT = re.compile(r"password|secret|token|kubeconfig|talosconfig|credentials", re.IGNORECASE)


def credential_outputs_are_secret(outputs: Mapping[str, Any]) -> list[Violation]:
    """Stack outputs that carry credentials are secrets through and through (every leaf)."""
    return [Violation("secret-credentials", name, f"output {path or name} is a credential in plain text")
            for name, value in outputs.items() if _CREDENTIAL_OUTPUT.search(name)
            for path, leaf in _walk(value, name) if isinstance(leaf, str) and leaf not in SECRET_MARKERS]


def stateful_resources_are_protected(resources: Sequence[Resource], stack: str) -> Iterator[Violation]:
    """In prod, what holds the only copy of data (machine secrets, buckets, local volumes) is protected."""
    if stack != "prod":
        return
    for resource in resources:
        if resource.type in STATEFUL_TYPES and not resource.protect:
            yield Violation("protect-stateful", resource.name, f"{resource.type} is not protected in prod")


def experiments_stay_out_of_production(resources: Sequence[Resource], stack: str) -> Iterator[Violation]:
    """Nothing in the lab or an experiment stack targets the production namespace."""
    if stack == "prod":
        return
    for resource in resources:
        if _namespace(resource) == PRODUCTION_NAMESPACE:
            yield Violation("experiments-isolated", resource.name, f"{stack} declares an object in production")


RULES: dict[str, Rule] = {
    "requests-and-limits": containers_have_requests_and_limits,
    "production-guaranteed": production_vms_are_guaranteed,
    "experiment-priority": experiments_never_outrank_production,
    "pinned-versions": versions_are_pinned,
    "hardened-buckets": buckets_are_hardened,
    "secret-credentials": credentials_are_secret,
    "protect-stateful": stateful_resources_are_protected,
    "experiments-isolated": experiments_stay_out_of_production,
}


def check(resources: Sequence[Resource], stack: str, rules: Iterable[str] | None = None) -> list[Violation]:
    chosen = RULES if rules is None else {name: RULES[name] for name in rules}
    return [violation for rule in chosen.values() for violation in rule(resources, stack)]
