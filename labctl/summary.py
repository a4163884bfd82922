"""The terminal summary of a synth: resources per layer and type, secrets redacted, placeholders used."""

from collections import Counter

from rich.console import Console
from rich.table import Table

from labctl.engine import SECRET, Registration
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
    console = console or Console()
    table = Table(title=f"stack {result.stack}: {len(result.registrations)} resources")
    table.add_column("layer")
    table.add_column("type")
    table.add_column("count", justify="right")
    for (layer, type_), count in sorted(resource_counts(result).items()):
        table.add_row(layer, type_, str(count))
    console.print(table)
    redacted = sum(count_secrets(r.inputs) for r in result.registrations) + count_secrets(result.outputs)
    console.print(f"secrets redacted: {redacted}")
    console.print(f"placeholders used: {', '.join(result.placeholders) or 'none'}")
    console.print(f"wrote {files} files to {out_dir}")
