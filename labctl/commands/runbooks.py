"""``labctl first-boot`` and ``labctl recover``: what a person does by hand, with this homelab's names filled in
from the platform stack rendered offline (labctl/first_boot.py, labctl/recovery.py)."""

import argparse
from typing import Any

from rich.console import Console

from labctl.commands.reporting import platform_synth
from labctl.exit_codes import ExitCode
from labctl.first_boot import image_lines, nodes_table
from labctl.recovery import runbook
from labctl.synth import PROJECT_DIR


def first_boot(args: argparse.Namespace, console: Console) -> int:
    result = platform_synth(args, console)
    if isinstance(result, int):
        return result
    for line in image_lines(result.outputs["bootImages"]):
        console.print(line, soft_wrap=True, markup=False, highlight=False)
    console.print(nodes_table(result.outputs["bootImages"]))
    return ExitCode.OK


def recover(args: argparse.Namespace, console: Console) -> int:
    result = platform_synth(args, console)
    if isinstance(result, int):
        return result
    for step in runbook(result):
        console.print(f"\n{step.title}", markup=False, highlight=False)
        for command in step.commands:
            console.print(f"  {command}", soft_wrap=True, markup=False, highlight=False)
    return ExitCode.OK


def add(commands: Any) -> None:
    boot = commands.add_parser("first-boot", help="each board's disk image and installer, and each node's "
                               "address and install disk: what a blank SSD needs before the first `pulumi up`")
    boot.add_argument("stack", nargs="?", default="prod", help="the platform stack (prod)")
    boot.add_argument("--project", default=str(PROJECT_DIR), help="project directory")
    boot.set_defaults(run=first_boot)
    again = commands.add_parser("recover", help="the disaster-recovery runbook with this homelab's names filled "
                                "in: etcd from its snapshot, then storage from the off-site copy, then the apps")
    again.add_argument("stack", nargs="?", default="prod", help="the platform stack (prod)")
    again.add_argument("--project", default=str(PROJECT_DIR), help="project directory")
    again.set_defaults(run=recover)
