"""The Monitoring page's tables, without Streamlit: what `drgpolicy monitor` finds in a city's
months (`engine.monitor`), as frames a page shows — the same values as its report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from engine.monitor import Monitoring
from engine.monitor.analysis import group_lists, last_value, target_rows, unavailable
from engine.run.indicators import HEADLINE
from studio.formats import indicator as written

MET = {True: "✓ met", False: "✗ not met", None: ""}
#: The tables' columns as the page heads them.
LABELS = {
    "indicator": "指标 indicator",
    "where": "范围 where",
    "period": "期间 period",
    "value": "值 value",
    "target": "目标 target",
    "met": "达标 met",
    "unit": "单位 unit",
    "against": "对照 against",
    "grain": "层级 grain",
    "key": "对象 key",
    "why": "原因 why",
    "list": "名单 list",
    "group": "病组 group",
    "runs": "次数 runs",
    "last value": "最近值 last value",
    "periods": "期间 periods",
}


@dataclass(frozen=True)
class Views:
    """The page's tables, and the series it draws from."""

    monitoring: Monitoring
    targets: pl.DataFrame
    city: pl.DataFrame
    outliers: pl.DataFrame
    lists: pl.DataFrame
    not_available: pl.DataFrame

    @property
    def missed(self) -> int:
        return sum(o.kind == "target" for o in self.monitoring.outliers)

    @property
    def history(self) -> int:
        return sum(o.kind == "history" for o in self.monitoring.outliers)

    @property
    def labels(self) -> list[str]:
        """The labels of the city's indicators, in order."""
        return [s.label for s in self.monitoring.at("city")]

    @property
    def headline(self) -> list[str]:
        city = {s.indicator: s.label for s in self.monitoring.at("city")}
        return [city[name] for name in HEADLINE if name in city]

    def lines(self, grain: str, label: str) -> pl.DataFrame:
        """`key`, `period`, `value` of an indicator (by its label) at a grain, for a chart."""
        periods = self.monitoring.runs.periods
        rows = [
            (s.key, period, value)
            for s in self.monitoring.at(grain)
            if s.label == label
            for period, value in zip(periods, s.values, strict=True)
            if value is not None
        ]
        return pl.DataFrame(rows, schema=["key", "period", "value"], orient="row")

    def wide(self, grain: str, label: str) -> pl.DataFrame:
        """One row per key, one column per period."""
        periods = self.monitoring.runs.periods
        found = [s for s in self.monitoring.at(grain) if s.label == label]
        return pl.DataFrame(
            [[s.key, *(written(v, s.unit) for v in s.values)] for s in found],
            schema=[grain, *periods],
            orient="row",
        )


def views(monitoring: Monitoring) -> Views:
    """The page's tables, each value written by its unit (`studio.formats.indicator`)."""
    periods = monitoring.runs.periods
    targets = [
        [
            s.label,
            s.grain if s.grain == "city" else s.key,
            period,
            written(value, s.unit),
            s.target,
            MET[met],
        ]
        for s, period, value, met in target_rows(monitoring.series, periods)
    ]
    city = [
        [s.label, s.unit, *(written(v, s.unit) for v in s.values)] for s in monitoring.at("city")
    ]
    units = {(s.label, s.grain): s.unit for s in monitoring.series}
    outliers = [
        [
            *(o.kind, o.label, o.grain, o.key, o.period),
            written(o.value, units.get((o.label, o.grain), "")),
            o.why,
        ]
        for o in monitoring.outliers
    ]
    lists = [
        [s.label, s.key, sum(v is not None for v in s.values), written(last_value(s), s.unit)]
        for s in group_lists(monitoring.series)
    ]
    absent = [
        [s.label, s.grain, ", ".join(missing), why]
        for s, missing, why in unavailable(monitoring.series, periods)
    ]
    return Views(
        monitoring,
        _frame(targets, ["indicator", "where", "period", "value", "target", "met"]),
        _frame(city, ["indicator", "unit", *periods]),
        _frame(outliers, ["against", "indicator", "grain", "key", "period", "value", "why"]),
        _frame(lists, ["list", "group", "runs", "last value"]),
        _frame(absent, ["indicator", "grain", "periods", "why"]),
    )


def _frame(rows: Sequence[Sequence[Any]], columns: list[str]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=columns, orient="row", strict=False)
