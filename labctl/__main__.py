"""``python -m labctl``: the homelab's command line, one module per command (labctl/commands/, and
labctl/experiments/cli.py for `experiment`)."""

import argparse
import sys

from rich.console import Console

from labctl.commands import capacity, runbooks, synth
from labctl.experiments.cli import add_commands


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="labctl", description="The homelab's command line.")
    commands = root.add_subparsers(dest="command", required=True)
    synth.add(commands)
    capacity.add(commands)
    runbooks.add(commands)
    add_commands(commands)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # Piped or in CI there is no terminal width to honour: wide enough that tables and messages stay whole.
    width = None if sys.stdout.isatty() else 160
    return int(args.run(args, Console(emoji=False, width=width)))


if __name__ == "__main__":
    sys.exit(main())
