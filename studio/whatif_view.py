"""The What-if page's work, without Streamlit: run a comparison in steps (for a progress bar),
and turn the engine's frames (money in fen) into the tables and charts an analyst reads (元)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from engine.batch import Settings
from engine.overrides import checked_settings
from engine.whatif.attribution import Attribution, attribute
from engine.whatif.exposure import Exposure
from engine.whatif.impact import Impact, impact_of, totals_rows
from engine.whatif.runs import Runs, inputs_policy
from engine.whatif.supervision import declared, supervision_frame
from engine.whatif.sweep import Sweep
from policy_dsl import ir
from policy_dsl.diff import diff_versions
from policy_dsl.loader import PolicyFile, Resolved, policy_from_text, resolve
from studio.datasets import Dataset
from studio.runs import ParamSpec

Progress = Callable[[float, str], object]
Attribute = Callable[[Runs, Resolved, Resolved], Attribution]
FEN = 100
#: How a slider value is named in a message.
SLIDER_LABELS = ("fixed {}", "slider {}")
#: The session-state key of the slider of a parameter.
SLIDER_KEY = "whatif_p_{}"
#: The declared value each parameter's slider was last drawn for.
SLIDER_DECLARED = "whatif_slider_declared"


@dataclass
class Comparison:
    """One what-if run: the impact, the attribution per clause (None if not asked or not
    possible), the parameters set on the new version, and how long each step took (seconds)."""

    impact: Impact
    attribution: Attribution | None
    params: dict[str, float]
    timings: dict[str, float] = field(default_factory=dict)
    note: str | None = None


@dataclass
class PageRun:
    """One what-if run as the page keeps it between reruns: what it ran on (the data folder, the
    period, the two versions compiled, their labels, the new version's declared types and
    sliders), what it found, the input rows the contract rejected, and the threshold exposure and
    sweep measured for this run (None until asked; a new run starts without them)."""

    dataset: Dataset
    period: str
    labels: tuple[str, str]
    base: ir.Policy
    new: ir.Policy
    declared: dict[str, str]
    specs: list[ParamSpec]
    comparison: Comparison
    rejects: pl.DataFrame
    exposure: Exposure | None = None
    sweep: Sweep | None = None

    @property
    def settings(self) -> Settings:
        """The slider values of the run, for the exposure and sweeps measured on it."""
        return Settings(params=dict(self.comparison.params))

    @property
    def inputs(self) -> ir.Policy:
        """The policy whose inputs the run loaded (both versions' inputs)."""
        return inputs_policy(self.base, self.new)


def changed_params(policy: ir.Policy, chosen: Mapping[str, float]) -> dict[str, float]:
    """The slider values that differ from what the policy declares (sent as `Settings.params`),
    each checked as `--set` checks one (type and range; a `SettingError` otherwise)."""
    declared = {p.name: p.value for p in policy.params}
    changed = {
        name: value
        for name, value in chosen.items()
        if name in declared and not _close(value, declared[name])
    }
    return dict(checked_settings(policy, {}, changed, SLIDER_LABELS, written=False).params)


def reset_moved_sliders(state: MutableMapping[Any, Any], specs: Sequence[ParamSpec]) -> None:
    """Forget the value of each slider whose parameter now declares another value (another new
    version, city or edited buffer chosen), so that it is drawn again at the declared value.

    Streamlit keeps a keyed slider's value while only its default changes (its identity is the
    key, the range and the step): without this, a slider moved by nothing but a change of version
    would keep the value of the version shown before and be sent as a changed parameter."""
    drawn = dict(state.get(SLIDER_DECLARED, {}))
    for spec in specs:
        key = SLIDER_KEY.format(spec.name)
        if key in state and drawn.get(spec.name) != spec.value:
            del state[key]
        drawn[spec.name] = spec.value
    state[SLIDER_DECLARED] = drawn


def _close(value: float, declared: object) -> bool:
    return isinstance(declared, int | float) and abs(value - float(declared)) <= 1e-12 * max(
        1.0, abs(value)
    )


def resolved(siblings: Sequence[PolicyFile], text: str, where: str) -> Resolved:
    """A version's text resolved against its city's saved versions (a saved version of the
    same name, the one the text replaces, left out); raises `PolicyErrors` on a syntax error."""
    file = policy_from_text(text, where)
    others = [f for f in siblings if f.header.version != file.header.version]
    return resolve(file, others)


def run(
    runs: Runs,
    base: ir.Policy,
    new: ir.Policy,
    params: Mapping[str, float],
    resolved: tuple[Resolved, Resolved] | None,
    progress: Progress,
    attribute_with: Attribute = attribute,
) -> Comparison:
    """Settle both versions (re-using kept runs), compare them, and attribute the change to its
    clauses when the two resolved versions are given (with `attribute_with`: the page keeps the
    attribution of two texts, which the slider values do not enter)."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def step(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now

    progress(0.1, f"settling the base version {base.version}…")
    before = runs.outcome(base)
    step("base")
    progress(0.45, f"settling the new version {new.version}…")
    after = runs.outcome(new, Settings(params=dict(params)))
    step("new")
    progress(0.7, "comparing…")
    impact = impact_of(before, after)
    step("compare")
    attribution, note = None, None
    if resolved is not None and not diff_versions(*resolved):
        note = "the two versions have the same rules: no clause to attribute"
    elif resolved is not None:
        progress(0.8, "attributing the change to each clause…")
        attribution = attribute_with(runs, *resolved)
        step("attribution")
        if params:
            note = "the attribution splits the text changes; the slider values are not in it"
    progress(1.0, "done")
    return Comparison(impact, attribution, dict(params), timings, note)


def grid(low: float, high: float, count: int, integral: bool) -> list[float]:
    """`count` evenly spaced values from `low` to `high` (whole numbers for a count)."""
    if count < 2 or high == low:
        return [low]
    values = [low + (high - low) * i / (count - 1) for i in range(count)]
    if integral:
        return sorted({float(round(v)) for v in values})
    return [round(v, 10) for v in values]


def sweep_long(result: Sweep) -> pl.DataFrame:
    """A one-parameter sweep as (value, level, delta in 元) rows, the total as level `all`."""
    name = result.params[0]
    table = result.table
    levels = [c.removeprefix("delta_level_") for c in table.columns if c.startswith("delta_level_")]
    frames = [
        table.select(
            pl.col(name).alias("value"),
            pl.lit(level).alias("level"),
            (pl.col(f"delta_level_{level}") / FEN).alias("delta"),
        )
        for level in levels
    ]
    frames.append(
        table.select(
            pl.col(name).alias("value"), pl.lit("all").alias("level"), (pl.col("delta") / FEN)
        )
    )
    return pl.concat(frames)


# ---- display ----------------------------------------------------------------------------------


def whatif_tables(comparison: Comparison) -> dict[str, pl.DataFrame]:
    """Every table the What-if page draws from a comparison (money in 元)."""
    impact = comparison.impact
    tables = {
        "totals": totals_frame(impact),
        "levels": levels_frame(impact),
        "categories": yuan(impact.categories),
        "hospitals": hospitals_frame(impact),
        "winners": yuan(impact.winners()),
        "losers": yuan(impact.losers()),
        "matrix": impact.matrix(),
        "matrix_long": matrix_long(impact),
        "moved": yuan(impact.moved()),
        "moved_cases": moved_cases(impact),
        "supervision": supervision_table(impact),
    }
    if comparison.attribution is not None:
        by_hospital = comparison.attribution.table()
        tables["parts"] = parts_frame(comparison.attribution)
        tables["parts_by_hospital"] = yuan(by_hospital, tuple(by_hospital.columns[2:]))
    return tables


def supervision_table(impact: Impact) -> pl.DataFrame:
    """The deductions (元) and assessment scores of each hospital whose money moves."""
    deductions = tuple(n for n, (table, _) in declared(impact).items() if table == "deduction")
    return yuan(supervision_frame(impact), deductions)


def yuan(frame: pl.DataFrame, columns: tuple[str, ...] = ()) -> pl.DataFrame:
    """Money columns in fen turned to 元 (two decimals)."""
    money = columns or tuple(
        c for c in frame.columns if c.startswith(("payment", "delta")) or c == "budget"
    )
    return frame.with_columns(
        [(pl.col(c) / FEN).round(2).alias(c) for c in money if c in frame.columns]
    )


def totals_frame(impact: Impact) -> pl.DataFrame:
    """Totals side by side (money in 元)."""
    rows = totals_rows(impact.base.totals, impact.new.totals)
    shown: list[dict[str, Any]] = []
    for row in rows:
        money = row["measure"] in ("payment", "budget")
        shown.append(
            {
                "measure": row["measure"],
                "base": _scaled(row["base"], money),
                "new": _scaled(row["new"], money),
                "change": _scaled(row["delta"], money),
                "change %": None if row["pct"] is None else round(100 * row["pct"], 4),
            }
        )
    return pl.DataFrame(shown, schema_overrides={k: pl.Float64 for k in ("base", "new", "change")})


def _scaled(value: Any, money: bool) -> float | None:
    if value is None:
        return None
    return round(value / FEN, 2) if money else float(value)


def hospitals_frame(impact: Impact) -> pl.DataFrame:
    return yuan(impact.hospitals).with_columns((pl.col("pct") * 100).round(3).alias("pct"))


def levels_frame(impact: Impact) -> pl.DataFrame:
    return yuan(impact.levels).with_columns((pl.col("pct") * 100).round(3).alias("pct"))


def matrix_long(impact: Impact) -> pl.DataFrame:
    """The category transition matrix in long form (from, to, cases) for a heat map."""
    wide = impact.matrix()
    return wide.unpivot(index="from", variable_name="to", value_name="cases")


def parts_by_level(parts: pl.DataFrame) -> pl.DataFrame:
    """`parts_frame` in long form, (part, level, change in 元), for a chart: under a fixed budget
    a clause may change no total and still move money between levels."""
    levels = [c for c in parts.columns if c.startswith("level ")]
    long = parts.select("part", *levels).unpivot(
        index="part", on=levels, variable_name="level", value_name="change"
    )
    return long.drop_nulls("change")


def moved_cases(impact: Impact, limit: int = 500) -> pl.DataFrame:
    """The cases whose category differs between the two versions, the largest change of payment
    first (money in 元): the ones to read on the Explain page."""
    moved = impact.cases.filter(pl.col("category_base").ne_missing(pl.col("category_new")))
    ordered = moved.sort(pl.col("delta").abs(), "case_id", descending=[True, False])
    return yuan(ordered.head(limit))


def exposure_frame(measured: Exposure) -> pl.DataFrame:
    """One row per threshold: its value and step, the rows near it, and what one step down or up
    does to the total payment (元)."""
    rows = [t.to_json() for t in measured.thresholds]
    return pl.DataFrame(
        [
            {
                "threshold": r["threshold"],
                "value": r["value"],
                "step": r["step"],
                "grain": r["grain"],
                "near": r["near"],
                "of": r["rows"],
                "step down: change (元)": (r["down"] or {}).get("delta", 0) / FEN,
                "step up: change (元)": (r["up"] or {}).get("delta", 0) / FEN,
                "compared in": "; ".join(r["compared_in"]),
            }
            for r in rows
        ],
        schema_overrides={"value": pl.Float64, "step": pl.Float64},
    )


def parts_frame(attribution: Attribution) -> pl.DataFrame:
    """One row per part and the interaction: the change in total (元) and per level."""
    levels = sorted({lvl for p in attribution.parts for lvl in p.levels})
    rows = [
        {
            "part": p.label,
            "clause": p.key,
            "change": p.delta / FEN,
            "moved between hospitals": p.moved / FEN,
            **{f"level {lvl}": p.levels.get(lvl, 0) / FEN for lvl in levels},
        }
        for p in attribution.parts
    ]
    rows.append(
        {
            "part": "interaction (交互项)",
            "clause": "",
            "change": attribution.interaction / FEN,
            "moved between hospitals": None,
            **{f"level {lvl}": None for lvl in levels},
        }
    )
    return pl.DataFrame(rows, infer_schema_length=None)


__all__ = [
    "Attribute",
    "Comparison",
    "PageRun",
    "changed_params",
    "exposure_frame",
    "grid",
    "hospitals_frame",
    "inputs_policy",
    "levels_frame",
    "matrix_long",
    "moved_cases",
    "parts_by_level",
    "parts_frame",
    "reset_moved_sliders",
    "resolved",
    "run",
    "sweep_long",
    "totals_frame",
    "whatif_tables",
    "yuan",
]
