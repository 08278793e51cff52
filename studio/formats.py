"""How the studio writes numbers and colours (数字与颜色), one place for every page: money as ¥
with two decimals and thousands separators, ratios and changes as %, the columns of its tables
under readable labels, and on every chart one colour for a gain, one for a loss and one per
hospital level (the HTML report's colours, `engine.page.svg`).

The tables keep their numbers (they sort as numbers); `column_config` says how each column is
written. The texts (metrics, captions) are written by `engine.whatif.show`, as the reports are.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import altair as alt
import polars as pl
import streamlit as st

from engine.explainer.report_text import show as show_value
from engine.explainer.report_text import show_money
from engine.page import show
from engine.page.svg import NEGATIVE, POSITIVE, SERIES
from policy_dsl import ir
from policy_dsl.builtins import CORE_FIELDS

#: How a column of 元 (two decimals, thousands separated; the ¥ in its label, so that a loss reads
#: `-1,234.50`, not `¥-1,234.50`) and of a ratio (as %) are written.
MONEY, PERCENT, COUNT, NUMBER = "%,.2f", "percent", "%,d", "%,.4f"
GAIN, LOSS = POSITIVE, NEGATIVE
#: Every chart's colour of a hospital level, and of all levels together.
LEVEL_COLOURS = {0: SERIES[4], 1: SERIES[0], 2: SERIES[1], 3: SERIES[2]}
ALL_LEVELS = "all levels 全部"
ALL_COLOUR = "#555555"

#: Columns the studio's tables share, with the label they are shown under and how they are
#: written (a page may add its own: `table(..., labels=…)`).
COLUMNS: dict[str, tuple[str, str | None]] = {
    "hospital_id": ("医院 hospital", None),
    "hospital_name": ("医院名称 name", None),
    "level": ("级别 level", None),
    "tier": ("分档 tier", None),
    "case_id": ("病例 case", None),
    "drg_code": ("病组 DRG", None),
    "month": ("月份 month", None),
    "cases": ("病例数 cases", COUNT),
    "hospitals": ("医院数 hospitals", COUNT),
    "payment_base": ("支付额 payment, base", MONEY),
    "payment_new": ("支付额 payment, new", MONEY),
    "delta": ("变化 change", MONEY),
    "pct": ("变化率 change %", PERCENT),
    "category_base": ("病例类型 category, base", None),
    "category_new": ("病例类型 category, new", None),
    "category": ("病例类型 category", None),
    "from": ("原类型 from", None),
    "to": ("新类型 to", None),
    "budget": ("预算 budget", MONEY),
    "total_cost": ("住院总费用 total cost", MONEY),
    "discharge_date": ("出院日期 discharge date", None),
}


def money(fen: int | None, signed: bool = False) -> str:
    """`123456` fen → `¥1,234.56` (`+¥1,234.56` when `signed`)."""
    return show.yuan(fen, signed)


def money_brief(fen: int | None, signed: bool = False) -> str:
    """An amount short enough for a metric tile (`¥12.35亿`); the exact one in its help."""
    return show.yuan_brief(fen, signed)


def percent(ratio: float | None) -> str:
    """`0.0123` → `+1.23%`."""
    return show.pct(ratio)


def param_value(value: float, type_name: str) -> str:
    """A parameter's value as the policy writes it: `30%`, `5`, `¥1,200.00`, `1.5`."""
    if type_name == "ratio":
        return f"{show.number(value * 100, 4)}%"
    if type_name == "money":
        return money(round(value * 100))
    return show.number(value)


def money_names(policy: ir.Policy) -> set[str]:
    """The values of a policy that are amounts in 元: its money definitions and inputs, and the
    core fields that are money (`total_cost`…)."""
    found = {name for name, f in CORE_FIELDS.items() if _is_money(f.type.kind, f.type.unit)}
    found |= {i.name for i in policy.inputs if i.type.is_money}
    return found | {d.name for s in policy.stages for d in s.definitions if d.type.is_money}


def _is_money(kind: str, unit: Any) -> bool:
    return kind == "number" and (unit.money, unit.points) == (1, 0)


def value(shown: Any, money: bool = False) -> str:
    """A value of a trace as the pages write it: an amount as ¥ to the fen (a part of a fen
    kept), anything else as the terminal trace writes it (`missing` for none)."""
    if not money or isinstance(shown, bool) or not isinstance(shown, int | float):
        return show_value(shown)
    amount = "¥" + show_money(abs(shown))
    return show.MINUS + amount if shown < 0 else amount


#: The units an indicator is counted in that are counts (`engine.monitor.report`).
COUNT_UNITS = ("count", "例", "组")


def indicator(measured: float | None, unit: str) -> str:
    """An indicator's value by its unit: `元` as ¥ to the fen, a ratio as %, a count whole."""
    if measured is None:
        return "—"
    if unit == "元":
        return money(round(measured * 100))
    if unit == "ratio":
        return f"{measured:.2%}"
    if unit in COUNT_UNITS:
        return f"{measured:,.0f}"
    return show.number(measured, 4)


def kind_of(name: str) -> str | None:
    """How a column is written, from its name where no label says: money, %, or as it is."""
    if name in COLUMNS:
        return COLUMNS[name][1]
    if name.startswith(("payment", "delta", "change (元)")) or name.endswith("(元)"):
        return MONEY
    if name.endswith("%") or name.startswith("pct"):
        return PERCENT
    return None


