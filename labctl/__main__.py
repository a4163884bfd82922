"""``python -m labctl``: the homelab's command line."""

import argparse
import sys
from pathlib import Path

from rich.console import Console

from labctl import render
from labctl.experiments.cli import add_commands, add_request_flags, synth_overrides
from labctl.experiments.request import RequestError
from labctl.summary import print_summary
from labctl.synth import PROJECT_DIR, config_error, synthesize


def _synth(args: argparse.Namespace, console: Console) -> int:
    out_dir = Path(args.out) if args.out else Path("out") / args.stack
    try:
        project = Path(args.project).resolve()
        result = synthesize(args.stack, project_dir=project,
                            config_overrides=synth_overrides(args.stack, args, project))
    except (FileNotFoundError, RequestError) as error:
        console.print(f"[red]error:[/red] {error}")
        return 2
    except Exception as error:
        problem = config_error(error)
        if problem is None:
            raise
        console.print(f"[red]invalid config for stack {args.stack}[/red] — nothing was written")
        for issue in problem.issues:
            console.print(f"  [bold]{issue.key}[/bold]: {issue.problem}\n      fix: {issue.fix}", highlight=False)
        return 1
    written = render.write(result, out_dir)
    print_summary(result, str(out_dir), len(written), console)
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="labctl", description="The homelab's command line.")
    commands = root.add_subparsers(dest="command", required=True)
    synth = commands.add_parser("synth", help="render a stack offline (mock engine) to files; for exp-NAME, "
                                "the experiment flags derive its config as `experiment create` would")
    synth.add_argument("stack", help="stack name: prod, lab or exp-NAME")
    synth.add_argument("--out", help="output directory (default: out/STACK); wiped first")
    synth.add_argument("--project", default=str(PROJECT_DIR), help="project directory holding Pulumi.<stack>.yaml")
    add_request_flags(synth)
    synth.set_defaults(run=_synth)
    add_commands(commands)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.run(args, Console(emoji=False)))


if __name__ == "__main__":
    sys.exit(main())
