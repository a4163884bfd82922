"""The README's picture of one dashboard: a static drawing of the dashboard's own JSON (its panel grid, titles
and units) with what each panel's queries return over the test fixtures, evaluated by the Prometheus engine
(promql-eval). Not a Grafana screenshot.

``python -m tests.upstream.dashboard_picture`` (after ``make tools``) redraws it; the upstream tier checks that
the committed layout beside it is the current dashboard's.
"""

import json
import sys
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from components.capacity import Budget
from components.platform import dashboard_panels, dashboards
from labctl import toolchain
from tests.upstream.dashboard_fixtures import MINUTES

PICTURED = "homelab-nodes"
PICTURES = Path(__file__).resolve().parents[2] / "docs" / "dashboards"
ROW_HEIGHT = 0.42  # inches per Grafana grid row
COLUMN_WIDTH = 0.62  # inches per grid column
CAPTION = ("Static rendering of the dashboard's JSON (panel grid, titles, units) with its queries evaluated by the "
           "Prometheus engine over the test fixtures; not a Grafana screenshot.")


def pictured() -> dict[str, Any]:
    (board,) = [b for b in dashboards.dashboards(Budget(nodes=[]), None) if b.uid == PICTURED]
    return dashboard_panels.build(board)


def layout(model: dict[str, Any]) -> dict[str, Any]:
    """What the picture shows of the JSON: kept beside it so a changed dashboard shows as a stale picture."""
    return {"uid": model["uid"], "title": model["title"],
            "panels": [{"title": p["title"], "type": p["type"], "gridPos": p["gridPos"],
                        "unit": p.get("fieldConfig", {}).get("defaults", {}).get("unit"),
                        "queries": [t.get("expr") for t in p.get("targets", [])]} for p in model["panels"]]}


def _legend(template: str, labels: dict[str, str]) -> str:
    for key, value in labels.items():
        template = template.replace("{{" + key + "}}", value)
    return template


def _scaled(value: float, unit: str | None) -> tuple[float, str]:
    if unit == "bytes":
        return value / 2**30, "GiB"
    if unit == "Bps":
        return value / 2**20, "MiB/s"
    if unit == "percentunit":
        return value * 100, "%"
    return value, "" if unit in (None, "short") else unit


def draw(model: dict[str, Any], results: list[list[dict[str, Any]]], path: Path) -> None:
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in model["panels"])
    figure = Figure(figsize=(dashboard_panels.GRID_COLUMNS * COLUMN_WIDTH, rows * ROW_HEIGHT + 1.2))
    figure.suptitle(f"{model['title']} (Grafana dashboard {model['uid']})", x=0.01, ha="left", fontsize=13)
    figure.text(0.01, 0.005, CAPTION, fontsize=8, style="italic")
    top, height = 0.93, 0.87
    for panel, panel_results in zip(model["panels"], results, strict=True):
        grid = panel["gridPos"]
        columns = dashboard_panels.GRID_COLUMNS
        axes = figure.add_axes((grid["x"] / columns + 0.035, top - (grid["y"] + grid["h"]) / rows * height + 0.05,
                                grid["w"] / columns - 0.05, grid["h"] / rows * height - 0.09))
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit")
        axes.set_title(panel["title"], loc="left", fontsize=10)
        if panel["type"] == "stat":
            values = [(_legend(t.get("legendFormat", ""), s["labels"]), s["points"][-1][1])
                      for t, result in zip(panel["targets"], panel_results, strict=True) for s in result]
            axes.axis("off")
            for index, (label, value) in enumerate(values):
                axes.text((index + 0.5) / len(values), 0.45, f"{value:g}", ha="center", fontsize=22)
                axes.text((index + 0.5) / len(values), 0.1, label, ha="center", fontsize=9)
            continue
        scaled_unit = ""
        for target, result in zip(panel["targets"], panel_results, strict=True):
            for curve in result:
                minutes = [t / 60 - MINUTES for t, _ in curve["points"]]
                values = [_scaled(v, unit) for _, v in curve["points"]]
                scaled_unit = values[0][1] if values else ""
                axes.plot(minutes, [v for v, _ in values],
                          label=_legend(target.get("legendFormat", ""), curve["labels"]))
        axes.set_xlabel("minutes", fontsize=8)
        axes.set_ylabel(scaled_unit, fontsize=8)
        axes.tick_params(labelsize=7)
        axes.legend(fontsize=7, loc="upper left")
    figure.savefig(path, dpi=80)


def main() -> int:
    from tests.upstream.test_dashboards import evaluate

    promql_eval = toolchain.tool_path("promql-eval")
    if not promql_eval.is_file():
        print(f"promql-eval is not built at {promql_eval}: run `make tools` first", file=sys.stderr)
        return 3
    model = pictured()
    exprs = [[t["expr"] for t in panel["targets"]] for panel in model["panels"]]
    flat = evaluate(promql_eval, [e for group in exprs for e in group], step="2m")
    results, index = [], 0
    for group in exprs:
        results.append([flat[index + i]["series"] for i in range(len(group))])
        index += len(group)
    PICTURES.mkdir(parents=True, exist_ok=True)
    draw(model, results, PICTURES / f"{PICTURED}.png")
    (PICTURES / f"{PICTURED}.layout.json").write_text(json.dumps(layout(model), indent=1) + "\n")
    print(f"drew {PICTURES / (PICTURED + '.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
