"""`labctl capacity STACK`: the capacity plan per node and in total, and a chart of it.

The numbers are the budget the program itself computed while registering (the ``capacity`` output synth
records), with the lab's experiment quotas added from the lab stack's own ``experimentQuotas`` output, so
this command, synth's ``capacity.json`` and the program's refusal all read one source.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

LAYERS = ("kubernetes", "platform", "production", "experimentQuota")
# One colour per meaning across the whole picture; the per-node agents have their own.
COLOURS = {"kubernetes": "#7f7f7f", "platform": "#1f77b4", "production": "#2ca02c", "experimentQuota": "#ff7f0e",
           "free": "#c7c7c7", "agents": "#9467bd", "node": "#ffffff"}
EDGE = "#404040"


def with_experiments(capacity: Mapping[str, Any], lab_outputs: Mapping[str, Any] | None) -> dict[str, Any]:
    """Prod's plan with the lab's experiment quotas reserved out of its free capacity."""
    plan = {**capacity, "total": dict(capacity["total"])}
    quotas = (lab_outputs or {}).get("experimentQuotas") or {}
    cpu = sum(int(q["cpu_m"]) for q in quotas.values())
    memory = sum(int(q["memory_mib"]) for q in quotas.values())
    plan["total"]["experimentQuota"] = {"cpu_m": cpu, "memory_mib": memory}
    free = capacity["total"]["free"]
    plan["total"]["free"] = {"cpu_m": free["cpu_m"] - cpu, "memory_mib": free["memory_mib"] - memory}
    return plan


def chart(plan: Mapping[str, Any], path: Path, title: str) -> Path:
    """Two panels: the total budget as stacked bars (memory, CPU) and each node's allocatable vs agents."""
    total = plan["total"]
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    for row, (unit, scale) in enumerate((("memory_mib", 1024), ("cpu_m", 1000))):
        start = 0.0
        for layer in (*LAYERS, "free"):
            width = total[layer][unit] / scale
            left.barh(row, width, left=start, color=COLOURS[layer], edgecolor=EDGE,
                      label=layer if row == 0 else None)
            start += width
        left.text(start, row, f" {total['allocatable'][unit] / scale:.1f}", va="center")
    left.set_yticks([0, 1], ["memory (GiB)", "CPU (cores)"])
    left.set_title("allocatable, by what reserves it")
    left.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=5, frameon=False)
    nodes = plan["nodes"]
    names = [node["name"] for node in nodes]
    agents = [n["perNodeRequests"]["memory_mib"] / 1024 for n in nodes]
    left_for_pods = [n["allocatable"]["memory_mib"] / 1024 - used for n, used in zip(nodes, agents, strict=True)]
    right.bar(names, agents, color=COLOURS["agents"], edgecolor=EDGE, label="per-node agents")
    right.bar(names, left_for_pods, bottom=agents, color=COLOURS["node"], edgecolor=EDGE, hatch="//",
              label="allocatable left for other pods")
    right.set_ylabel("memory (GiB)")
    right.set_title("per node")
    right.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2, frameon=False)
    figure.suptitle(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
