"""`make mutate`: mutation testing of the modules that decide things, with mutmut, and the score per module.

mutmut (configured under ``[tool.mutmut]`` in pyproject.toml) copies the project into ``mutants/``, changes
one operator, constant or call at a time in each listed module, and runs the tests that cover that code. A
mutant the tests catch is killed; one they miss survived, and is either a missing test or an equivalent
change (listed in ``mutation/equivalent.txt`` with the reason). This prints the score (killed / (mutants -
equivalent)), the mutants per module, and every function of those modules that produced no mutant (mutmut
skips decorated functions, so validators call plain functions it can reach), and writes the table to
``mutation/results.md``. It is not part of ``.ci/run``.
"""

import ast
import re
import subprocess
import sys
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
MUTMUT = [sys.executable, "-m", "mutmut"]
# mutmut names a mutant `module.x_function__mutmut_N`, or `module.xǁClassǁmethod__mutmut_N` for a method.
KEY = re.compile(r"^\s*(?P<module>[\w.]+?)\.x(?:_|ǁ)(?P<function>.+?)__mutmut_\d+: (?P<status>[\w ]+)$")


def modules() -> list[Path]:
    """The mutated modules; a listed package stands for its modules (its ``__init__`` only re-exports)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    paths: list[Path] = []
    for entry in config["paths_to_mutate"]:
        path = ROOT / entry
        paths += sorted(p for p in path.glob("*.py") if p.name != "__init__.py") if path.is_dir() else [path]
    return paths


def equivalent() -> set[str]:
    listed = ROOT / "mutation" / "equivalent.txt"
    if not listed.is_file():
        return set()
    return {line.split()[0] for line in listed.read_text().splitlines() if line.strip() and not line.startswith("#")}


def functions(path: Path) -> set[str]:
    """Every function and method defined in ``path`` (methods as Class.name, as mutmut names them)."""
    tree = ast.parse(path.read_text())
    found = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found.add(node.name)
        elif isinstance(node, ast.ClassDef):
            found |= {f"{node.name}.{item.name}" for item in node.body if isinstance(item, ast.FunctionDef)}
    return found


def main(argv: list[str]) -> int:
    """Run mutmut, then report; ``--report`` reports the results of the last run without running again."""
    if "--report" not in argv:
        run = subprocess.run([*MUTMUT, "run", "--max-children", "2"], cwd=ROOT)
        if run.returncode not in (0, 1):
            return run.returncode
    listed = subprocess.run([*MUTMUT, "results", "--all", "true"], cwd=ROOT, capture_output=True, text=True)
    statuses: dict[str, Counter[str]] = defaultdict(Counter)
    mutated: dict[str, set[str]] = defaultdict(set)
    skip = equivalent()
    for line in listed.stdout.splitlines():
        match = KEY.match(line)
        if match is None:
            continue
        key = line.split(":")[0].strip()
        status = "equivalent" if key in skip else match["status"]
        statuses[match["module"]][status] += 1
        mutated[match["module"]].add(match["function"].replace("ǁ", "."))
    table = Table(title="mutation score by module")
    for column in ("module", "mutants", "killed", "survived", "equivalent", "score", "functions with no mutant"):
        table.add_column(column, overflow="fold")
    rows, killed_total, counted_total = [], 0, 0
    for path in modules():
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        counts = statuses[module]
        counted = sum(counts.values()) - counts["equivalent"]
        killed = counts["killed"] + counts["timeout"]
        killed_total, counted_total = killed_total + killed, counted_total + counted
        untouched = sorted(functions(path) - mutated[module])
        row = [module, str(sum(counts.values())), str(killed), str(counts["survived"]), str(counts["equivalent"]),
               f"{100 * killed / counted:.0f}%" if counted else "-", ", ".join(untouched) or "-"]
        rows.append(row)
        table.add_row(*row)
    score = 100 * killed_total / counted_total if counted_total else 0.0
    console = Console(width=200)
    console.print(table)
    console.print(f"score: {score:.1f}% of {counted_total} non-equivalent mutants killed")
    lines = ["| " + " | ".join(r) + " |" for r in rows]
    (ROOT / "mutation" / "results.md").write_text(
        "| module | mutants | killed | survived | equivalent | score | functions with no mutant |\n"
        "| --- | --- | --- | --- | --- | --- | --- |\n" + "\n".join(lines) + f"\n\nscore: {score:.1f}%\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
