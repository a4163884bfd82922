"""The homelab's stack configuration: one typed model, validated before any resource is registered.

Config lives under the ``homelab:`` namespace of ``Pulumi.<stack>.yaml`` as a few structured keys
(``role``, ``cluster``, ``nodes``, ``versions``) plus one top-level key per secret. ``load_config`` reads
them from the Pulumi runtime, ``parse_config`` validates them; every problem becomes a ``ConfigIssue`` that
names the key path (``homelab:nodes[2].ip``) and says how to fix it. Components receive the validated
model and never call ``pulumi.Config`` themselves.
"""

import difflib
import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import pulumi
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    Strict,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import core_schema

from components import versions
from components.address_ranges import API_SERVER_PORT, CLUSTER_RANGES
from components.boards import BOARDS, Architecture
from components.quantities import cpu_millicores, disk_mib, format_mib, memory_mib

NAMESPACE = "homelab"
Role = Literal["platform", "lab"]


class Secret:
    """A secret config value. It never prints, and it only ever leaves as a secret ``pulumi.Output``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "Secret('[secret]')"

    __str__ = __repr__

    def output(self) -> pulumi.Output[str]:
        return pulumi.Output.secret(self._value)

    def __len__(self) -> int:
        """Its length, which rules may judge without the value leaving the object."""
        return len(self._value)

    def satisfies(self, check: Callable[[str], bool]) -> bool:
        """Whether the value passes ``check``: only the verdict leaves the object."""
        return bool(check(self._value))

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            cls,
            core_schema.str_schema(min_length=1),
            serialization=core_schema.plain_serializer_function_ser_schema(repr),
        )


def _fixable(problem: str, fix: str) -> ValueError:
    return ValueError(f"{problem} — fix: {fix}")


def _dns_label(value: str) -> str:
    if not re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", value):
        raise _fixable(f"{value!r} is not a DNS label", "use 1-63 lowercase letters, digits and '-'")
    return value


def _semver(value: str) -> str:
    if not re.fullmatch(r"v\d+\.\d+\.\d+", value):
        raise _fixable(f"{value!r} is not a pinned version", "write it as vMAJOR.MINOR.PATCH, e.g. v1.12.11")
    return value


def _positive(value: str, parse: Callable[[str], int], what: str, examples: str) -> str:
    """``value`` if ``parse`` reads it as a positive quantity of ``what``."""
    try:
        amount = parse(value)
    except ValueError as error:
        raise _fixable(str(error), f"write {what} like {examples}") from None
    if amount <= 0:
        raise _fixable(f"{value!r} is no {what} at all", f"give a positive quantity, like {examples}")
    return value


def _cpu(value: str) -> str:
    return _positive(value, cpu_millicores, "CPU", "1, 0.5 or 250m")


def _memory(value: str) -> str:
    return _positive(value, memory_mib, "memory", "512Mi or 2Gi")


# Each cron field's range (minute, hour, day of month, month, day of week; 7 is Sunday too).
_CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7))


def _cron_part_ok(part: str, low: int, high: int) -> bool:
    base, _, step = part.partition("/")
    if step and not (step.isdigit() and int(step) > 0):
        return False
    if base == "*":
        return True
    start, _, stop = base.partition("-")
    numbers = [start, stop] if stop else [start]
    return all(n.isdigit() and low <= int(n) <= high for n in numbers) and (not stop or int(start) <= int(stop))


def _cron(value: str) -> str:
    """A five-field cron schedule as Kubernetes and Velero read it, every number inside its field's range."""
    fields = value.split()
    if len(fields) != len(_CRON_FIELDS):
        raise _fixable(f"{value!r} is not a five-field cron schedule", "write minute hour day month weekday, "
                       "e.g. '0 3 * * *' (daily at 03:00)")
    for text, (name, low, high) in zip(fields, _CRON_FIELDS, strict=True):
        if not all(_cron_part_ok(part, low, high) for part in text.split(",")):
            raise _fixable(f"{value!r}: {text!r} is not a valid {name} ({low}-{high}, *, a-b or */n)",
                           "e.g. '0 3 * * *' (daily at 03:00)")
    return value


# The longest time to live an experiment may ask for; expiry is computed from it.
MAX_TTL_HOURS = 90 * 24


def _ttl(value: str) -> str:
    match = re.fullmatch(r"([1-9][0-9]{0,4})([hd])", value)
    if match is None:
        raise _fixable(f"{value!r} is not a time to live", "write hours or days, e.g. 8h or 7d")
    hours = int(match[1]) * (24 if match[2] == "d" else 1)
    if hours > MAX_TTL_HOURS:
        raise _fixable(f"{value!r} is longer than an experiment may live", f"ask for at most {MAX_TTL_HOURS // 24}d")
    return value


def _a_list(value: Any) -> Any:
    if isinstance(value, str):
        raise _fixable(f"{value!r} is a single value where a list belongs", f"write it as a list: [{value}]")
    return value


def _chart_version(value: str) -> str:
    if not re.fullmatch(r"v?\d+\.\d+\.\d+", value):
        raise _fixable(f"{value!r} is not an exact chart version", "write the chart's own version, e.g. 1.20.0")
    return value


def _known_board(board: str) -> str:
    if board not in BOARDS:
        raise _fixable(f"unknown board {board!r}", f"use one of {', '.join(sorted(BOARDS))}")
    return board


def _pinned(image: str) -> str:
    # The field's pattern already demands a tag or a digest; `latest` is a tag that pins nothing.
    if image.endswith(":latest"):
        raise _fixable(f"{image!r} is not pinned", "name an exact release tag or a digest")
    return image


def _odd(count: int) -> int:
    if count % 2 == 0:
        raise _fixable(f"{count} control planes cannot keep etcd quorum through a failure",
                       "use an odd number (1, 3 or 5)")
    return count


def _distinct_zones(zones: tuple[str, ...]) -> tuple[str, ...]:
    # Each zone becomes a machine template named after it, beside the control plane's.
    if "control-plane" in zones:
        raise _fixable("'control-plane' is the control plane's own machine template, not a zone",
                       "name the zone something else, e.g. zone-c")
    repeated = sorted({zone for zone in zones if zones.count(zone) > 1})
    if repeated:
        raise _fixable(f"zone {', '.join(repeated)} is listed more than once", "list each zone once")
    return zones


