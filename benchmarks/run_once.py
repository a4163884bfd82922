"""One measurement in a fresh process, printed as JSON.

``python -m benchmarks.run_once CASE`` times the program; ``CASE --record FILE`` keeps the case's
registrations; ``CASE --floor FILE`` times the floor replaying them.
"""

import json
import sys
from pathlib import Path

from benchmarks.cases import record, timed


def main(argv: list[str]) -> None:
    case, mode, path = [*argv, "", ""][:3]
    if mode == "--record":
        record(case, Path(path))
        return
    seconds, resources = timed(case, floor=Path(path) if mode == "--floor" else None)
    print(json.dumps({"case": case, "floor": mode == "--floor", "seconds": seconds, "resources": resources}))


if __name__ == "__main__":
    main(sys.argv[1:])
