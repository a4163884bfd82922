"""labctl's exit codes, named once (the README's table lists them)."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    # Bad stack config, a plan that does not fit, a request the current stacks refuse, a failed update or drill.
    REFUSED = 1
    # Bad command line: argparse's own errors, and argument values labctl refuses (names, sizes, flags, --out).
    USAGE = 2
    # The Pulumi CLI is not on PATH (experiment commands need it).
    NO_PULUMI_CLI = 3
    # Stopped with Ctrl-C.
    INTERRUPTED = 130
