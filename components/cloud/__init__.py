"""The cloud layer: off-site backups on AWS, DNS on Cloudflare, the Tailscale tailnet, and the stack seams."""

from components.cloud.dns import DnsRecords, DnsRecordsArgs
from components.cloud.offsite_backup import OffsiteBackup, OffsiteBackupArgs, VeleroPrefixes
from components.cloud.seams import ProdSeams, read_prod
from components.cloud.tailnet import Tailnet, TailnetArgs

__all__ = ["DnsRecords", "DnsRecordsArgs", "OffsiteBackup", "OffsiteBackupArgs", "ProdSeams", "Tailnet",
           "TailnetArgs", "VeleroPrefixes", "read_prod"]
