"""The config models of the infrastructure cluster, its platform and the cloud: camelCase keys as in the
YAML, unknown keys refused, immutable once validated."""

import ipaddress
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components import versions
from components.address_ranges import API_SERVER_PORT
from components.boards import BOARDS, Architecture
from components.config.values import (
    MAX_DAYS,
    Board,
    BucketName,
    Count,
    CpuQuantity,
    CronSchedule,
    DiskSize,
    DnsLabel,
    MemoryQuantity,
    PinnedImage,
    _check_limit_holds_the_request,
    _check_record_target,
    _fixable,
)


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
