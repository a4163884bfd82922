"""`labctl experiment create|list|destroy|extend|gc` and the experiment flags `labctl synth` shares."""

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pulumi.automation as auto
from rich.console import Console
from rich.live import Live
from rich.markup import escape

from components.clusters.experiments import ExperimentCapacityError
from components.config import Versions
from labctl.exit_codes import ExitCode
from labctl.experiments.automation import (
    BACKEND_ENV,
    PROD_STACK,
    CliMissingError,
    Experiments,
    backend_env,
    require_cli,
)
from labctl.experiments.capacity import check_name_is_free, creation_lock, lock_path, request_fits
from labctl.experiments.drill import drill_report
from labctl.experiments.progress import Progress
from labctl.experiments.request import (
    EXPIRES_TAG,
    ExperimentRequest,
    RequestError,
    check_name,
    experiment_name,
    is_experiment_stack,
    stack_config,
    stack_name,
)
from labctl.synth import PROJECT_DIR, read_stack_file, synthesize

# The flags that describe an experiment; one left out takes ExperimentRequest's default.
REQUEST_FLAGS = ("workers", "control_planes", "size", "zones", "chaos", "like", "ttl", "restore_from")


def add_request_flags(parser: argparse.ArgumentParser) -> None:
    # Flags not given stay off the namespace, so a command can tell what was asked for.
    absent = argparse.SUPPRESS
    parser.add_argument("--workers", type=int, default=absent, help="workers (default 1)")
    parser.add_argument("--control-planes", type=int, default=absent, help="control planes (default 1)")
    parser.add_argument("--size", default=absent, help="small (default), medium or large")
    parser.add_argument("--zones", type=int, default=absent, help="simulated zones (1-3, default 1)")
    parser.add_argument("--chaos", action="store_true", default=absent, help="install Chaos Mesh for fault injection")
    parser.add_argument("--like", choices=["production"], default=absent,
                        help="deploy production's apps into the experiment")
    parser.add_argument("--ttl", default=absent, help="time to live, e.g. 8h (default) or 2d")
    parser.add_argument("--restore-from", default=absent,
                        help="restore drill: `latest` (or a backup name) of production's backups")


def given_request_flags(args: argparse.Namespace) -> dict[str, Any]:
    return {flag: getattr(args, flag) for flag in REQUEST_FLAGS if hasattr(args, flag)}


def request_from(args: argparse.Namespace, name: str) -> ExperimentRequest:
    return ExperimentRequest(name=name, **given_request_flags(args))


def _experiments(args: argparse.Namespace) -> Experiments:
    return Experiments(auto, Path(args.project).resolve(), backend_env(os.environ, Path.home()))


def _create(args: argparse.Namespace, console: Console) -> int:
    with creation_lock(lock_path(Path.home())):
        return _create_locked(args, console)


def _create_locked(args: argparse.Namespace, console: Console) -> int:
    project = Path(args.project).resolve()
    experiments = _experiments(args)
    existing = experiments.stack_names()
    request = request_from(args, args.name)
    check_name(request.name, existing)
    template = read_stack_file("lab", project)
    config = stack_config(template, request)
    # A bare name or a whole org/project/stack: the Automation API selects either on this backend.
    prod_stack = str(template.get("homelab:prodStack", PROD_STACK))
    prod_outputs = experiments.outputs(prod_stack)
    others = {s: experiments.outputs(s) for s in sorted(existing) if s == "lab" or is_experiment_stack(s)}
    check_name_is_free(request.name, others)
    left = request_fits(prod_outputs, others, config["homelab:experiments"][0], Versions())
    expected = synthesize(stack_name(request.name), project_dir=project, config_overrides=config,
                          prod_outputs=prod_outputs)
    progress = Progress(total=len(expected.registrations))
    with Live(progress.line(), console=console, refresh_per_second=4) as live:
        def on_event(event: Any) -> None:
            progress.handle(event)
            live.update(progress.line())

        try:
            experiments.create(request.name, config, request.ttl, datetime.now(UTC), on_event,
                               preview=args.preview)
        except auto.CommandError as error:
            live.stop()
            return _update_failed(console, request, error, preview=args.preview)
    verb = "previewed" if args.preview else "created"
    console.print(f"{verb} {stack_name(request.name)}: {progress.changes or progress.done} "
                  f"in {progress.elapsed:.0f}s; free after it: {left.cpu_m}m CPU, {left.memory_mib}Mi memory")
    if args.preview:
        return ExitCode.OK
    console.print(f"kubeconfig: pulumi stack output experimentKubeconfigs --show-secrets "
                  f"--stack {stack_name(request.name)}\nexpires after {request.ttl}; "
                  f"`labctl experiment extend {request.name} --ttl 4h` to keep it longer")
    if request.restore_from:
        passed, message = drill_report(experiments.outputs(stack_name(request.name)), request.name)
        console.print(message)
        return ExitCode.OK if passed else ExitCode.REFUSED
    return ExitCode.OK


