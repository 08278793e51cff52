"""The What-if page's measurements as it shows them, without Streamlit: the threshold exposure
(阈值敏感性) per threshold and per hospital level, and a sweep's values, long form and columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from engine.run.output_labels import policy_labels
from engine.whatif.exposure import Exposure, ThresholdExposure, ThresholdShift
from engine.whatif.sweep import Sweep
from policy_dsl import ir
from studio import formats
from studio.runs import ParamSpec
from studio.whatif_view import FEN, measure_names


def grid(
    low: float, high: float, count: int, integral: bool, current: float | None = None
) -> list[float]:
    """`count` evenly spaced values from `low` to `high` (whole numbers for a count), and the
    `current` value where it lies between them, in order."""
    if count < 2 or high == low:
        values = [low]
    else:
        values = [low + (high - low) * i / (count - 1) for i in range(count)]
    if current is not None and low <= current <= high:
        values.append(current)
    if integral:
        return sorted({float(round(v)) for v in values})
    return sorted({round(v, 10) for v in values})


def sweep_long(result: Sweep) -> pl.DataFrame:
    """A one-parameter sweep as (value, level, delta in 元) rows, the total as all levels."""
    name = result.params[0]
    table = result.table
    levels = [c.removeprefix("delta_level_") for c in table.columns if c.startswith("delta_level_")]
    frames = [
        table.select(
            pl.col(name).alias("value"),
            pl.lit(formats.level_name(level)).alias("level"),
            (pl.col(f"delta_level_{level}") / FEN).alias("delta"),
        )
        for level in levels
    ]
    frames.append(
        table.select(
            pl.col(name).alias("value"),
            pl.lit(formats.ALL_LEVELS).alias("level"),
            (pl.col("delta") / FEN),
        )
    )
    return pl.concat(frames)


def sweep_labels(
    table: pl.DataFrame, specs: Sequence[ParamSpec], policy: ir.Policy, classes: Mapping[str, str]
) -> dict[str, str]:
    """The sweep table's columns as the page heads them."""
    names, own = measure_names(policy), policy_labels(policy)
    shown = {s.name: f"{s.label} · {s.name}" for s in specs}
    shown |= {"payment": names["payment"], "delta": "变化 change", "price": names["price"]}
    for column in table.columns:
        for prefix, words in (
            ("payment_level_", "支付 payment"),
            ("delta_level_", "变化 change"),
        ):
            if column.startswith(prefix):
                shown[column] = f"{formats.level_name(column.removeprefix(prefix))} {words}"
        if column.startswith("cases_"):
            category = column.removeprefix("cases_")
            shown[column] = f"{classes.get(category, category)} 病例数 cases"
        if column.startswith("delta_report_"):
            report = column.removeprefix("delta_report_")
            shown[column] = f"{own.get(report, report)} 变化 change"
    return shown


def sweep_kinds(table: pl.DataFrame, specs: Sequence[ParamSpec]) -> dict[str, str]:
    """How the sweep table's columns are written: the parameter by its type, counts, money."""
    kinds = {s.name: formats.PERCENT if s.type == "ratio" else formats.NUMBER for s in specs}
    kinds |= {"price": formats.NUMBER}
    kinds |= {c: formats.COUNT for c in table.columns if c.startswith("cases_")}
    kinds |= {c: formats.MONEY for c in table.columns if c.startswith("delta_report_")}
    return kinds


def exposure_frame(measured: Exposure, types: Mapping[str, str]) -> pl.DataFrame:
    """One row per threshold: its value and step as the policy writes them, the rows near it,
    and what one step down or up does — to the total payment (元) and to each hospital level:
    under the point method the budget is shared whatever the threshold, so the total does not
    move and the money moves between the levels (`moved`: what the levels that gain gain)."""
    levels = sorted({lvl for t in measured.thresholds for s in _shifts(t) for lvl in s.levels})
    rows = []
    for t in measured.thresholds:
        kind = types.get(t.threshold.name, "number")
        row: dict[str, Any] = {
            "threshold": t.threshold.label,
            "value": formats.param_value(t.threshold.value, kind),
            "step": formats.param_value(t.threshold.step, kind),
            "near": t.near,
            "of": t.rows,
            "grain": t.grain,
        }
        for side, shift in (("down", t.down), ("up", t.up)):
            row[f"{side}: total"] = shift.delta / FEN if shift else None
            row[f"{side}: moved"] = _moved(shift) / FEN if shift else None
            for lvl in levels:
                row[f"{side}: level {lvl}"] = shift.levels.get(lvl, 0) / FEN if shift else None
        row["compared in"] = "; ".join(t.uses)
        rows.append(row)
    return pl.DataFrame(rows, infer_schema_length=None)


def exposure_labels(frame: pl.DataFrame) -> dict[str, str]:
    """The exposure table's columns as the page heads them."""
    fixed = {
        "threshold": "阈值 threshold",
        "value": "取值 value",
        "step": "一步 step",
        "near": "±5% 内 near",
        "of": "共 of",
        "grain": "按 counted by",
        "compared in": "用于 compared in",
    }
    words = {"down": "下移一步 step down", "up": "上移一步 step up"}
    for name in frame.columns:
        side, _, what = name.partition(": ")
        if side in words:
            part = "总额 total" if what == "total" else "移动 moved" if what == "moved" else ""
            fixed[name] = f"{words[side]} · {part or formats.level_name(what)}"
    return fixed


def exposure_levels(measured: Exposure) -> pl.DataFrame:
    """(threshold, shift, level, change in 元) rows: the money each step moves per level."""
    rows = [
        {
            "threshold": t.threshold.label,
            "shift": side,
            "level": formats.level_name(lvl),
            "change": fen / FEN,
        }
        for t in measured.thresholds
        for side, shift in (("step down", t.down), ("step up", t.up))
        if shift is not None
        for lvl, fen in sorted(shift.levels.items())
    ]
    schema = {"threshold": pl.String, "shift": pl.String, "level": pl.String}
    return pl.DataFrame(rows, schema=schema | {"change": pl.Float64})


def _shifts(t: ThresholdExposure) -> list[ThresholdShift]:
    return [s for s in (t.down, t.up) if s is not None]


def _moved(shift: ThresholdShift) -> int:
    """What the levels that gain gain (fen): the money a step moves between levels."""
    return sum(v for v in shift.levels.values() if v > 0)


__all__ = [
    "exposure_frame",
    "exposure_labels",
    "exposure_levels",
    "grid",
    "sweep_kinds",
    "sweep_labels",
    "sweep_long",
]
