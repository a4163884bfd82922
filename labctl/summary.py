"""The terminal summary of a synth: resources per layer and type, secrets redacted, placeholders used."""

from collections import Counter
from typing import Any

from rich.console import Console
from rich.table import Table

from labctl.engine import SECRET, Registration
from labctl.mocks import PLACEHOLDER
from labctl.synth import SynthResult


def layer_of(registration: Registration, by_urn: dict[str, Registration]) -> str:
    """The layer a resource belongs to: the ``homelab:<layer>:<Type>`` of its outermost component."""
    layer = "stack"
    current: Registration | None = registration
    while current is not None:
        if current.type.startswith("homelab:"):
            layer = current.type.split(":")[1]
        current = by_urn.get(current.parent)
    if layer == "stack" and registration.type.startswith("pulumi:"):
        return "seams" if registration.type == "pulumi:pulumi:StackReference" else "providers"
    return layer


def resource_counts(result: SynthResult) -> Counter[tuple[str, str]]:
    by_urn = {r.urn: r for r in result.registrations}
    return Counter((layer_of(r, by_urn), r.type) for r in result.registrations)


def count_secrets(value: object) -> int:
    if value == SECRET:
        return 1
    if isinstance(value, dict):
        return sum(count_secrets(item) for item in value.values())
    if isinstance(value, list):
        return sum(count_secrets(item) for item in value)
    return 0


def print_summary(result: SynthResult, out_dir: str, files: int, console: Console | None = None) -> None:
    console = console or Console(emoji=False)
    table = Table(title=f"stack {result.stack}: {len(result.registrations)} resources")
    table.add_column("layer")
    # Type names fold rather than end in an ellipsis: two rows must never look alike.
    table.add_column("type", overflow="fold")
    table.add_column("count", justify="right")
    for (layer, type_), count in sorted(resource_counts(result).items()):
        table.add_row(layer, type_, str(count))
    console.print(table)
    redacted = sum(count_secrets(r.inputs) for r in result.registrations) + count_secrets(result.outputs)
    console.print(f"secrets redacted: {redacted}")
    # Each by its marker alone: a placeholder shaped like its secret (a PEM key) spans lines.
    markers = [line for value in result.placeholders for line in value.splitlines() if PLACEHOLDER in line]
    console.print(f"placeholders used: {', '.join(markers) or 'none'}")
    if "capacity" in result.outputs:
        console.print(budget_table(result.outputs["capacity"], "capacity budget of this stack alone (requests; "
                                   "`labctl capacity prod` adds the lab's experiment quotas)"))
    console.print(f"wrote {files} files to {out_dir}")


def budget_table(capacity: dict[str, Any], title: str = "capacity budget (requests)") -> Table:
    """The capacity budget per node and in total, as the program computed it."""
    table = Table(title=title)
    for column in ("", "CPU (m)", "memory (Mi)", "memory %"):
        table.add_column(column, justify="right" if column else "left")
    def row(label: str, amount: dict[str, int], of: dict[str, int]) -> None:
        share = f"{100 * amount['memory_mib'] / max(of['memory_mib'], 1):.0f}%"
        table.add_row(label, str(amount["cpu_m"]), str(amount["memory_mib"]), share)

    for node in capacity["nodes"]:
        row(f"{node['name']} allocatable", node["allocatable"], node["allocatable"])
        row(f"{node['name']} per-node agents", node["perNodeRequests"], node["allocatable"])
    for key in ("allocatable", "kubernetes", "platform", "scheduled", "production", "experimentQuota", "free"):
        row(f"total {key}", capacity["total"][key], capacity["total"]["allocatable"])
    # Not reserved (experiments may use it; production preempts them while it rolls out), but it must fit.
    if capacity["total"].get("rolloutRoom", {}).get("memory_mib"):
        row("production rollout room", capacity["total"]["rolloutRoom"], capacity["total"]["allocatable"])
    return table


def overhead_table(overheads: dict[str, dict[str, Any]]) -> Table:
    """Each guest cluster's VM: guest memory and what KubeVirt's launcher adds to it, term by term."""
    table = Table(title="per VM: KubeVirt launcher overhead (v1.6.2 GetMemoryOverhead)")
    for column in ("cluster", "guest (Mi)", "overhead (Mi)", "terms (Mi)"):
        table.add_column(column, justify="left" if column in ("cluster", "terms (Mi)") else "right")
    for cluster, overhead in overheads.items():
        terms = ", ".join(f"{name} {value:g}" for name, value in overhead["terms"].items())
        table.add_row(cluster, str(overhead["guestMib"]), str(overhead["overheadMib"]), terms)
    return table