def _check_record_target(kind: str, target: str, proxied: bool) -> None:
    if kind not in ("A", "AAAA"):
        return
    try:
        address = ipaddress.ip_address(target)
    except ValueError:
        raise _fixable(f"{target!r} is not an IP address for an {kind} record",
                       "put an address in `target`, or use type CNAME for a host name") from None
    if proxied and address.is_private:
        raise _fixable(f"{target} is a private address and cannot be proxied by Cloudflare",
                       "set `proxied: false` (private and tailnet addresses are served as DNS only)")


def _check_limit_holds_the_request(request: str, limit: str) -> None:
    if memory_mib(limit) < memory_mib(request):
        raise _fixable(f"memoryLimit {limit} is below the request memory {request}",
                       "raise memoryLimit to at least the request (the container could never start)")


DnsLabel = Annotated[str, AfterValidator(_dns_label)]
Board = Annotated[str, AfterValidator(_known_board)]
PinnedImage = Annotated[str, AfterValidator(_pinned)]
Zones = Annotated[tuple[DnsLabel, ...], BeforeValidator(_a_list), AfterValidator(_distinct_zones)]
ChartVersion = Annotated[str, AfterValidator(_chart_version)]
Version = Annotated[str, AfterValidator(_semver)]
CpuQuantity = Annotated[str, AfterValidator(_cpu)]
MemoryQuantity = Annotated[str, AfterValidator(_memory)]
DiskSize = Annotated[str, Field(pattern=r"^[1-9][0-9]*(MiB|GiB|TiB|MB|GB|TB)$")]
# Whole numbers as YAML writes them: `true` is not 1.
Count = Annotated[int, Strict()]
CronSchedule = Annotated[str, AfterValidator(_cron)]
Ttl = Annotated[str, AfterValidator(_ttl)]
# A century of days: retention and lock periods past it are typing mistakes (and overflow date arithmetic).
MAX_DAYS = 36_500
# S3 bucket naming rules: 3-63 lowercase letters, digits, dots and hyphens, starting and ending alphanumeric.
BucketName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]


class StrictModel(BaseModel):
    """Config models: camelCase keys as in the YAML, unknown keys rejected, immutable once validated."""

    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True
    )


class Node(StrictModel):
    """One physical machine of the inventory."""

    name: DnsLabel
    ip: ipaddress.IPv4Address
    role: Literal["controlplane", "worker"]
    board: Board
    arch: Architecture
    install_disk: str = Field(pattern=r"^/dev/[a-z0-9/]+$")
    # Disk for the storage layer's user volume; the install disk when the node has only one SSD.
    storage_disk: str | None = Field(default=None, pattern=r"^/dev/[a-z0-9/]+$")
    zone: DnsLabel
    # The wired LAN interface; defaults to the board's usual name for it.
    link: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9.-]{0,14}$")

    @property
    def lan_link(self) -> str:
        return self.link or BOARDS[self.board].lan_link

    @property
    def storage_on_install_disk(self) -> bool:
        return self.storage_disk in (None, self.install_disk)


class Reservation(StrictModel):
    cpu: CpuQuantity
    memory: MemoryQuantity


class KubeletReservations(StrictModel):
    """What kubelet keeps back from pods on every node (Talos services, etcd, kubelet itself)."""

    system: Reservation = Reservation(cpu="250m", memory="768Mi")
    kube: Reservation = Reservation(cpu="250m", memory="256Mi")
    eviction_memory: MemoryQuantity = "256Mi"


class AddressRange(StrictModel):
    start: ipaddress.IPv4Address
    stop: ipaddress.IPv4Address

    def addresses(self) -> range:
        return range(int(self.start), int(self.stop) + 1)


class StorageVolume(StrictModel):
    """The Talos user volume the storage layer writes to, on each node's SSD."""

    name: DnsLabel = "storage"
    min_size: DiskSize = "100GiB"
    # When the user volume shares the install disk, Talos' EPHEMERAL volume must stop growing at this size.
    ephemeral_max_size: DiskSize = "64GiB"
    # What each JuiceFS mount on a node may cache on this volume (JuiceFS's default, 100G on EPHEMERAL, could
    # fill the disk Talos keeps etcd and images on).
    juicefs_cache_size: DiskSize = "4GiB"


class ClusterSettings(StrictModel):
    """The infrastructure Kubernetes cluster on the bare-metal nodes."""

    name: DnsLabel = "homelab"
    subnet: ipaddress.IPv4Network
    vip: ipaddress.IPv4Address
    load_balancer_range: AddressRange
    # The part of the LoadBalancer range experiments' Services may be given (none: they get no LAN address).
    experiment_range: AddressRange | None = None
    reserved: KubeletReservations = KubeletReservations()
    storage_volume: StorageVolume = StorageVolume()
    allow_scheduling_on_control_planes: bool = True
    # The nodes' own resolvers, pinned over DHCP's: the router may point at Pi-hole, which runs in a guest
    # that cannot start without the nodes pulling images first (after a power cut nothing would come back).
    nameservers: tuple[ipaddress.IPv4Address, ...] = Field(
        default=(ipaddress.IPv4Address("1.1.1.1"), ipaddress.IPv4Address("9.9.9.9")), min_length=1)

    @property
    def endpoint(self) -> str:
        return f"https://{self.vip}:{API_SERVER_PORT}"


class GitOpsSettings(StrictModel):
    """The Git repository Argo CD's root app-of-apps follows."""

    repo_url: str = Field(pattern=r"^(https://|ssh://|git@)\S+$")
    revision: str = "main"
    path: str = Field(default="clusters", pattern=r"^[\w./-]+$")
    # The user name that goes with homelab:gitopsRepoCredential over HTTPS (GitHub and GitLab take any).
    username: str = Field(default="git", pattern=r"^[\w.@-]{1,64}$")
    # Cluster-scoped kinds (`group/Kind`, `/Kind` for the core group) the platform project may create beyond
    # namespaces, e.g. rbac.authorization.k8s.io/ClusterRole.
    cluster_kinds: tuple[Annotated[str, Field(pattern=r"^([a-z0-9.-]*)/[A-Z][A-Za-z0-9]*$")], ...] = ()


class ObjectLock(StrictModel):
    """S3 Object Lock on a bucket: every new object version is immutable for ``days``. GOVERNANCE can be
    lifted by an IAM principal granted s3:BypassGovernanceRetention (none of the homelab's keys is);
    COMPLIANCE by nobody, the account's root included, until the days have passed."""

    mode: Literal["GOVERNANCE", "COMPLIANCE"]
    days: Count = Field(ge=1, le=MAX_DAYS)


