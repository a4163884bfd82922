"""Every Mermaid block of the README parses with Mermaid's own parser (a diagram GitHub would not draw fails)."""

import subprocess
from pathlib import Path

from labctl.synth import PROJECT_DIR


def _parse(mermaid: Path, text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(mermaid)], input=text, capture_output=True, text=True, timeout=120)


def test_every_readme_diagram_parses(mermaid: Path):
    parsed = _parse(mermaid, (PROJECT_DIR / "README.md").read_text())
    assert parsed.returncode == 0, parsed.stdout + parsed.stderr
    assert "0 failed" in parsed.stdout and "block(s)" in parsed.stdout


def test_the_parser_refuses_what_mermaid_cannot_draw(mermaid: Path):
    # An edge label with parentheses, unquoted: what the README's diagram once had.
    broken = "```mermaid\nflowchart TD\n  a -->|kubeconfig (secret)| b\n```\n"
    parsed = _parse(mermaid, broken)
    assert parsed.returncode == 1 and "Parse error" in parsed.stdout
