"""How every command reports what it refuses: a stack's config problems or a plan that does not fit (exit 1), a
command line labctl refuses (exit 2); and the platform stack the read-only commands work from."""

import argparse
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from labctl.exit_codes import ExitCode
from labctl.experiments.request import RequestError
from labctl.synth import StackFileError, SynthResult, cause_of, config_error, read_stack_file, synthesize


def report_config_error(error: Exception, stack: str, console: Console) -> int:
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


def usage_error(error: Exception, console: Console) -> int:
    """A command line labctl refuses: one line, exit 2."""
    console.print(f"[red]error:[/red] {escape(str(error))}", highlight=False, soft_wrap=True)
    return ExitCode.USAGE


def platform_stack(stack: str, project: Path) -> None:
    """`capacity` and `first-boot` read the platform stack; the lab's experiments are counted from it."""
    role = read_stack_file(stack, project).get("homelab:role")
    if role != "platform":
        raise RequestError(f"stack {stack!r} has role {role!r}, and the nodes and the capacity plan belong to the "
                           "platform stack", "run it on prod (`labctl capacity prod` counts the lab's experiment "
                           "quotas too)")


def platform_synth(args: argparse.Namespace, console: Console) -> SynthResult | int:
    """The platform stack rendered offline, or the exit code of why it cannot be."""
    project = Path(args.project).resolve()
    try:
        platform_stack(args.stack, project)
    except (FileNotFoundError, RequestError) as error:
        return usage_error(error, console)
    except StackFileError as error:
        return report_config_error(error, args.stack, console)
    try:
        return synthesize(args.stack, project_dir=project)
    except Exception as error:
        return report_config_error(error, args.stack, console)


