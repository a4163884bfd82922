"""The one rule synth follows before it writes: it only ever replaces a folder it made itself.

Synth leaves a marker file in every folder it writes; a folder that exists, holds files, and has no marker is
someone else's, and is refused, never emptied.
"""

from pathlib import Path

# Synth writes this file into every folder it makes, and replaces only a folder that has it.
MARKER = ".labctl-synth"


class UnsafeOutputError(Exception):
    """``--out`` names a folder synth did not make: it is never emptied."""


def check_output_dir(out_dir: Path) -> None:
    """Refuse an ``out_dir`` that exists, is not empty, and was not made by synth (it holds no marker)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UnsafeOutputError(f"--out {out_dir} is a file, not a folder: give a new folder or one synth made")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MARKER).is_file():
        raise UnsafeOutputError(f"--out {out_dir} is a folder synth did not make (it has files and no {MARKER}), "
                                "so it is left as it is: give a new or empty folder, or one synth made")


def claim_output_dir(out_dir: Path) -> None:
    """Make ``out_dir`` labctl's (after ``check_output_dir``): create it and leave the marker in it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MARKER).write_text("made by labctl (synth replaces this folder on each run)\n")