def _engine_errors(console: Console, error: Exception) -> None:
    """The engine's own error lines of a failed command (the last line if none says error), not its traceback,
    and each mandatory policy violation with the two lines under it (the rule and what broke it)."""
    lines = str(error).splitlines()
    violations = [text.strip() for at, line in enumerate(lines) if "[mandatory]" in line
                  for text in lines[at:at + 3]]
    errors = [line.strip() for line in lines if "error" in line.lower()]
    for line in violations[:9] + errors[:5] or [line.strip() for line in lines if line.strip()][-1:]:
        console.print(f"  {line}", highlight=False, soft_wrap=True, markup=False)


def _update_failed(console: Console, request: ExperimentRequest, error: Exception, preview: bool) -> int:
    """A failed `pulumi up` (or preview): the engine's own error lines, what it means, and what to do."""
    _engine_errors(console, error)
    if preview:
        console.print(f"[red]preview failed:[/red] nothing was created, and the stack "
                      f"{stack_name(request.name)} made for the preview is removed again", highlight=False)
        return ExitCode.REFUSED
    if request.restore_from:
        console.print("restore drill FAILED: the update stopped before the drill's Jobs completed — the restore "
                      "did not end Completed or an app did not roll out (see `kubectl -n velero logs "
                      "job/restore-drill-ready` in the experiment)", highlight=False, soft_wrap=True)
    else:
        console.print(f"[red]failed:[/red] {stack_name(request.name)} did not come up", highlight=False)
    console.print(f"the stack stays for inspection; `labctl experiment destroy {request.name}` removes it",
                  highlight=False)
    return ExitCode.REFUSED


def _list(args: argparse.Namespace, console: Console) -> int:
    experiments = _experiments(args)
    for stack in experiments.experiments():
        console.print(f"{stack}  expires {experiments.tags(stack).get(EXPIRES_TAG, 'never')}")
    return ExitCode.OK


def _destroy(args: argparse.Namespace, console: Console) -> int:
    stack = stack_name(args.name)
    progress = Progress(total=0)
    experiments = _experiments(args)
    with Live(progress.line(), console=console, refresh_per_second=4) as live:
        def on_event(event: Any) -> None:
            progress.handle(event)
            live.update(progress.line())

        try:
            experiments.destroy(stack, on_event)
        except auto.CommandError as error:
            live.stop()
            _engine_errors(console, error)
            console.print(f"[red]failed:[/red] {stack} was not destroyed; what is left stays in the stack: run "
                          f"`labctl experiment destroy {args.name}` again, or `pulumi destroy --stack {stack}`",
                          highlight=False, soft_wrap=True)
            return ExitCode.REFUSED
    console.print(f"destroyed {stack} ({progress.done} resources, {progress.elapsed:.0f}s)")
    return ExitCode.OK


def _extend(args: argparse.Namespace, console: Console) -> int:
    expiry = _experiments(args).extend(stack_name(args.name), args.ttl, datetime.now(UTC))
    console.print(f"{stack_name(args.name)} now expires at {expiry}")
    return ExitCode.OK


def _gc(args: argparse.Namespace, console: Console) -> int:
    experiments = _experiments(args)
    expired = experiments.expired(datetime.now(UTC))
    failed = []
    for stack in expired:
        console.print(f"destroying expired {stack}")
        try:
            experiments.destroy(stack, lambda event: None)
        except auto.CommandError as error:
            # One stuck experiment does not keep the others alive.
            _engine_errors(console, error)
            failed.append(stack)
    console.print(f"{len(expired) - len(failed)} expired experiment(s) destroyed")
    if failed:
        console.print(f"[red]failed:[/red] {', '.join(failed)} not destroyed; `labctl experiment gc` tries again",
                      highlight=False, soft_wrap=True)
        return ExitCode.REFUSED
    return ExitCode.OK