def column_config(
    frame: pl.DataFrame, labels: Mapping[str, str] | None = None, kinds: Mapping[str, str] = {}
) -> dict[str, Any]:
    """Each column's label and number format for `st.dataframe`."""
    labels = labels or {}
    config: dict[str, Any] = {}
    for name, dtype in frame.schema.items():
        label = labels.get(name) or COLUMNS.get(name, (name, None))[0]
        kind = kinds.get(name, kind_of(name))
        if dtype.is_numeric() and kind == MONEY:
            config[name] = st.column_config.NumberColumn(f"{label} (¥)", format=kind)
        elif dtype.is_numeric() and kind is not None:
            config[name] = st.column_config.NumberColumn(label, format=kind)
        elif dtype.is_numeric():
            config[name] = st.column_config.NumberColumn(label)
        else:
            config[name] = st.column_config.Column(label)
    return config


def table(
    frame: pl.DataFrame,
    labels: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] = {},
    **options: Any,
) -> Any:
    """`st.dataframe` with each column under its label and written as its kind."""
    return st.dataframe(
        frame, hide_index=True, column_config=column_config(frame, labels, kinds), **options
    )


def written(frame: pl.DataFrame, labels: Mapping[str, str] | None = None) -> pl.DataFrame:
    """A small table written out for `st.table` (which takes no `column_config`): each column
    under its label, each value as `column_config` would write it (a change with its sign)."""
    labels = labels or {}
    columns = {}
    for name, dtype in frame.schema.items():
        label = labels.get(name) or COLUMNS.get(name, (name, None))[0]
        kind = kind_of(name) if dtype.is_numeric() else None
        signed = name.startswith("delta") or name == "pct"
        columns[label] = [_written(v, kind, signed) for v in frame[name].to_list()]
    return pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))


def _written(cell: Any, kind: str | None, signed: bool) -> str:
    if cell is None:
        return "—"
    if kind == MONEY:
        return money(round(cell * 100), signed)
    if kind == PERCENT:
        return percent(cell) if signed else f"{cell:.2%}"
    if kind == COUNT:
        return f"{cell:,}"
    return show_value(cell)


# ---- charts -----------------------------------------------------------------------------------


def gain_loss(field: str) -> Any:
    """A bar's colour by the sign of a change: a gain green, a loss red."""
    return alt.condition(f"datum['{field}'] >= 0", alt.value(GAIN), alt.value(LOSS))


def level_name(level: Any) -> str:
    """`1` → `level 1 一级`; `all` → all levels."""
    if level in (None, "all", ""):
        return ALL_LEVELS
    text = str(level).removeprefix("level ").strip()
    return show.level(int(text)) if text.lstrip("-").isdigit() else str(level)


def level_colour(field: str, names: Iterable[str], title: str | None = "级别 level") -> alt.Color:
    """A level's colour, the same on every chart (`names`: the values of `field`, written by
    `level_name`)."""
    domain = sorted(set(names), key=_level_order)
    return alt.Color(
        f"{field}:N",
        title=title,
        scale=alt.Scale(domain=domain, range=[_colour(n) for n in domain]),
    )


def level_bars(frame: pl.DataFrame, by: str, title: str, **more: Any) -> alt.Chart:
    """Bars of the `change` (元) of each hospital level, grouped by `by` (a clause, a
    threshold), each level in its colour."""
    return (
        alt.Chart(frame.to_pandas())
        .mark_bar()
        .encode(
            y=alt.Y(f"{by}:N", sort=None, title=None),
            yOffset=alt.YOffset("level:N"),
            x=alt.X("change:Q", title=title),
            color=level_colour("level", frame["level"]),
            tooltip=tooltips(frame),
            **more,
        )
    )


def tooltips(frame: pl.DataFrame) -> list[Any]:
    """A chart's tooltip: each column under its label, money and % written as in the tables."""
    shown = []
    for name, dtype in frame.schema.items():
        title = COLUMNS.get(name, (name, None))[0]
        kind = kind_of(name)
        if dtype.is_numeric() and kind == MONEY:
            shown.append(alt.Tooltip(f"{name}:Q", title=f"{title} (¥)", format=",.2f"))
        elif dtype.is_numeric() and kind == PERCENT:
            shown.append(alt.Tooltip(f"{name}:Q", title=title, format="+.2%"))
        elif dtype.is_numeric():
            shown.append(alt.Tooltip(f"{name}:Q", title=title, format=","))
        else:
            shown.append(alt.Tooltip(f"{name}:N", title=title))
    return shown


def _level_order(name: str) -> float:
    number = name.removeprefix("level ").split(" ")[0]
    return float(number) if number.isdigit() else math.inf


def _colour(name: str) -> str:
    number = name.removeprefix("level ").split(" ")[0]
    if number.isdigit():
        return LEVEL_COLOURS.get(int(number), SERIES[5])
    return ALL_COLOUR


__all__ = [
    "ALL_LEVELS",
    "COLUMNS",
    "GAIN",
    "LEVEL_COLOURS",
    "LOSS",
    "MONEY",
    "PERCENT",
    "column_config",
    "gain_loss",
    "indicator",
    "kind_of",
    "level_bars",
    "level_colour",
    "level_name",
    "money",
    "money_names",
    "param_value",
    "percent",
    "table",
    "tooltips",
    "value",
    "written",
]
