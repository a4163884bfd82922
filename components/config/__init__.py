"""The homelab's stack configuration: one typed model, validated before any resource is registered.

Config lives under the ``homelab:`` namespace of ``Pulumi.<stack>.yaml`` as a few structured keys
(``role``, ``cluster``, ``nodes``, ``versions``) plus one top-level key per secret. ``load_config`` reads
them from the Pulumi runtime, ``parse_config`` validates them; every problem becomes a ``ConfigIssue`` that
names the key path (``homelab:nodes[2].ip``) and says how to fix it. Components receive the validated
model and never call ``pulumi.Config`` themselves.

One module per job: the field types (``values``), the models (``models``, ``stack``), the cross-field checks
(``inventory_checks``, ``checks``), the error reports (``errors``) and the loading (``loading``). Every name the
rest of the program uses is importable from here.
"""

from components.config.checks import is_protected_pem_key
from components.config.errors import ConfigError, ConfigIssue
from components.config.loading import load_config, parse_config, parse_stack_config
from components.config.models import (
    BackupSettings,
    ClusterSettings,
    ContactPoint,
    DnsRecord,
    DnsSettings,
    EtcdBackupSettings,
    GitOpsSettings,
    Node,
    ObjectStoreSettings,
    OffsiteBackupSettings,
    PlatformSettings,
    TailnetSettings,
)
from components.config.stack import (
    REQUIRED_SECRETS,
    RESERVED_CLUSTER_NAMES,
    ExperimentSettings,
    GuestClusterSettings,
    HomelabConfig,
    Secrets,
    Versions,
    VmSize,
)
from components.config.values import NAMESPACE, Secret

__all__ = [
    "NAMESPACE",
    "REQUIRED_SECRETS",
    "RESERVED_CLUSTER_NAMES",
    "BackupSettings",
    "ClusterSettings",
    "ConfigError",
    "ConfigIssue",
    "ContactPoint",
    "DnsRecord",
    "DnsSettings",
    "EtcdBackupSettings",
    "ExperimentSettings",
    "GitOpsSettings",
    "GuestClusterSettings",
    "HomelabConfig",
    "Node",
    "ObjectStoreSettings",
    "OffsiteBackupSettings",
    "PlatformSettings",
    "Secret",
    "Secrets",
    "TailnetSettings",
    "Versions",
    "VmSize",
    "is_protected_pem_key",
    "load_config",
    "parse_config",
    "parse_stack_config",
]
