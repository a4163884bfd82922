"""`make bench`: synth time for prod and for lab with 1, 5, 20, 50 experiments, against the SDK floor.

Each number is the median of several runs, each in a fresh Python process (no warm caches, no mock state
shared). Writes ``benchmarks/results.json``, ``benchmarks/results.md`` (the README links it) and
``benchmarks/lab-scaling.png``, and prints the table.
"""

import json
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from rich.console import Console
from rich.progress import track
from rich.table import Table

from benchmarks.cases import EXPERIMENT_COUNTS, case_names

HERE = Path(__file__).resolve().parent
RUNS = 5


def run_once(*arguments: str) -> str:
    command = [sys.executable, "-m", "benchmarks.run_once", *arguments]
    return subprocess.run(command, capture_output=True, text=True, check=True, cwd=HERE.parent).stdout


def measure(arguments: list[str], runs: int = RUNS) -> dict[str, Any]:
    samples = [json.loads(run_once(*arguments).strip().splitlines()[-1]) for _ in range(runs)]
    return {"seconds": statistics.median(s["seconds"] for s in samples), "resources": samples[0]["resources"]}


def measure_case(case: str, scratch: Path) -> dict[str, Any]:
    """The program and its floor, each the median of fresh processes; the floor replays registrations
    recorded by yet another process, so neither starts warmer than the other."""
    recording = scratch / f"{case}.json"
    run_once(case, "--record", str(recording))
    program, floor = measure([case]), measure([case, "--floor", str(recording)])
    return {"case": case, "resources": program["resources"], "seconds": program["seconds"],
            "msPerResource": 1000 * program["seconds"] / program["resources"],
            "floorSeconds": floor["seconds"], "ratio": program["seconds"] / floor["seconds"]}


def linear_fit(xs: list[float], ys: list[float]) -> tuple[float, float, float]:
    """Slope, intercept and R² of the least-squares line through the points."""
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum((x - mean_x) ** 2 for x in xs)
    intercept = mean_y - slope * mean_x
    residual = sum((y - (slope * x + intercept)) ** 2 for x, y in zip(xs, ys, strict=True))
    total = sum((y - mean_y) ** 2 for y in ys)
    return slope, intercept, 1 - residual / total if total else 1.0


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        rows = [measure_case(case, Path(scratch)) for case in track(case_names(), description="timing cases")]
    lab = [row for row in rows if row["case"].startswith("lab-")]
    slope, intercept, r2 = linear_fit([float(n) for n in EXPERIMENT_COUNTS], [row["seconds"] for row in lab])
    machine = {"python": platform.python_version(), "machine": platform.machine(), "processor": platform.processor(),
               "cpus": __import__("os").cpu_count()}
    report = {"machine": machine, "runs": RUNS, "rows": rows,
              "labFit": {"secondsPerExperiment": slope, "intercept": intercept, "r2": r2}}
    (HERE / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = ["| case | resources | seconds | ms/resource | floor s | ratio |", "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r['case']} | {r['resources']} | {r['seconds']:.3f} | {r['msPerResource']:.2f} | "
              f"{r['floorSeconds']:.3f} | {r['ratio']:.2f} |" for r in rows]
    lines.append(f"\nlab: {slope:.3f} s per experiment, R² = {r2:.3f}; median of {RUNS} fresh-process runs on "
                 f"{machine['cpus']} CPUs, Python {machine['python']} ({machine['machine']}).")
    (HERE / "results.md").write_text("\n".join(lines) + "\n")
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.plot(EXPERIMENT_COUNTS, [row["seconds"] for row in lab], "o-", label="program")
    axis.plot(EXPERIMENT_COUNTS, [row["floorSeconds"] for row in lab], "s--", label="SDK floor")
    axis.plot(EXPERIMENT_COUNTS, [slope * n + intercept for n in EXPERIMENT_COUNTS], ":", label=f"fit, R²={r2:.3f}")
    axis.set_xlabel("experiments in the lab stack")
    axis.set_ylabel("synth seconds (median)")
    axis.legend(frameon=False)
    figure.tight_layout()
    figure.savefig(HERE / "lab-scaling.png", dpi=100)
    table = Table(title="labctl synth vs the SDK floor")
    for column in ("case", "resources", "seconds", "ms/resource", "floor s", "ratio"):
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(r["case"], str(r["resources"]), f"{r['seconds']:.3f}", f"{r['msPerResource']:.2f}",
                      f"{r['floorSeconds']:.3f}", f"{r['ratio']:.2f}")
    console = Console(emoji=False)
    console.print(table)
    console.print(f"lab: {slope:.3f} s per experiment, R² = {r2:.3f}")


if __name__ == "__main__":
    main()