class OffsiteBackupSettings(StrictModel):
    """The off-site S3 buckets on AWS: Velero's backups and the storage layer's copy."""

    region: str = Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
    velero_bucket: BucketName
    storage_bucket: BucketName
    noncurrent_version_days: Count = Field(default=30, ge=1, le=MAX_DAYS)
    # Move current objects to a colder class after this many days (None: stay in STANDARD).
    transition_days: Count | None = Field(default=None, ge=1, le=MAX_DAYS)
    transition_storage_class: Literal["STANDARD_IA", "ONEZONE_IA", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"] = (
        "GLACIER_IR")
    kms_key_arn: str | None = Field(default=None, pattern=r"^arn:aws[\w-]*:kms:[\w-]+:\d{12}:key/[\w-]+$")
    # Object Lock per bucket (`velero`, `storage`); a bucket not listed has none. Only a new bucket can be
    # created with Object Lock turned on.
    object_lock: dict[Literal["velero", "storage"], ObjectLock] = Field(default_factory=dict)


class DnsRecord(StrictModel):
    name: str = Field(pattern=r"^(@|[a-z0-9*]([a-z0-9.-]{0,61}[a-z0-9])?)$")
    type: Literal["A", "AAAA", "CNAME", "TXT"]
    target: str
    proxied: bool = False

    @model_validator(mode="after")
    def _target_matches_type(self) -> "DnsRecord":
        _check_record_target(self.type, self.target, self.proxied)
        return self


class DnsSettings(StrictModel):
    """The Cloudflare zone and the records the homelab publishes in it."""

    zone: str = Field(pattern=r"^([a-z0-9-]+\.)+[a-z]{2,}$")
    records: tuple[DnsRecord, ...] = ()
    # Make a Cloudflare API token for cert-manager's DNS-01 challenges (edit DNS in this zone only).
    cert_manager_token: bool = False
    acme_email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")


class TailnetSettings(StrictModel):
    """Tailscale objects: the operator's tags, one OAuth client per cluster that runs it, the policy file."""

    operator_clusters: tuple[DnsLabel, ...] = ("infrastructure", "production")
    # The tailnet policy file (plain JSON) in this repository; the operator's tag owners are merged into it.
    acl_file: str | None = Field(default=None, pattern=r"^[\w./-]+\.json$")
    # The tailnet's MagicDNS suffix (e.g. tail1234.ts.net): Home Assistant then also gets a record in the zone.
    dns_name: str | None = Field(default=None, pattern=r"^([a-z0-9-]+\.)+ts\.net$")


class CloudSettings(StrictModel):
    backup: OffsiteBackupSettings
    dns: DnsSettings
    tailnet: TailnetSettings = TailnetSettings()


# An age X25519 recipient, as `age-keygen` prints it (bech32: "age1" and 58 characters of its alphabet).
AgeRecipient = Annotated[str, Field(pattern=r"^age1[02-9ac-hj-np-z]{58}$")]


class EtcdBackupSettings(StrictModel):
    """Snapshots of the infrastructure cluster's own etcd, encrypted to ``age_recipient`` (keep its identity,
    the private half, off the homelab: it is what a rebuild needs) and sent off-site."""

    age_recipient: AgeRecipient
    schedule: CronSchedule = "0 */6 * * *"
    retention_days: Count = Field(default=30, ge=1, le=365)


class BackupSettings(StrictModel):
    """When Velero backs up the infrastructure cluster, and how long backups are kept; and, if set, the etcd
    snapshots."""

    schedule: CronSchedule = "0 3 * * *"
    retention_days: Count = Field(default=14, ge=1, le=365)
    etcd: EtcdBackupSettings | None = None


HttpsUrl = Annotated[str, Field(pattern=r"^https://[^\s/?#]+[^\s]*$")]
EmailAddress = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
# What each kind of contact point cannot do without.
CONTACT_POINT_FIELDS: dict[str, tuple[str, ...]] = {
    "ntfy": ("url",), "webhook": ("url",), "email": ("to", "sender", "smarthost")}


class ContactPoint(StrictModel):
    """Where Mimir's Alertmanager sends alerts. Its credential, where it needs one, is the secret
    ``homelab:alertingCredential``: ntfy's access token, the webhook's bearer token or the SMTP password."""

    kind: Literal["ntfy", "email", "webhook"]
    # ntfy: the topic's URL (https://ntfy.sh/<topic>, or a server of your own); webhook: where alerts are POSTed.
    url: HttpsUrl | None = None
    # email: the recipient, the sender, the SMTP relay as host:port and the relay's user, if it wants one.
    to: EmailAddress | None = None
    sender: EmailAddress | None = None
    smarthost: str | None = Field(default=None, pattern=r"^[A-Za-z0-9.-]+:[0-9]{1,5}$")
    username: str | None = None

    @model_validator(mode="after")
    def _has_what_its_kind_needs(self) -> "ContactPoint":
        missing = [to_camel(name) for name in CONTACT_POINT_FIELDS[self.kind] if getattr(self, name) is None]
        if missing:
            raise _fixable(f"the {self.kind} contact point needs {' and '.join(missing)}",
                           f"set {', '.join(missing)} under contactPoint")
        return self


class AlertingSettings(StrictModel):
    """Who hears about alerts. Without a contact point they are still shown in Grafana."""

    contact_point: ContactPoint | None = None


class ObjectStoreSettings(StrictModel):
    """The object store's server image and its per-node size (one server per node)."""

    # Servers (one per node, one drive each). Fixed once data exists: MinIO grows by new server pools, never
    # by resizing a pool, so adding a node to the inventory does not change it.
    servers: Count = Field(default=4, ge=1)
    image: PinnedImage = Field(default=versions.MINIO_IMAGE,
                               pattern=r"^[\w.-]+(/[\w.-]+)+(:[\w.-]+|@sha256:[0-9a-f]{64})$")
    cpu: CpuQuantity = "100m"
    memory: MemoryQuantity = "384Mi"
    memory_limit: MemoryQuantity = "1Gi"

    @model_validator(mode="after")
    def _limit_holds_the_request(self) -> "ObjectStoreSettings":
        _check_limit_holds_the_request(self.memory, self.memory_limit)
        return self


class PlatformSettings(StrictModel):
    """Settings of the infrastructure cluster's services (components/platform)."""

    gitops: GitOpsSettings
    backups: BackupSettings = BackupSettings()
    alerting: AlertingSettings = AlertingSettings()
    object_store: ObjectStoreSettings = ObjectStoreSettings()


class VmSize(StrictModel):
    """One guest VM: whole virtual CPUs and guest memory."""

    cpu: Count = Field(default=1, ge=1, le=4)
    memory: MemoryQuantity = "2Gi"