def check_arguments(args: argparse.Namespace) -> None:
    """What the command line alone decides, before the Pulumi CLI is looked for: the name and the flags."""
    name = getattr(args, "name", None)
    if name is None:
        return
    check_name(name, set())
    if args.action == "create":
        stack_config(read_stack_file("lab", Path(args.project).resolve()), request_from(args, name))


def run(args: argparse.Namespace, console: Console) -> int:
    """Every experiment command: its arguments, then the CLI check, then the command; refusals in one line."""
    try:
        check_arguments(args)
        require_cli()
        return int(args.experiment_run(args, console))
    except CliMissingError as error:
        console.print(str(error), highlight=False, soft_wrap=True)
        return ExitCode.NO_PULUMI_CLI
    except RequestError as error:
        label = "refused" if error.exit_code == ExitCode.REFUSED else "error"
        console.print(f"[red]{label}:[/red] {escape(str(error))}", highlight=False, soft_wrap=True)
        return error.exit_code
    except ExperimentCapacityError as error:
        console.print(f"[red]refused:[/red] {escape(str(error))}", highlight=False, soft_wrap=True)
        return ExitCode.REFUSED
    except KeyboardInterrupt:
        console.print("cancelled: the update was stopped; `labctl experiment destroy NAME` cleans up what exists")
        return ExitCode.INTERRUPTED
    except auto.StackNotFoundError as error:
        _engine_errors(console, error)
        console.print(f"[red]refused:[/red] a stack this needs is not on the backend labctl uses "
                      f"({escape(backend_env(os.environ, Path.home())[BACKEND_ENV])}, from {BACKEND_ENV}): "
                      f"`labctl experiment list` shows the experiments there, and prod and lab must exist first "
                      f"(README › Running it for real)", highlight=False, soft_wrap=True)
        return ExitCode.REFUSED
    except auto.CommandError as error:
        _engine_errors(console, error)
        console.print("[red]failed:[/red] the Pulumi CLI refused the command (its error is above)", highlight=False)
        return ExitCode.REFUSED


def add_commands(commands: Any) -> None:
    experiment = commands.add_parser("experiment", help="ephemeral experiment stacks (Automation API)")
    experiment.add_argument("--project", default=str(PROJECT_DIR), help="project directory")
    experiment.set_defaults(run=run)
    actions = experiment.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create and deploy exp-NAME")
    create.add_argument("name")
    add_request_flags(create)
    create.add_argument("--preview", action="store_true", help="preview only; the stack is removed afterwards")
    create.set_defaults(experiment_run=_create)
    actions.add_parser("list", help="experiment stacks and their expiry").set_defaults(experiment_run=_list)
    destroy = actions.add_parser("destroy", help="destroy exp-NAME and remove its stack")
    destroy.add_argument("name")
    destroy.set_defaults(experiment_run=_destroy)
    extend = actions.add_parser("extend", help="push exp-NAME's expiry out")
    extend.add_argument("name")
    extend.add_argument("--ttl", required=True)
    extend.set_defaults(experiment_run=_extend)
    actions.add_parser("gc", help="destroy every expired experiment").set_defaults(experiment_run=_gc)


def synth_overrides(stack: str, args: argparse.Namespace, project: Path) -> dict[str, Any] | None:
    """For `labctl synth exp-NAME [flags]`: the config `experiment create` would set, from the same flags."""
    if stack == stack_name(""):
        raise RequestError("'exp-' names no experiment", "give it a name: `labctl synth exp-NAME`")
    if not is_experiment_stack(stack):
        given = sorted(f"--{flag.replace('_', '-')}" for flag in given_request_flags(args))
        if given:
            kind = "is an experiment flag" if len(given) == 1 else "are experiment flags"
            raise RequestError(f"{', '.join(given)} {kind}, and {stack!r} is not an experiment stack",
                               "leave them out, or synth an experiment stack: `labctl synth exp-NAME " +
                               " ".join(given) + " ...`")
        return None
    name = experiment_name(stack)
    check_name(name, set())
    return stack_config(read_stack_file("lab", project), request_from(args, name))


__all__ = ["add_commands", "add_request_flags", "synth_overrides"]
