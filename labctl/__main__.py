"""``python -m labctl``: the homelab's command line."""

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from labctl import output_dir, render
from labctl.exit_codes import ExitCode
from labctl.experiments.cli import add_commands, add_request_flags, synth_overrides
from labctl.experiments.request import RequestError
from labctl.summary import budget_table, overhead_table, print_summary
from labctl.synth import (
    PROJECT_DIR,
    StackFileError,
    SynthResult,
    cause_of,
    config_error,
    read_stack_file,
    stack_reference_outputs,
    synthesize,
)


def _report_config_error(error: Exception, stack: str, console: Console) -> int:
    """Print a refused stack (exit 1): every config problem with its key and fix, a plan that does not fit with
    its table, a stack file that does not parse; anything else is not ours to explain."""
    from components.capacity import CapacityError
    from components.clusters.experiments import ExperimentCapacityError

    too_big: Exception | None = cause_of(error, CapacityError) or cause_of(error, ExperimentCapacityError)
    if too_big is not None:
        console.print(f"[red]the plan of stack {stack} does not fit[/red] — nothing was written\n"
                      f"{escape(str(too_big))}", highlight=False, soft_wrap=True)
        return ExitCode.REFUSED
    if isinstance(error, StackFileError):
        console.print(f"[red]invalid stack file:[/red] {escape(str(error))}", highlight=False, soft_wrap=True)
        return ExitCode.REFUSED
    problem = config_error(error)
    if problem is None:
        raise error
    console.print(f"[red]invalid config for stack {stack}[/red] — nothing was written")
    for issue in problem.issues:
        console.print(f"  [bold]{escape(issue.key)}[/bold]: {escape(issue.problem)}\n      fix: {escape(issue.fix)}",
                      highlight=False)
    return ExitCode.REFUSED


def _usage_error(error: Exception, console: Console) -> int:
    """A command line labctl refuses: one line, exit 2."""
    console.print(f"[red]error:[/red] {escape(str(error))}", highlight=False, soft_wrap=True)
    return ExitCode.USAGE


def _synth(args: argparse.Namespace, console: Console) -> int:
    out_dir = Path(args.out) if args.out else Path("out") / args.stack
    try:
        output_dir.check_output_dir(out_dir)
        project = Path(args.project).resolve()
        result = synthesize(args.stack, project_dir=project,
                            config_overrides=synth_overrides(args.stack, args, project))
    except (FileNotFoundError, RequestError, output_dir.UnsafeOutputError) as error:
        return _usage_error(error, console)
    except Exception as error:
        return _report_config_error(error, args.stack, console)
    written = render.write(result, out_dir)
    print_summary(result, str(out_dir), len(written), console)
    return ExitCode.OK


def _platform_stack(stack: str, project: Path) -> None:
    """`capacity` and `first-boot` read the platform stack; the lab's experiments are counted from it."""
    role = read_stack_file(stack, project).get("homelab:role")
    if role != "platform":
        raise RequestError(f"stack {stack!r} has role {role!r}, and the nodes and the capacity plan belong to the "
                           "platform stack", "run it on prod (`labctl capacity prod` counts the lab's experiment "
                           "quotas too)")


def _capacity(args: argparse.Namespace, console: Console) -> int:
    from labctl.capacity import chart, with_experiments

    project = Path(args.project).resolve()
    out = Path(args.out) if args.out else Path("out") / args.stack
    try:
        output_dir.check_output_dir(out)
        _platform_stack(args.stack, project)
    except (FileNotFoundError, RequestError, output_dir.UnsafeOutputError) as error:
        return _usage_error(error, console)
    except StackFileError as error:
        return _report_config_error(error, args.stack, console)
    try:
        prod = synthesize(args.stack, project_dir=project)
    except Exception as error:
        return _report_config_error(error, args.stack, console)
    lab = None
    if (project / "Pulumi.lab.yaml").is_file():
        try:
            lab = synthesize("lab", project_dir=project, prod_outputs=stack_reference_outputs(prod)).outputs
        except Exception as error:
            return _report_config_error(error, "lab", console)
    plan = with_experiments(prod.outputs["capacity"], lab)
    console.print(budget_table(plan))
    console.print(overhead_table({**prod.outputs.get("vmOverhead", {}), **(lab or {}).get("vmOverhead", {})}))
    output_dir.claim_output_dir(out)
    path = chart(plan, out / "capacity.png", f"capacity of {args.stack}")
    console.print(f"chart: {path}")
    return ExitCode.OK