class GuestClusterSettings(StrictModel):
    """A Talos cluster of KubeVirt VMs on the infrastructure cluster (components/clusters)."""

    control_planes: Annotated[Count, AfterValidator(_odd)] = Field(default=1, ge=1, le=5)
    workers: Count = Field(default=1, ge=0, le=20)
    size: VmSize = VmSize()
    disk: DiskSize = "10GiB"
    # Simulated zones: one MachineDeployment per zone, its nodes labelled with it; workers spread evenly.
    zones: Zones = Field(default=("zone-a",), min_length=1)


class ProductionSettings(GuestClusterSettings):
    """The always-on production cluster of the prod stack."""

    # Pi-hole's DNS address on the LAN, from the LoadBalancer range; any free one of the range if unset.
    dns_address: ipaddress.IPv4Address | None = None


class ExperimentSettings(GuestClusterSettings):
    """One experimental cluster of the lab stack: preemptible, isolated, thrown away when done."""

    # Its namespace is ``experiment-<name>``, which must stay a DNS label (63 characters).
    name: DnsLabel = Field(max_length=42)
    ttl: Ttl = "8h"
    chaos: bool = False
    # ``production``: deploy production's apps into the experiment, to try a change before it reaches them.
    like: Literal["production"] | None = None
    # The restore drill: restore production's latest backup (or the named one) into this experiment.
    restore_from: str | None = Field(default=None, pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


class Versions(StrictModel):
    """Pinned versions; defaults come from ``components.versions``."""

    talos: Version = versions.TALOS
    kubernetes: Version = versions.KUBERNETES
    # Per-stack chart versions by release name (components/versions.py PLATFORM_CHART_PINS), e.g. to try a
    # new Cilium in one stack first.
    charts: dict[str, ChartVersion] = {}

    def chart(self, release: str) -> str:
        """The version of a platform release this stack runs: its override, or the pin."""
        return self.charts.get(release, versions.PLATFORM_CHART_PINS[release])

    @property
    def talos_minor(self) -> str:
        return ".".join(self.talos.lstrip("v").split(".")[:2])


class Secrets(StrictModel):
    """Secret config values, each its own top-level key set with ``pulumi config set --secret``."""

    storage_root_password: Secret | None = None
    grafana_admin_password: Secret | None = None
    # Kopia's repository password for every Velero of the homelab (Velero otherwise writes a static default);
    # a rebuilt homelab reads its backups with it, so it lives in the stack's config, not in the cluster.
    backup_repository_password: Secret | None = None
    # Argo CD's credential for a private GitOps repository: a token (HTTPS) or an SSH private key.
    gitops_repo_credential: Secret | None = None
    # JuiceFS's client-side encryption (both or neither): an RSA private key, PEM, itself encrypted with the
    # passphrase. Every filesystem formatted once they are set keeps its chunks encrypted in the object store
    # and off-site; JuiceFS ignores the key on a filesystem that exists (cmd/format.go at v1.3.1). The key also
    # travels, still passphrase-protected, inside the metadata dumps, so the passphrase alone must be kept
    # safe outside the house to read a copy.
    shared_fs_encryption_key: Secret | None = None
    shared_fs_encryption_passphrase: Secret | None = None
    # The alert contact point's credential (platform.alerting.contactPoint).
    alerting_credential: Secret | None = None

    def required(self, name: str) -> Secret:
        """A secret its role requires; validation has already refused a config without it."""
        secret = getattr(self, name)
        if not isinstance(secret, Secret):
            raise ValueError(f"secret {name} is required here and validation should have caught its absence")
        return secret


# Secrets each role cannot run without.
REQUIRED_SECRETS: dict[str, tuple[str, ...]] = {
    "platform": ("storage_root_password", "grafana_admin_password", "backup_repository_password"),
    "lab": (),
}


# Names a guest cluster cannot take: the stacks and the production cluster.
RESERVED_CLUSTER_NAMES = frozenset({"prod", "lab", "production"})


class HomelabConfig(StrictModel):
    """Everything one stack of the homelab is built from."""

    role: Role
    cluster: ClusterSettings | None = None
    nodes: tuple[Node, ...] = ()
    versions: Versions = Versions()
    platform: PlatformSettings | None = None
    cloud: CloudSettings | None = None
    production: ProductionSettings | None = None
    experiments: tuple[ExperimentSettings, ...] = ()
    prod_stack: str = Field(default="organization/homelab/prod", pattern=r"^[\w.-]+/[\w.-]+/[\w.-]+$")
    secrets: Secrets = Secrets()

    @property
    def control_planes(self) -> tuple[Node, ...]:
        return tuple(node for node in self.nodes if node.role == "controlplane")


@dataclass(frozen=True)
class ConfigIssue:
    key: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.key}: {self.problem}\n    fix: {self.fix}"


class ConfigError(Exception):
    """The stack config is invalid; ``issues`` says where and how to fix each problem."""

    def __init__(self, stack: str, issues: list[ConfigIssue]) -> None:
        self.stack = stack
        self.issues = issues
        lines = "\n".join(f"  - {issue}" for issue in issues)
        super().__init__(f"Pulumi.{stack}.yaml has {len(issues)} config problem(s):\n{lines}")

    @property
    def keys(self) -> list[str]:
        return [issue.key for issue in self.issues]


_SECRET_FIELDS = {to_camel(name): name for name in Secrets.model_fields}


