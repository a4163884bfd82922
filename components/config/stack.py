"""The config models of the guest clusters, the versions and the secrets, and ``HomelabConfig``, the whole of
one stack's config."""

import ipaddress
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    Field,
)

from components import versions
from components.config.models import CloudSettings, ClusterSettings, Node, PlatformSettings, StrictModel
from components.config.values import (
    ChartVersion,
    Count,
    DiskSize,
    DnsLabel,
    MemoryQuantity,
    Role,
    Secret,
    Ttl,
    Version,
    Zones,
    _odd,
)


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
    charts: dict[str, ChartVersion] = Field(default_factory=dict)

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
    # A stack name of this project in the reading stack's own organization, or a full org/project/stack.
    prod_stack: str = Field(default="prod", pattern=r"^([\w.-]+/[\w.-]+/)?[\w.-]+$")
    secrets: Secrets = Secrets()

    @property
    def control_planes(self) -> tuple[Node, ...]:
        return tuple(node for node in self.nodes if node.role == "controlplane")
