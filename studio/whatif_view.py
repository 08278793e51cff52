"""The What-if page's work, without Streamlit: run a comparison in steps (for a progress bar),
and turn the engine's frames (money in fen) into the tables and charts an analyst reads (元)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import polars as pl

from engine.page import show
from engine.plan.overrides import checked_settings
from engine.plan.polars.batch import Settings
from engine.run.output_labels import class_labels, policy_labels
from engine.whatif.attribution import Attribution, attribute
from engine.whatif.exposure import Exposure
from engine.whatif.impact import Impact, impact_of, totals_rows
from engine.whatif.report import Report
from engine.whatif.report_html import render_html
from engine.whatif.runs import Runs, inputs_policy
from engine.whatif.supervision import declared, supervision_frame
from engine.whatif.sweep import Sweep
from policy_dsl import ir
from policy_dsl.check.structure import price_name, settled_name
from policy_dsl.diff import Change, diff_versions
from policy_dsl.loader import PolicyFile, Resolved, policy_from_text, resolve
from studio import formats
from studio.datasets import Dataset
from studio.runs import ParamSpec

Progress = Callable[[float, str], object]
#: The attribution of a run: its kept runs, the two resolved versions, their comparison
#: without slider values (None when the run sets some: the attribution has none) and their diff.
Attribute = Callable[[Runs, Resolved, Resolved, Impact | None, list[Change]], Attribution]
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
    file = _parsed(text, where)
    others = [f for f in siblings if f.header.version != file.header.version]
    return resolve(file, others)


@lru_cache(maxsize=8)
def _parsed(text: str, where: str) -> PolicyFile:
    """The texts of the last runs parsed, for the next run: a moved slider, or another run of
    the same two texts, parses neither again (the tree is immutable)."""
    return policy_from_text(text, where)


def run(
    runs: Runs,
    base: ir.Policy,
    new: ir.Policy,
    params: Mapping[str, float],
    resolved: tuple[Resolved, Resolved] | None,
    progress: Progress,
    attribute_with: Attribute | None = None,
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
    changes = diff_versions(*resolved) if resolved is not None else []  # made once, passed on
    if resolved is not None and not changes:
        note = "the two versions have the same rules: no clause to attribute"
    elif resolved is not None:
        progress(0.8, "attributing the change to each clause…")
        attribute_them = attribute_with or _attribute
        attribution = attribute_them(runs, *resolved, None if params else impact, changes)
        step("attribution")
        if params:
            note = "the attribution splits the text changes; the slider values are not in it"
    progress(1.0, "done")
    return Comparison(impact, attribution, dict(params), timings, note)


def _attribute(
    runs: Runs, base: Resolved, new: Resolved, impact: Impact | None, changes: list[Change]
) -> Attribution:
    return attribute(runs, base, new, impact=impact, changes=changes)


def report_download(report: Report) -> Callable[[], bytes]:
    """The HTML report as the download button takes it: made when the download is asked for
    (the new version's indicators evaluated then), not on each rerun of the page."""
    return lambda: render_html(report).encode("utf-8")


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


def measure_names(policy: ir.Policy) -> dict[str, str]:
    """The totals' measures as the page names them, with the policy's own labels."""
    own = policy_labels(policy)
    settled, price = settled_name(policy.method), price_name(policy.method)
    return {
        "cases": "病例数 cases",
        "settled": f"{own.get(settled, '')} {settled.replace('_', ' ')}".strip(),
        "price": f"{own.get(price, '')} {price.replace('_', ' ')}".strip(),
        "payment": "支付总额 payment",
        "budget": "预算 budget",
    }


def totals_frame(impact: Impact) -> pl.DataFrame:
    """Totals side by side, each written as what it is (money as ¥, a count, a point value)."""
    names = measure_names(impact.new.policy)
    shown = []
    for row in totals_rows(impact.base.totals, impact.new.totals):
        write = _WRITERS[row["measure"]]
        shown.append(
            {
                "measure": names[row["measure"]],
                "base": write(row["base"], False),
                "new": write(row["new"], False),
                "change": write(row["delta"], True),
                "change %": formats.percent(row["pct"]),
            }
        )
    return pl.DataFrame(shown, schema=dict.fromkeys(shown[0], pl.String))


def _number(digits: int) -> Callable[[Any, bool], str]:
    def write(value: Any, signed: bool) -> str:
        text = show.number(None if value is None else abs(value), digits)
        if value is None or not value:
            return text
        return show.MINUS + text if value < 0 else f"+{text}" if signed else text

    return write


_WRITERS: dict[str, Callable[[Any, bool], str]] = {
    "cases": _number(0),
    "settled": _number(4),
    "price": _number(6),
    "payment": lambda fen, signed: formats.money(fen, signed),
    "budget": lambda fen, signed: formats.money(fen, signed),
}


def hospitals_frame(impact: Impact) -> pl.DataFrame:
    return yuan(impact.hospitals)


def levels_frame(impact: Impact) -> pl.DataFrame:
    return yuan(impact.levels)


def matrix_long(impact: Impact) -> pl.DataFrame:
    """The category transition matrix in long form (from, to, cases) for a heat map."""
    wide = impact.matrix()
    return wide.unpivot(index="from", variable_name="to", value_name="cases")


def params_text(params: Mapping[str, float], specs: Sequence[ParamSpec]) -> str:
    """The slider values a run set, as the policy writes them: `一级…系数 35%`."""
    known = {spec.name: spec for spec in specs}
    shown = []
    for name, value in params.items():
        spec = known.get(name)
        label = spec.label if spec else name
        shown.append(f"{label} {formats.param_value(value, spec.type if spec else 'number')}")
    return ", ".join(shown)


def class_names(*policies: ir.Policy) -> dict[str, str]:
    """Each class of the policies' classifications as the page names it: `低倍率病例 low` (the
    first policy's label where two differ)."""
    found: dict[str, str] = {}
    for policy in reversed(policies):
        for classes in class_labels(policy).values():
            found |= {n: n if label == n else f"{label} {n}" for n, label in classes.items()}
    return found


#: The columns whose values are class names.
CLASS_COLUMNS = ("category", "category_base", "category_new", "from", "to")


def named_classes(frame: pl.DataFrame, classes: Mapping[str, str]) -> pl.DataFrame:
    """`frame` with its class names written with their labels."""
    return frame.with_columns(
        pl.col(c).replace(dict(classes)) for c in CLASS_COLUMNS if c in frame.columns
    )


def input_labels(policy: ir.Policy) -> dict[str, str]:
    """The label of each input a policy declares (deductions, assessment scores)."""
    return {i.name: f"{i.label} {i.name}" if i.label else i.name for i in policy.inputs}


def part_labels(attribution: Attribution) -> dict[str, str]:
    """The per-hospital table's columns: each clause under its part's label."""
    return {
        "total": "合计 total",
        "interaction": "交互项 interaction",
        **{p.key: p.label for p in attribution.parts},
    }


def parts_by_level(parts: pl.DataFrame) -> pl.DataFrame:
    """`parts_frame` in long form, (part, level, change in 元), for a chart: under a fixed budget
    a clause may change no total and still move money between levels."""
    levels = [c for c in parts.columns if c.startswith("level ")]
    long = parts.select("part", *levels).unpivot(
        index="part", on=levels, variable_name="level", value_name="change"
    )
    return long.drop_nulls("change").with_columns(
        pl.col("level").map_elements(formats.level_name, return_dtype=pl.String)
    )


def moved_cases(impact: Impact, limit: int = 500) -> pl.DataFrame:
    """The cases whose category differs between the two versions, the largest change of payment
    first (money in 元): the ones to read on the Explain page."""
    moved = impact.cases.filter(pl.col("category_base").ne_missing(pl.col("category_new")))
    ordered = moved.sort(pl.col("delta").abs(), "case_id", descending=[True, False])
    return yuan(ordered.head(limit))


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
    "FEN",
    "Attribute",
    "Comparison",
    "PageRun",
    "changed_params",
    "class_names",
    "hospitals_frame",
    "input_labels",
    "inputs_policy",
    "levels_frame",
    "matrix_long",
    "measure_names",
    "moved_cases",
    "named_classes",
    "params_text",
    "part_labels",
    "parts_by_level",
    "parts_frame",
    "report_download",
    "reset_moved_sliders",
    "resolved",
    "run",
    "totals_frame",
    "whatif_tables",
    "yuan",
]