def _key_path(loc: Iterable[int | str]) -> str:
    # Pydantic adds "[key]" after a mapping key it refuses: the key itself names the place.
    parts = [part for part in loc if part != "[key]"]
    if parts[:1] == ["secrets"] and len(parts) > 1:
        parts = parts[1:]
    path = f"{NAMESPACE}:{parts[0]}" if parts else NAMESPACE
    for part in parts[1:]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The config model that sits at ``loc`` (to list the keys allowed there)."""
    model: type[BaseModel] = HomelabConfig
    for part in loc:
        if isinstance(part, int):
            continue
        fields = {field.alias or name: field for name, field in model.model_fields.items()}
        if part not in fields:
            return None
        annotation = fields[part].annotation
        candidates = [annotation, *get_args(annotation)]
        candidates += [inner for candidate in candidates if get_origin(candidate) for inner in get_args(candidate)]
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not nested:
            return None
        model = nested[0]
    return model


def _issue_from_pydantic(error: Any, stack: str) -> ConfigIssue:
    loc = tuple(error["loc"])
    key = _key_path(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        parent = _model_at(loc[:-1])
        allowed = sorted(f.alias or n for n, f in parent.model_fields.items()) if parent else []
        if len(loc) == 1:
            # At the top the secrets sit beside the other keys (the model's `secrets` is not a key of the file).
            allowed = sorted({*allowed, *_SECRET_FIELDS} - {"secrets"})
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.75)
        hint = f"did you mean {close[0]}? " if close else ""
        return ConfigIssue(key, "unknown key",
                           f"{hint}remove it or correct its spelling; allowed here: {', '.join(allowed)}")
    if kind == "missing":
        return ConfigIssue(key, "required key is missing", f"add `{key}` to Pulumi.{stack}.yaml")
    message = str(error["msg"]).removeprefix("Value error, ")
    if " — fix: " in message:
        problem, fix = message.split(" — fix: ", 1)
        return ConfigIssue(key, problem, fix)
    # A secret's value is never repeated back, not even a wrong one.
    shown = "" if loc[:1] == ("secrets",) else f" (got {error.get('input')!r})"
    return ConfigIssue(key, f"{message}{shown}", _fix_for(kind, error.get("ctx") or {}))


def _fix_for(kind: str, ctx: Mapping[str, Any]) -> str:
    """A concrete fix for each kind of value pydantic refuses."""
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "write a whole number, e.g. 2 (not true/false, text or a fraction)"
    if kind in ("bool_type", "bool_parsing"):
        return "write true or false"
    if kind in ("string_type", "str_type"):
        return "write it as text, in quotes if YAML reads it as something else"
    if kind in ("tuple_type", "list_type", "dict_type", "model_type", "model_attributes_type"):
        return "write it as a list ([a, b])" if kind in ("tuple_type", "list_type") else \
            "write it as a map (key: value)"
    if kind == "literal_error":
        return f"use one of {ctx.get('expected')}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = {"greater_than_equal": "at least", "greater_than": "more than", "less_than_equal": "at most",
                 "less_than": "less than"}[kind]
        limit = next(iter(ctx.values()), "")
        return f"use a value {bound} {limit}"
    if kind in ("too_short", "too_long"):
        return f"give {'at least' if kind == 'too_short' else 'at most'} " \
               f"{ctx.get('min_length', ctx.get('max_length'))} item(s)"
    if kind in ("string_too_short", "string_too_long"):
        length = ctx.get("min_length", ctx.get("max_length"))
        return f"use {'at least' if kind == 'string_too_short' else 'at most'} {length} " \
               f"character{'' if length == 1 else 's'}"
    if kind == "string_pattern_mismatch":
        return f"write it in the form the README's config table shows (it must match {ctx.get('pattern')})"
    if kind.startswith(("ip_v4", "ip_any", "ip_v6")):
        return "write an IPv4 address like 192.168.10.11 (a network like 192.168.10.0/24 where a subnet belongs)"
    return "see the config table in README.md for this key"


def _check_nodes(config: HomelabConfig, stack: str) -> Iterable[ConfigIssue]:
    if config.role != "platform":
        if config.nodes or config.cluster or config.platform or config.cloud:
            yield ConfigIssue(f"{NAMESPACE}:nodes", "only the platform (prod) stack owns bare metal and cloud",
                              f"remove `homelab:nodes`, `homelab:cluster`, `homelab:platform` and `homelab:cloud` "
                              f"from Pulumi.{stack}.yaml; lab stacks read them from prod")
        return
    if config.platform is None:
        yield ConfigIssue(f"{NAMESPACE}:platform", "required key is missing for role platform",
                          f"add `homelab:platform` (at least gitops.repoUrl) to Pulumi.{stack}.yaml")
    if config.cloud is None:
        yield ConfigIssue(f"{NAMESPACE}:cloud", "required key is missing for role platform",
                          f"add `homelab:cloud` (backup buckets and region, DNS zone) to Pulumi.{stack}.yaml")
    if config.cluster is None:
        yield ConfigIssue(f"{NAMESPACE}:cluster", "required key is missing for role platform",
                          f"add `homelab:cluster` (subnet, vip, loadBalancerRange) to Pulumi.{stack}.yaml")
        return
    cluster = config.cluster
    if not config.nodes:
        yield ConfigIssue(f"{NAMESPACE}:nodes", "the platform stack needs at least one node",
                          "list the machines under `homelab:nodes`")
        return
    for field, label in (("name", "name"), ("ip", "IP address")):
        first_use: dict[object, int] = {}
        for index, node in enumerate(config.nodes):
            value = getattr(node, field)
            if value in first_use:
                yield ConfigIssue(f"{NAMESPACE}:nodes[{index}].{field}",
                                  f"{label} {value} is already used by homelab:nodes[{first_use[value]}]",
                                  f"give every node its own {label}")
            first_use.setdefault(value, index)
    servers = config.platform.object_store.servers if config.platform else 1
    if servers > len(config.nodes) or servers in (2, 3):
        yield ConfigIssue(f"{NAMESPACE}:platform.objectStore.servers",
                          f"{servers} object-store servers on {len(config.nodes)} node(s)",
                          "use 1 (no redundancy) or 4 or more, and no more than there are nodes")
    if not any(BOARDS[node.board].kvm for node in config.nodes):
        kvm_boards = ", ".join(sorted(board.id for board in BOARDS.values() if board.kvm))
        yield ConfigIssue(f"{NAMESPACE}:nodes", "no node can host KubeVirt VMs, so no guest cluster can run",
                          f"add a node whose board runs KVM under Talos: {kvm_boards}")
    control_planes = len(config.control_planes)
    if control_planes % 2 == 0:
        yield ConfigIssue(f"{NAMESPACE}:nodes", f"{control_planes} control-plane nodes: etcd needs an odd number",
                          "set `role: controlplane` on 1, 3 or 5 nodes and `role: worker` on the rest")
    talos = tuple(int(p) for p in config.versions.talos.lstrip("v").split("."))
    for index, node in enumerate(config.nodes):
        board = BOARDS[node.board]
        key = f"{NAMESPACE}:nodes[{index}]"
        if node.ip not in cluster.subnet:
            yield ConfigIssue(f"{key}.ip", f"{node.ip} is outside the node subnet {cluster.subnet}",
                              f"use an address inside {cluster.subnet} or change `homelab:cluster.subnet`")
        if node.ip in (cluster.subnet.network_address, cluster.subnet.broadcast_address):
            which = "network" if node.ip == cluster.subnet.network_address else "broadcast"
            yield ConfigIssue(f"{key}.ip", f"{node.ip} is the subnet's {which} address",
                              f"use a host address of {cluster.subnet}")
        if node.ip == cluster.vip:
            yield ConfigIssue(f"{key}.ip", f"{node.ip} is the control-plane VIP",
                              "give the node its own address; the VIP floats between control planes")
        if int(node.ip) in cluster.load_balancer_range.addresses():
            yield ConfigIssue(f"{key}.ip", f"{node.ip} is inside the LoadBalancer range",
                              "move the node or shrink `homelab:cluster.loadBalancerRange`")
        if node.arch != board.arch:
            yield ConfigIssue(f"{key}.arch", f"board {board.id} is {board.arch}, not {node.arch}",
                              f"set `arch: {board.arch}` or correct `board`")
        min_talos = tuple(int(p) for p in board.min_talos.split("."))
        if talos < min_talos:
            yield ConfigIssue(f"{key}.board", f"{board.description} needs Talos >= {board.min_talos}, "
                              f"the stack pins {config.versions.talos}",
                              "use a supported board, or raise `homelab:versions.talos` once the program supports it")


def _check_cluster(config: HomelabConfig) -> Iterable[ConfigIssue]:
    cluster = config.cluster
    if cluster is None:
        return
    key = f"{NAMESPACE}:cluster"
    if cluster.vip not in cluster.subnet:
        yield ConfigIssue(f"{key}.vip", f"{cluster.vip} is outside the node subnet {cluster.subnet}",
                          f"pick a free address inside {cluster.subnet}")
    lb = cluster.load_balancer_range
    if int(lb.start) > int(lb.stop):
        yield ConfigIssue(f"{key}.loadBalancerRange", f"start {lb.start} is after stop {lb.stop}",
                          "swap start and stop")
    else:
        if lb.start not in cluster.subnet or lb.stop not in cluster.subnet:
            yield ConfigIssue(f"{key}.loadBalancerRange", f"{lb.start}-{lb.stop} is not inside {cluster.subnet}",
                              "use free LAN addresses outside your DHCP pool")
        # Reported on its own: a range outside the subnet does not make a VIP inside it any less wrong.
        if int(cluster.vip) in lb.addresses():
            yield ConfigIssue(f"{key}.vip", f"the VIP {cluster.vip} is inside the LoadBalancer range",
                              "move the VIP or the range so they do not overlap")
    experiments = cluster.experiment_range
    if experiments is not None and not (lb.start <= experiments.start <= experiments.stop <= lb.stop):
        yield ConfigIssue(f"{key}.experimentRange", f"{experiments.start}-{experiments.stop} is not a part of the "
                          f"LoadBalancer range {lb.start}-{lb.stop}", "pick start <= stop, both inside the range")
    elif experiments is not None and config.production and config.production.dns_address and \
            int(config.production.dns_address) in experiments.addresses():
        yield ConfigIssue(f"{key}.experimentRange", f"it holds production's DNS address "
                          f"{config.production.dns_address}", "move the range or homelab:production.dnsAddress")
    for index, nameserver in enumerate(cluster.nameservers):
        if int(lb.start) <= int(nameserver) <= int(lb.stop):
            yield ConfigIssue(f"{key}.nameservers[{index}]",
                              f"{nameserver} is inside the LoadBalancer range, so the nodes' DNS would depend on a "
                              "service of the homelab itself", "use resolvers outside the homelab, e.g. 1.1.1.1")
    for owner, network in CLUSTER_RANGES.items():
        if cluster.subnet.overlaps(network):
            yield ConfigIssue(f"{key}.subnet", f"{cluster.subnet} overlaps {network}, {owner}",
                              "the node subnet must stay clear of "
                              + ", ".join(str(taken) for taken in CLUSTER_RANGES.values()))


# Share of the storage volume's minimum that production's JuiceFS caches may take, all on one node.
CACHE_SHARE_OF_VOLUME = 0.25


def _check_cache_fits_the_volume(config: HomelabConfig) -> Iterable[ConfigIssue]:
    """Each VM disk is a JuiceFS mount on its node, caching up to the per-mount size; all of production's
    could land on one node, beside the object store's and the metadata engine's data on that volume."""
    cluster, production = config.cluster, config.production
    if cluster is None or production is None:
        return
    volume = cluster.storage_volume
    mounts = production.control_planes + production.workers
    cached, allowed = mounts * disk_mib(volume.juicefs_cache_size), disk_mib(volume.min_size) * CACHE_SHARE_OF_VOLUME
    if cached > allowed:
        yield ConfigIssue(f"{NAMESPACE}:cluster.storageVolume.juicefsCacheSize",
                          f"production's {mounts} VM disks could cache {mounts} × {volume.juicefs_cache_size} on one "
                          f"node, more than a quarter of the storage volume's minimum ({volume.min_size})",
                          f"lower juicefsCacheSize to at most {format_mib(int(allowed // mounts))}, or raise minSize")


def _check_production_zones(config: HomelabConfig) -> Iterable[ConfigIssue]:
    """Production's workers run only on the Pis of their zone, so each zone needs a Pi that runs VMs."""
    if config.production is None or config.role != "platform":
        return
    vm_zones = {node.zone for node in config.nodes if BOARDS[node.board].kvm}
    if not vm_zones:
        return  # no node runs VMs at all: _check_nodes says so
    for zone in config.production.zones:
        if zone not in vm_zones:
            yield ConfigIssue(f"{NAMESPACE}:production.zones",
                              f"no node that can run VMs is in zone {zone!r}, so its workers could never start",
                              "use zones of the inventory's VM-capable nodes: " + ", ".join(sorted(vm_zones)))


