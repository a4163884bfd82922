"""One measurement in a fresh process: `python -m benchmarks.run_once CASE [--floor]` prints JSON."""

import json
import sys

from benchmarks.cases import timed


def main(argv: list[str]) -> None:
    seconds, resources = timed(argv[0], floor="--floor" in argv[1:])
    print(json.dumps({"case": argv[0], "floor": "--floor" in argv[1:], "seconds": seconds, "resources": resources}))


if __name__ == "__main__":
    main(sys.argv[1:])
