"""``labctl synth STACK``: the whole desired state of a stack rendered offline to files, for a person to read."""

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from labctl import output_dir, render
from labctl.commands.reporting import report_config_error, usage_error
from labctl.exit_codes import ExitCode
from labctl.experiments.cli import add_request_flags, synth_overrides
from labctl.experiments.request import RequestError
from labctl.summary import print_summary
from labctl.synth import PROJECT_DIR, synthesize


def run(args: argparse.Namespace, console: Console) -> int:
    out_dir = Path(args.out) if args.out else Path("out") / args.stack
    try:
        output_dir.check_output_dir(out_dir)
        project = Path(args.project).resolve()
        result = synthesize(args.stack, project_dir=project,
                            config_overrides=synth_overrides(args.stack, args, project))
    except (FileNotFoundError, RequestError, output_dir.UnsafeOutputError) as error:
        return usage_error(error, console)
    except Exception as error:
        return report_config_error(error, args.stack, console)
    written = render.write(result, out_dir)
    print_summary(result, str(out_dir), len(written), console)
    return ExitCode.OK


def add(commands: Any) -> None:
    synth = commands.add_parser("synth", help="render a stack offline (mock engine) to files; for exp-NAME, "
                                "the experiment flags derive its config as `experiment create` would")
    synth.add_argument("stack", help="stack name: prod, lab or exp-NAME")
    synth.add_argument("--out", help="output directory (default: out/STACK); replaced only if labctl made it "
                       "(it holds .labctl-synth), refused otherwise")
    synth.add_argument("--project", default=str(PROJECT_DIR), help="project directory holding Pulumi.<stack>.yaml")
    add_request_flags(synth)
    synth.set_defaults(run=run)