def _platform_synth(args: argparse.Namespace, console: Console) -> SynthResult | int:
    """The platform stack rendered offline, or the exit code of why it cannot be."""
    project = Path(args.project).resolve()
    try:
        _platform_stack(args.stack, project)
    except (FileNotFoundError, RequestError) as error:
        return _usage_error(error, console)
    except StackFileError as error:
        return _report_config_error(error, args.stack, console)
    try:
        return synthesize(args.stack, project_dir=project)
    except Exception as error:
        return _report_config_error(error, args.stack, console)


def _first_boot(args: argparse.Namespace, console: Console) -> int:
    from labctl.first_boot import image_lines, nodes_table

    result = _platform_synth(args, console)
    if isinstance(result, int):
        return result
    for line in image_lines(result.outputs["bootImages"]):
        console.print(line, soft_wrap=True, markup=False, highlight=False)
    console.print(nodes_table(result.outputs["bootImages"]))
    return ExitCode.OK


def _recover(args: argparse.Namespace, console: Console) -> int:
    from labctl.recovery import runbook

    result = _platform_synth(args, console)
    if isinstance(result, int):
        return result
    for step in runbook(result):
        console.print(f"\n{step.title}", markup=False, highlight=False)
        for command in step.commands:
            console.print(f"  {command}", soft_wrap=True, markup=False, highlight=False)
    return ExitCode.OK


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="labctl", description="The homelab's command line.")
    commands = root.add_subparsers(dest="command", required=True)
    synth = commands.add_parser("synth", help="render a stack offline (mock engine) to files; for exp-NAME, "
                                "the experiment flags derive its config as `experiment create` would")
    synth.add_argument("stack", help="stack name: prod, lab or exp-NAME")
    synth.add_argument("--out", help="output directory (default: out/STACK); replaced only if labctl made it "
                       "(it holds .labctl-synth), refused otherwise")
    synth.add_argument("--project", default=str(PROJECT_DIR), help="project directory holding Pulumi.<stack>.yaml")
    add_request_flags(synth)
    synth.set_defaults(run=_synth)
    capacity = commands.add_parser("capacity", help="the capacity plan per node and in total, and its chart")
    capacity.add_argument("stack", nargs="?", default="prod", help="the platform stack (prod)")
    capacity.add_argument("--out", help="where to write capacity.png (default: out/STACK)")
    capacity.add_argument("--project", default=str(PROJECT_DIR), help="project directory")
    capacity.set_defaults(run=_capacity)
    first_boot = commands.add_parser("first-boot", help="each board's disk image and installer, and each node's "
                                     "address and install disk: what a blank SSD needs before the first `pulumi up`")
    first_boot.add_argument("stack", nargs="?", default="prod", help="the platform stack (prod)")
    first_boot.add_argument("--project", default=str(PROJECT_DIR), help="project directory")
    first_boot.set_defaults(run=_first_boot)
    recover = commands.add_parser("recover", help="the disaster-recovery runbook with this homelab's names filled "
                                  "in: etcd from its snapshot, then storage from the off-site copy, then the apps")
    recover.add_argument("stack", nargs="?", default="prod", help="the platform stack (prod)")
    recover.add_argument("--project", default=str(PROJECT_DIR), help="project directory")
    recover.set_defaults(run=_recover)
    add_commands(commands)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # Piped or in CI there is no terminal width to honour: wide enough that tables and messages stay whole.
    width = None if sys.stdout.isatty() else 160
    return int(args.run(args, Console(emoji=False, width=width)))


if __name__ == "__main__":
    sys.exit(main())