def _check_records_on_the_pool(config: HomelabConfig) -> Iterable[ConfigIssue]:
    """An A record into the LoadBalancer range must name an address the program pins; any other address of
    the range goes to whichever Service asks first, so the record would point at a stranger."""
    cluster, production = config.cluster, config.production
    if config.cloud is None or cluster is None:
        return
    pinned = {str(production.dns_address)} if production and production.dns_address else set()
    for index, record in enumerate(config.cloud.dns.records):
        address = ipaddress.ip_address(record.target) if record.type == "A" else None
        if address is not None and int(address) in cluster.load_balancer_range.addresses() \
                and record.target not in pinned:
            yield ConfigIssue(f"{NAMESPACE}:cloud.dns.records[{index}].target",
                              f"{record.target} is in the LoadBalancer range but nothing pins it",
                              "set `homelab:production.dnsAddress` to it (Pi-hole), or point the record elsewhere")


def _check_guests(config: HomelabConfig) -> Iterable[ConfigIssue]:
    production, cluster = config.production, config.cluster
    address = production.dns_address if production else None
    pool = cluster.load_balancer_range if cluster else None
    if address and pool and pool.start <= pool.stop and int(address) not in pool.addresses():
        yield ConfigIssue(f"{NAMESPACE}:production.dnsAddress", f"{address} is outside the LoadBalancer range",
                          "pick a free address of homelab:cluster.loadBalancerRange")
    yield from _check_records_on_the_pool(config)
    yield from _check_cache_fits_the_volume(config)
    yield from _check_production_zones(config)
    if config.role == "platform" and config.experiments:
        yield ConfigIssue(f"{NAMESPACE}:experiments", "experiments belong to the lab stack, not prod",
                          "move them to Pulumi.lab.yaml (or create one with `labctl experiment create`)")
    if config.role == "lab" and config.production is not None:
        yield ConfigIssue(f"{NAMESPACE}:production", "the production cluster belongs to the prod stack",
                          "move `homelab:production` to Pulumi.prod.yaml")
    seen: set[str] = set()
    for index, experiment in enumerate(config.experiments):
        key = f"{NAMESPACE}:experiments[{index}].name"
        if experiment.name in seen:
            yield ConfigIssue(key, f"experiment {experiment.name!r} is listed twice", "give each a unique name")
        if experiment.name in RESERVED_CLUSTER_NAMES or experiment.name.startswith("exp-"):
            yield ConfigIssue(key, f"{experiment.name!r} is reserved (prod, lab, production, and exp-… which "
                              "names labctl's experiment stacks)", "pick another name")
        seen.add(experiment.name)
        if experiment.workers and experiment.workers < len(experiment.zones):
            yield ConfigIssue(f"{NAMESPACE}:experiments[{index}].zones",
                              f"{len(experiment.zones)} zones but only {experiment.workers} workers",
                              "list at most as many zones as workers")


