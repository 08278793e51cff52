"""What a new version does to the run-monitoring indicators (指标变化): each indicator of the
city and of each hospital level under both versions, and the change — a version that settles
more cases as low-ratio cases moves the low-ratio share; one that takes in other indicators, or
overrides the CMI's definition, moves those."""

from __future__ import annotations

from typing import Any

import polars as pl

from engine.page import show, svg
from engine.page.layout import Section, table
from engine.whatif.impact import Impact

#: The grains a what-if shows (the others are evaluated only for a run's own outputs).
GRAINS = ("city", "level")
#: A change smaller than this (relative) is the noise of a sum of floats, not a change.
NOISE = 1e-9


def indicator_deltas(impact: Impact) -> pl.DataFrame:
    """Per indicator, grain (`city`, `level`) and key: `label`, `unit`, `base`, `new`,
    `delta` (null where a side has no value); the city's key is empty (two cities compare)."""
    sides = []
    for suffix, outcome in (("base", impact.base), ("new", impact.new)):
        frame = outcome.settlement.indicators(GRAINS).filter(pl.col("value").is_not_null())
        sides.append(
            frame.select(
                "indicator",
                "grain",
                pl.when(pl.col("grain") == "city").then(pl.lit("")).otherwise("key").alias("key"),
                pl.col("label").alias(f"label_{suffix}"),
                pl.col("unit").alias(f"unit_{suffix}"),
                pl.col("value").cast(pl.Float64).alias(suffix),
            )
        )
    joined = sides[0].join(sides[1], on=["indicator", "grain", "key"], how="full", coalesce=True)
    return joined.select(
        "indicator",
        "grain",
        "key",
        pl.coalesce("label_new", "label_base").alias("label"),
        pl.coalesce("unit_new", "unit_base").alias("unit"),
        "base",
        "new",
        (pl.col("new") - pl.col("base")).alias("delta"),
    )


def moved(deltas: pl.DataFrame) -> pl.DataFrame:
    """The rows whose value changes beyond float noise, or that one version alone has."""
    scale = pl.max_horizontal(pl.col("base").abs(), pl.col("new").abs(), pl.lit(1.0))
    changed = (pl.col("delta").abs() > NOISE * scale) | pl.col("delta").is_null()
    return deltas.filter(changed)


def indicator_section(impact: Impact) -> Section:
    """The indicators that move, at the city and per level, with a chart of the city's."""
    found = moved(indicator_deltas(impact))
    if found.is_empty():
        lead = ["No run-monitoring indicator moves: the two versions settle the same indicators."]
        return Section("indicators", "Indicators", lead=lead)
    city = found.filter(pl.col("grain") == "city")
    names = ", ".join(f"{r['label']} {_change(r)}" for r in city.iter_rows(named=True))
    lead = [
        f"{city.height} indicator(s) of the city move: {names or 'none'}; "
        f"{found.height - city.height} row(s) per hospital level."
    ]
    rows = [
        [
            r["label"],
            _where(r),
            _value(r["base"], r["unit"]),
            _value(r["new"], r["unit"]),
            _change(r),
        ]
        for r in found.iter_rows(named=True)
    ]
    relative = [
        (r["label"], r["delta"] / abs(r["base"]))
        for r in city.iter_rows(named=True)
        if r["delta"] is not None and r["base"]
    ]
    charts = (
        [svg.diverging_bars(relative, "Relative change of the city's indicators", show.pct)]
        if relative
        else []
    )
    headers = [
        "indicator",
        "where",
        impact.base.policy.version,
        impact.new.policy.version,
        "change",
    ]
    return Section(
        "indicators",
        "Indicators",
        lead=lead,
        charts=charts,
        tables=[table(headers, rows, [False, False, True, True, True])],
    )


def _where(row: dict[str, Any]) -> str:
    return "city" if row["grain"] == "city" else show.level(int(row["key"]))


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    return f"{value:,.2f}" if unit == "元" else show.number(value)


def _change(row: dict[str, Any]) -> str:
    if row["delta"] is None:
        return "one version only"
    delta = f"{row['delta']:+,.2f}" if row["unit"] == "元" else f"{row['delta']:+.4g}"
    return delta if not row["base"] else f"{delta} ({show.pct(row['delta'] / abs(row['base']))})"


def to_json(impact: Impact) -> list[dict[str, Any]]:
    """Every indicator at the city and per level, under both versions."""
    return indicator_deltas(impact).to_dicts()
