"""The shape of a dashboard as the program declares it, and its Grafana JSON built by the foundation SDK.

A panel names the metrics its PromQL reads (``reads``), each from components/platform/metric_catalogue.py; its
description, shown under the panel's title in Grafana, cites where upstream defines each one. The upstream tier
holds ``reads`` to what the real PromQL parser finds in the queries, so a citation cannot drift from its query.
The JSON itself comes from grafana-foundation-sdk's builders (the classic dashboard schema, which Grafana 12
still provisions from files), never written by hand.
"""

import json
from dataclasses import dataclass
from typing import Any, Literal

from grafana_foundation_sdk.builders import dashboard, logs, loki, prometheus, stat, table, tempo, text, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import DataSourceRef

from components.platform.metric_catalogue import cite

Language = Literal["promql", "logql", "traceql"]
Kind = Literal["timeseries", "stat", "table", "logs", "text"]
# Grafana's data sources, as components/platform/monitoring.py provisions them.
DATA_SOURCES: dict[Language, DataSourceRef] = {
    "promql": DataSourceRef(type_val="prometheus", uid="mimir"),
    "logql": DataSourceRef(type_val="loki", uid="loki"),
    "traceql": DataSourceRef(type_val="tempo", uid="tempo"),
}
TAG = "homelab"
GRID_COLUMNS = 24


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Panel:
    title: str
    queries: tuple[Query, ...]
    reads: tuple[str, ...] = ()  # the catalogue metrics the PromQL reads
    unit: str = "short"
    kind: Kind = "timeseries"
    language: Language = "promql"
    width: int = 12
    height: int = 8
    note: str = ""  # said before the citations
    instant: bool = False  # tables and stats of the latest value
    empty: str = ""  # what a stat shows when its query returns nothing

    @property
    def description(self) -> str:
        return " ".join(part for part in (self.note, cite(self.reads) if self.reads else "") if part)


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    panels: tuple[Panel, ...]

    @property
    def file_name(self) -> str:
        return f"{self.uid}.json"


def _target(panel: Panel, query: Query, ref: str) -> Any:
    if panel.language == "logql":
        return loki.Dataquery().expr(query.expr).legend_format(query.legend).ref_id(ref)
    if panel.language == "traceql":
        return tempo.TempoQuery().query(query.expr).query_type("traceql").limit(20).ref_id(ref)
    target = prometheus.Dataquery().expr(query.expr).legend_format(query.legend or "__auto").ref_id(ref)
    return target.instant() if panel.instant else target.range()


def _builder(panel: Panel) -> Any:
    kinds: dict[Kind, Any] = {"timeseries": timeseries.Panel, "stat": stat.Panel, "table": table.Panel,
                              "logs": logs.Panel, "text": text.Panel}
    built = kinds[panel.kind]().title(panel.title).span(panel.width).height(panel.height)
    if panel.kind == "text":
        return built.content(panel.note)
    built = built.description(panel.description).datasource(DATA_SOURCES[panel.language])
    if panel.kind not in ("logs",):
        built = built.unit(panel.unit)
    if panel.empty:
        built = built.no_value(panel.empty)
    for index, query in enumerate(panel.queries):
        built = built.with_target(_target(panel, query, chr(ord("A") + index)))
    return built


def build(board: Dashboard) -> dict[str, Any]:
    """The dashboard's JSON model, as Grafana's file provisioning reads it."""
    builder = (dashboard.Dashboard(board.title).uid(board.uid).description(board.description).tags([TAG])
               .time("now-6h", "now").refresh("1m").readonly())
    for panel in board.panels:
        builder = builder.with_panel(_builder(panel))
    model: dict[str, Any] = json.loads(json.dumps(builder.build(), cls=JSONEncoder))
    return model