def _check_cloud(config: HomelabConfig) -> Iterable[ConfigIssue]:
    if config.cloud is None:
        return
    backup, dns = config.cloud.backup, config.cloud.dns
    if backup.velero_bucket == backup.storage_bucket:
        yield ConfigIssue(f"{NAMESPACE}:cloud.backup.storageBucket", "the storage copy shares Velero's bucket",
                          "give each its own bucket: their credentials are scoped to one bucket each")
    if "infrastructure" not in config.cloud.tailnet.operator_clusters:
        yield ConfigIssue(f"{NAMESPACE}:cloud.tailnet.operatorClusters",
                          "the infrastructure cluster runs the Tailscale operator and needs its OAuth client",
                          "add `infrastructure` to the list")
    if config.production is not None and "production" not in config.cloud.tailnet.operator_clusters:
        yield ConfigIssue(f"{NAMESPACE}:cloud.tailnet.operatorClusters",
                          "the production cluster runs its own Tailscale operator (Home Assistant is on the tailnet) "
                          "and needs its OAuth client", "add `production` to the list")
    acl_file = config.cloud.tailnet.acl_file
    if acl_file is not None:
        try:
            json.loads(Path(acl_file).read_text())
        except (OSError, json.JSONDecodeError) as error:
            yield ConfigIssue(f"{NAMESPACE}:cloud.tailnet.aclFile", f"cannot read {acl_file} as JSON: {error}",
                              "point it at a JSON policy file in the project, or remove it for the default policy")
    if dns.cert_manager_token and dns.acme_email is None:
        yield ConfigIssue(f"{NAMESPACE}:cloud.dns.acmeEmail", "DNS-01 certificates need an ACME contact address",
                          "set `acmeEmail`, or `certManagerToken: false`")


def _check_object_lock(config: HomelabConfig) -> Iterable[ConfigIssue]:
    if config.cloud is None:
        return
    backup = config.cloud.backup
    for bucket, lock in sorted(backup.object_lock.items()):
        key = f"{NAMESPACE}:cloud.backup.objectLock.{bucket}"
        if bucket == "velero" and lock.mode == "COMPLIANCE":
            yield ConfigIssue(f"{key}.mode", "COMPLIANCE mode on Velero's bucket would refuse the deletes of "
                              "Kopia's maintenance and of Velero's expired backups, for good",
                              "use GOVERNANCE for the velero bucket (COMPLIANCE suits the storage copy)")
        if lock.days < backup.noncurrent_version_days:
            yield ConfigIssue(f"{key}.days", f"a {lock.days}-day lock is shorter than the "
                              f"{backup.noncurrent_version_days} days the lifecycle keeps an old version, so the "
                              "last days of every version could be erased",
                              f"lock for at least {backup.noncurrent_version_days} days, or lower "
                              "noncurrentVersionDays")


def _check_versions(config: HomelabConfig) -> Iterable[ConfigIssue]:
    if config.versions.talos_minor not in versions.SUPPORTED_TALOS_MINORS:
        yield ConfigIssue(f"{NAMESPACE}:versions.talos",
                          f"Talos {config.versions.talos} is not supported by this program's machine config",
                          f"pin a Talos {' or '.join(versions.SUPPORTED_TALOS_MINORS)}.x release, "
                          f"e.g. {versions.TALOS}")
    refusals = versions.kubernetes_refusals(config.versions.kubernetes)
    if refusals:
        oldest, newest = versions.supported_kubernetes_minors()
        supported = oldest if oldest == newest else f"{oldest}-{newest}"
        yield ConfigIssue(f"{NAMESPACE}:versions.kubernetes",
                          f"Kubernetes {config.versions.kubernetes} is not supported by " + ", ".join(refusals),
                          f"pin Kubernetes {supported}.x, which every layer supports, e.g. {versions.KUBERNETES}")


def _check_chart_overrides(config: HomelabConfig) -> Iterable[ConfigIssue]:
    for release in sorted(set(config.versions.charts) - set(versions.PLATFORM_CHART_PINS)):
        yield ConfigIssue(f"{NAMESPACE}:versions.charts.{release}", f"there is no platform release {release!r}",
                          "use one of " + ", ".join(sorted(versions.PLATFORM_CHART_PINS)))


# MinIO refuses a root password (its root secret key) shorter than this (minio/pkg auth/credentials.go,
# secretKeyMinLen), and would not start.
MIN_STORAGE_PASSWORD = 8


def is_protected_pem_key(text: str) -> bool:
    """A PEM private key encrypted with a passphrase (PKCS#8 or OpenSSL's PKCS#1 with Proc-Type), as
    ``openssl genrsa -aes256`` writes it."""
    return ("-----BEGIN ENCRYPTED PRIVATE KEY-----" in text
            or ("-----BEGIN RSA PRIVATE KEY-----" in text and "Proc-Type: 4,ENCRYPTED" in text))


def _secret_key(name: str) -> str:
    return f"{NAMESPACE}:{to_camel(name)}"


