"""``labctl capacity [prod]``: the capacity plan per node and in total, with the lab's experiment quotas, and its
chart (the plan itself and its chart: labctl/capacity.py)."""

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from labctl import output_dir
from labctl.capacity import chart, with_experiments
from labctl.commands.reporting import platform_stack, report_config_error, usage_error
from labctl.exit_codes import ExitCode
from labctl.experiments.request import RequestError
from labctl.summary import budget_table, overhead_table
from labctl.synth import PROJECT_DIR, StackFileError, stack_reference_outputs, synthesize


def run(args: argparse.Namespace, console: Console) -> int:
    project = Path(args.project).resolve()
    out = Path(args.out) if args.out else Path("out") / args.stack
    try:
        output_dir.check_output_dir(out)
        platform_stack(args.stack, project)
    except (FileNotFoundError, RequestError, output_dir.UnsafeOutputError) as error:
        return usage_error(error, console)
    except StackFileError as error:
        return report_config_error(error, args.stack, console)
    try:
        prod = synthesize(args.stack, project_dir=project)
    except Exception as error:
        return report_config_error(error, args.stack, console)
    lab = None
    if (project / "Pulumi.lab.yaml").is_file():
        try:
            lab = synthesize("lab", project_dir=project, prod_outputs=stack_reference_outputs(prod)).outputs
        except Exception as error:
            return report_config_error(error, "lab", console)
    plan = with_experiments(prod.outputs["capacity"], lab)
    console.print(budget_table(plan))
    console.print(overhead_table({**prod.outputs.get("vmOverhead", {}), **(lab or {}).get("vmOverhead", {})}))
    output_dir.claim_output_dir(out)
    path = chart(plan, out / "capacity.png", f"capacity of {args.stack}")
    console.print(f"chart: {path}")
    return ExitCode.OK


def add(commands: Any) -> None:
    capacity = commands.add_parser("capacity", help="the capacity plan per node and in total, and its chart")
    capacity.add_argument("stack", nargs="?", default="prod", help="the platform stack (prod)")
    capacity.add_argument("--out", help="where to write capacity.png (default: out/STACK)")
    capacity.add_argument("--project", default=str(PROJECT_DIR), help="project directory")
    capacity.set_defaults(run=run)