def _set_value_fix(name: str, stack: str) -> str:
    if name == "shared_fs_encryption_key":
        return f"openssl genrsa -aes256 -out juicefs.pem 2048, then " \
               f"pulumi config set --secret {_secret_key(name)} --stack {stack} < juicefs.pem"
    return f"pulumi config set --secret {_secret_key(name)} <value> --stack {stack}"


def _check_encryption(secrets: Secrets, stack: str, plain: set[str]) -> Iterable[ConfigIssue]:
    key, passphrase = secrets.shared_fs_encryption_key, secrets.shared_fs_encryption_passphrase
    if (key is None) != (passphrase is None):
        missing = "shared_fs_encryption_passphrase" if passphrase is None else "shared_fs_encryption_key"
        yield ConfigIssue(_secret_key(missing), "JuiceFS encryption needs both the key and its passphrase",
                          f"{_set_value_fix(missing, stack)}, or remove the other")
    if key is not None and "shared_fs_encryption_key" not in plain and not key.satisfies(is_protected_pem_key):
        yield ConfigIssue(_secret_key("shared_fs_encryption_key"), "is not a passphrase-protected PEM private key "
                          "(the key travels inside the off-site metadata dumps, so it must be encrypted)",
                          _set_value_fix("shared_fs_encryption_key", stack))


def _check_alerting_credential(config: HomelabConfig, stack: str) -> Iterable[ConfigIssue]:
    contact = config.platform.alerting.contact_point if config.platform else None
    credential = config.secrets.alerting_credential
    if credential is not None and contact is None:
        yield ConfigIssue(_secret_key("alerting_credential"), "is set but no contact point would use it",
                          f"set platform.alerting.contactPoint, or pulumi config rm "
                          f"{_secret_key('alerting_credential')} --stack {stack}")
    if contact is not None and contact.username is not None and credential is None:
        yield ConfigIssue(_secret_key("alerting_credential"), "the SMTP relay's user needs its password",
                          _set_value_fix("alerting_credential", stack))


def _check_secrets(config: HomelabConfig, stack: str, secret_keys: set[str]) -> Iterable[ConfigIssue]:
    given = [name for name in type(config.secrets).model_fields if getattr(config.secrets, name) is not None]
    if config.role == "lab":
        # Every secret belongs to the platform stack; the lab reads what it needs of prod's through its outputs.
        for name in given:
            yield ConfigIssue(_secret_key(name), "belongs to the prod stack: the lab takes no secrets",
                              f"pulumi config rm {_secret_key(name)} --stack {stack} (and set it on prod)")
        return
    # A secret in plain text gets that one issue: its value is not judged until it is a secret.
    plain = {name for name in given if _secret_key(name) not in secret_keys}
    for name in sorted(plain):
        yield ConfigIssue(_secret_key(name), "a secret is stored in plain text", _set_value_fix(name, stack))
    yield from _check_encryption(config.secrets, stack, plain)
    yield from _check_alerting_credential(config, stack)
    password = config.secrets.storage_root_password
    if password is not None and "storage_root_password" not in plain and len(password) < MIN_STORAGE_PASSWORD:
        yield ConfigIssue(_secret_key("storage_root_password"), "the object store refuses a root password shorter "
                          f"than {MIN_STORAGE_PASSWORD} characters",
                          f"pulumi config set --secret {_secret_key('storage_root_password')} <a longer value> "
                          f"--stack {stack}")
    for name in REQUIRED_SECRETS[config.role]:
        if getattr(config.secrets, name) is None:
            yield ConfigIssue(_secret_key(name), f"required secret is missing for role {config.role}",
                              _set_value_fix(name, stack))


def _check_role(config: HomelabConfig, stack: str) -> Iterable[ConfigIssue]:
    expected = "lab" if stack == "lab" or stack.startswith("exp-") else None
    if stack == "prod":
        expected = "platform"
    if expected and config.role != expected:
        yield ConfigIssue(f"{NAMESPACE}:role", f"stack {stack} must have role {expected}, not {config.role}",
                          f"set `homelab:role: {expected}`")
    if config.role == "lab" and stack != "prod" and config.prod_stack.rsplit("/", 1)[-1] == stack:
        yield ConfigIssue(f"{NAMESPACE}:prodStack", f"{config.prod_stack} is this stack itself",
                          "point it at the platform stack, e.g. organization/homelab/prod")


def parse_config(raw: Mapping[str, Any], stack: str, secret_keys: Iterable[str] = ()) -> HomelabConfig:
    """Validate the ``homelab:*`` values of one stack (keys without the namespace) or raise ConfigError."""
    values = {key: value for key, value in raw.items() if key not in _SECRET_FIELDS}
    values["secrets"] = {key: value for key, value in raw.items() if key in _SECRET_FIELDS}
    try:
        config = HomelabConfig.model_validate(values)
    except ValidationError as error:
        raise ConfigError(stack, [_issue_from_pydantic(e, stack) for e in error.errors()]) from None
    # A stack with the wrong role would be checked against the wrong rules: report that alone.
    issues = list(_check_role(config, stack)) or [
        *_check_nodes(config, stack),
        *_check_cluster(config),
        *_check_cloud(config),
        *_check_object_lock(config),
        *_check_guests(config),
        *_check_versions(config),
        *_check_chart_overrides(config),
        *_check_secrets(config, stack, set(secret_keys)),
    ]
    if issues:
        raise ConfigError(stack, issues)
    return config


def _decode(value: Any) -> Any:
    """Pulumi hands structured config over as JSON text; plain strings stay strings."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def parse_stack_config(every: Mapping[str, Any], stack: str, secret_keys: Iterable[str] = ()) -> HomelabConfig:
    """Validate a stack's config as the language host hands it over (``namespace:key`` names, structured values
    as JSON text) or raise ConfigError."""
    prefix = f"{NAMESPACE}:"
    named = {key.removeprefix(prefix): value for key, value in every.items() if key.startswith(prefix)}
    # Secrets are text: one that looks like JSON stays the text it is (decoded, it could be refused and shown).
    raw = {key: value if key in _SECRET_FIELDS else _decode(value) for key, value in named.items()}
    return parse_config(raw, stack, secret_keys)


def load_config() -> HomelabConfig:
    """Read and validate this stack's ``homelab:*`` config from the Pulumi runtime."""
    from pulumi.runtime import config as runtime_config

    every = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = {key for key in every if runtime_config.is_config_secret(key)}
    secret_keys |= set(runtime_config.get_config_secret_keys_env())
    return parse_stack_config(every, pulumi.get_stack(), secret_keys)
