"""The run-monitoring indicators of a settlement (运行监测指标): the policy's `monitoring` stage
evaluated after its settlement stages, over the same cases, into one long table —
`indicators.csv`: indicator, grain, key, value, unit, then label, target, met and note.

- One row per indicator, grain and key (`city` has one row, keyed by the city; `level`, `tier`,
  `hospital`, `group`, `month` one per level, tier, hospital, group or month of the run), in
  the policy's order of indicators and grains, keys sorted. An indicator with a `when` lists
  only the rows where it holds (a group list).
- **Not available** is never zero: an indicator that reads a column of the data contract the
  data files do not have (a length of stay, a discharge outcome, a person id…), a previous run
  that is not given (`settle --previous`) or lacks it, or a `tier` the hospitals do not have,
  has one row for that grain with an empty key and value and the reason in `note`
  (`not available: cases.csv has no column los`). A row whose value cannot be computed (a CMI
  of no case) has an empty value and the note `no value`.
- A target (`target … : grouping_rate >= 90% for city, month`) fills `target` (`>= 0.9`) and
  `met` (true/false; empty without a value) of its indicator's rows at its grains, the
  comparison judged within the money rule's tolerance as the policy's comparisons are; several
  targets of one row are all listed, and `met` is whether all of them hold.
- Values are written as text: money with 2 decimals (exact to the fen), counts whole, other
  numbers to 10 significant digits; an empty value is no value.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Set
from dataclasses import dataclass

import numpy as np
import polars as pl

from engine.inputs.fields import TABLES
from engine.inputs.previous import Previous
from engine.inputs.rundata import RunData
from engine.inputs.stored import distinct
from engine.plan import functions
from engine.plan.polars.batch import Settings, StageRun
from engine.plan.polars.frames import StageResult, key_columns
from engine.plan.polars.monitoring_batch import aggregate_ahead, ahead_points
from engine.run.resettled import Reused, reused
from engine.run.settle import Settlement, definitions_reached
from policy_dsl import ir
from policy_dsl.check.indicators import GRAINS, PREVIOUS, SETTLED
from policy_dsl.grains import CASE
from policy_dsl.lower_indicators import listing_name, threshold_name, value_name

COLUMNS = ("indicator", "grain", "key", "value", "unit", "label", "target", "met", "note")
SCHEMA = {
    "indicator": pl.String,
    "grain": pl.String,
    "key": pl.String,
    "value": pl.String,
    "unit": pl.String,
    "label": pl.String,
    "target": pl.String,
    "met": pl.Boolean,
    "note": pl.String,
}
NO_VALUE = "no value"
#: The indicators a summary shows first (by their names in the library): volume and mix,
#: grouping, efficiency, the low- and high-ratio shares, the patients' burden, the money, quality.
HEADLINE = (
    "cases",
    "cmi",
    "grouping_rate",
    "cost_index",
    "time_index",
    "low_ratio_share",
    "high_ratio_share",
    "patient_burden_rate",
    "payment_to_cost",
    "low_risk_mortality",
)
#: Significant digits a value other than money and counts is written with. Ten, not the 15 a
#: double holds: sums are exact on a grid of 2⁻⁴⁰ (`engine.plan.exact`), each value rounded to it by
#: up to 2⁻⁴¹, so a sum of n values may sit n × 5e-13 off its decimal value (a group's weight
#: of 7 summed as 6.99999999999); ten digits never show that, and are more than any fund reads.
DIGITS = 10


class MonitoringRun(StageRun):
    """The monitoring stage: reads the run's stages (the last settling one as `settled`) and
    the previous run's indicators (`previous.<name>`)."""

    def __init__(
        self,
        policy: ir.Policy,
        data: RunData,
        earlier: Mapping[str, StageResult],
        settings: Settings,
        previous: Previous | None,
        only: Set[str] | None = None,
        reused: Reused | None = None,
        backend: str = "polars",
    ) -> None:
        assert policy.monitoring is not None
        super().__init__(policy, policy.monitoring, data, earlier, settings)
        self.previous = previous
        #: the definitions evaluated (None: all); each must hold every definition it reads
        self.only = only
        #: the definitions taken from the run this one was re-settled from, by their grain
        self.taken: dict[str, frozenset[str]] = {}
        if reused is not None:
            self.frames, self.taken = dict(reused.frames), reused.home
        #: the backend that evaluated the stages read (`Settlement.backend`): a SQL one's
        #: settled case frame may still be in its database
        self.backend = backend

    def run(self) -> StageResult:
        """The shared definitions the indicators read, then the indicators, with the aggregates
        of their cases computed ahead (`engine.plan.polars.monitoring_batch`): once the definitions
        per case are there, and again before the first indicator. With `only`, or values taken
        from an earlier run, the aggregates are computed at the same points, of the definitions
        evaluated, each defined in its turn: each value is the one the whole stage gives."""
        definitions = self.stage.definitions
        points = ahead_points(definitions)
        for index, definition in enumerate(definitions):
            if index in points:
                aggregate_ahead(self, [d for d in definitions[index:] if self._evaluated(d)])
            if definition.name in self.taken and self._wanted(definition):
                self.home[definition.name] = self.taken[definition.name]
            elif self._wanted(definition):
                self.define(definition)
        return StageResult(self.stage, self.frames, self.home, self.period, self.fallthrough)

    def _wanted(self, definition: ir.Definition) -> bool:
        return self.only is None or definition.name in self.only

    def _evaluated(self, definition: ir.Definition) -> bool:
        return self._wanted(definition) and definition.name not in self.taken

    def evaluates(self, definition: ir.Definition) -> bool:
        return self._evaluated(definition) and super().evaluates(definition)

    def value(self, name: str, stage: str | None, grain: frozenset[str]) -> str:
        """As `StageRun.value`; a case value of the settled stage is taken as it is: its cases
        are this stage's, row for row (no join)."""
        case = CASE
        settled = self.earlier.get(SETTLED) if stage == SETTLED else None
        if settled is None or grain != case or settled.home.get(name) != case:
            return super().value(name, stage, grain)
        alias = f"{stage}.{name}"
        frame = self.frame(case)
        if alias not in frame.columns:  # only this column: a SQL run's cases stay in the database
            source = _case_columns(settled, ["case_id", name], self.backend)
            assert source["case_id"].equals(frame["case_id"])  # the same cases, in order
            self.add(case, frame.with_columns(source[name].alias(alias)))
        return alias

    def field(self, ref: ir.FieldRef, grain: frozenset[str]) -> pl.Expr:
        if ref.table != PREVIOUS:
            return super().field(ref, grain)
        name, _, word = ref.column.rpartition("@")
        found = self.previous.value(name, word) if self.previous is not None else None
        keys = key_columns(grain)
        alias = f"{PREVIOUS}.{ref.column}"
        if found is None:
            return pl.lit(None, dtype=pl.Float64)
        if not keys:
            return pl.lit(found["value"][0], dtype=pl.Float64)
        dtype = self.frame(grain).schema[keys[0]]
        source = found.select(pl.col("key").cast(dtype).alias(keys[0]), pl.col("value"))
        return pl.col(self.bring(grain, source, keys, "value", alias))


def _case_columns(result: StageResult, names: list[str], backend: str) -> pl.DataFrame:
    """Columns of a settled stage's case frame: of a SQL run's, only these are read from the
    database where it is not read back (`engine.plan.sql.results.case_columns`)."""
    if backend == "polars":  # the polars plan's, in memory
        return result.frames[CASE].select(names)
    from engine.plan.sql.results import case_columns  # not imported by a polars run

    return case_columns(result, names)


@dataclass(frozen=True)
class Evaluated:
    """The monitoring stage of a run, and why indicators are not available at some grains."""

    result: StageResult
    unavailable: dict[tuple[str, str], str]


def evaluate(settlement: Settlement, grains: frozenset[str] | None = None) -> Evaluated | None:
    """The monitoring stage over the settlement's cases (None for a policy without indicators);
    with `grains` (`city`, `level`…), only what the indicators at those grains read."""
    policy = settlement.policy
    if policy.monitoring is None:
        return None
    settled = [r for r in settlement.stages.values() if r.stage.settles_cases][-1]
    earlier = {**settlement.stages, SETTLED: settled}
    only = None if grains is None else definitions_shown(policy, grains)
    if settlement.sql is not None and settlement.sql.cases_in_database:  # no case comes back
        result = settlement.sql.monitoring(earlier, settlement.previous, only)
        return Evaluated(result, unavailable(settlement))
    # the polars plan's: a polars run; a SQL run whose stages were read back whole (Spark, a
    # DuckDB opened without `cases_on_demand`: the what-if's), there at no further cost, or
    # whose database is closed; a re-settled run (always polars': `Runs._settle`), whose
    # indicators the change does not reach are taken from the run it was re-settled from
    taken = reused(settlement, grains)
    read = {n.column for d in policy.monitoring.definitions for n in ir.walk(d.expr)
            if isinstance(n, ir.FieldRef) and n.table == "cases"}  # fmt: skip
    data = settlement.data.with_case_columns(sorted(read))  # of cases left in the database
    run = MonitoringRun(
        policy, data, earlier, settlement.settings, settlement.previous, only, taken,
        settlement.backend,
    )  # fmt: skip
    return Evaluated(run.run(), unavailable(settlement))


def definitions_shown(policy: ir.Policy, grains: Set[str]) -> set[str]:
    """The monitoring stage's definitions that the indicators and targets at `grains` read,
    directly or through others (`definitions_reached` within the stage: what it reads of the
    settled stages is there already)."""
    stage = policy.monitoring
    assert stage is not None
    roots = [
        name
        for indicator in policy.indicators
        for word in indicator.grains
        if word in grains
        for name in (value_name(indicator.name, word), listing_name(indicator.name, word))
    ]
    roots += [threshold_name(t.name) for t in policy.targets if grains & set(t.grains)]
    reached = definitions_reached([stage], [(stage.name, name) for name in roots], ())
    return {name for _, name in reached}


def indicator_table(settlement: Settlement, grains: Collection[str] | None = None) -> pl.DataFrame:
    """The long table of the run's indicators (see the module docstring); with `grains`, its
    rows at those grains, the indicators evaluated at them alone."""
    shown = None if grains is None else frozenset(grains)
    evaluated = settlement.monitoring(shown)
    if evaluated is None:
        return pl.DataFrame(schema=SCHEMA)
    groups = _groups_seen(settlement)
    rows = [
        _rows(settlement, evaluated, indicator, word, groups)
        for indicator in settlement.policy.indicators
        for word in indicator.grains
        if shown is None or word in shown
    ]
    return pl.concat(rows, how="vertical") if rows else pl.DataFrame(schema=SCHEMA)


def indicators_manifest(settlement: Settlement) -> dict[str, object]:
    """What `manifest.json` says of the indicators: the previous run read, and per target the
    rows that meet it and those that do not."""
    table = settlement.indicators()
    targets = {}
    for target in settlement.policy.targets:
        rows = table.filter(
            (pl.col("indicator") == target.indicator) & pl.col("grain").is_in(target.grains)
        )
        targets[target.name] = {
            "indicator": target.indicator,
            "met": int(rows["met"].sum()),
            "not_met": int((~rows["met"]).sum()),
            "not_known": int(rows["met"].null_count()),
        }
    previous = settlement.previous
    return {"previous": previous.to_json() if previous else None, "targets": targets}


def _rows(
    settlement: Settlement,
    evaluated: Evaluated,
    indicator: ir.Indicator,
    word: str,
    groups: pl.Expr,
) -> pl.DataFrame:
    common = {
        "indicator": indicator.name,
        "grain": word,
        "unit": indicator.unit,
        "label": indicator.label,
    }
    reason = evaluated.unavailable.get((indicator.name, word))
    if reason is not None:
        row = common | {"key": "", "value": None, "target": "", "met": None}
        return pl.DataFrame([row | {"note": f"not available: {reason}"}], schema=SCHEMA)
    grain = GRAINS[word]
    frame = evaluated.result.frames[grain]
    name = value_name(indicator.name, word)
    keys = key_columns(grain)
    key = pl.col(keys[0]).cast(pl.String) if keys else pl.lit(settlement.policy.city)
    value = _rounded(pl.col(name).cast(pl.Float64), indicator)
    listed = frame.filter(groups) if word == "group" else frame
    if indicator.listing is not None:
        listed = listed.filter(pl.col(listing_name(indicator.name, word)).fill_null(False))
    targets = list(_targets(settlement, evaluated, indicator, word))
    texts = "; ".join(text for text, _ in targets)
    met = pl.all_horizontal([m for _, m in targets]) if targets else pl.lit(None)
    table = listed.select(
        pl.lit(indicator.name).alias("indicator"),
        pl.lit(word).alias("grain"),
        key.alias("key"),
        _text(value, indicator).alias("value"),
        pl.lit(indicator.unit).alias("unit"),
        pl.lit(indicator.label).alias("label"),
        pl.lit(texts).alias("target"),
        met.cast(pl.Boolean).alias("met"),
        pl.when(value.is_null()).then(pl.lit(NO_VALUE)).otherwise(pl.lit("")).alias("note"),
    )
    return table.sort("key").cast(SCHEMA)  # type: ignore[arg-type]


def _groups_seen(settlement: Settlement) -> pl.Expr:
    """The groups a `group` row is written for: those with cases in the run or, for a growth
    rate, in the previous run (a group of the catalog that neither has is nothing to watch)."""
    seen = distinct(settlement.data, ["drg_code"])["drg_code"]
    if settlement.previous is not None:
        before = settlement.previous.value("cases", "group")
        if before is not None:
            seen = pl.concat([seen, before.filter(pl.col("value") > 0)["key"]])
    return pl.col("drg_code").is_in(seen.implode())


def _text(value: pl.Expr, indicator: ir.Indicator) -> pl.Expr:
    """A value as written: money with its 2 decimals, a count whole, others as rounded."""
    if indicator.type.is_money:
        return value.cast(pl.Decimal(38, 2)).cast(pl.String)
    if indicator.declared_type == "count":
        return value.cast(pl.Int64).cast(pl.String)
    return value.map_elements(_significant, return_dtype=pl.String)


def _significant(value: float) -> str:
    """`value` to `DIGITS` significant digits, positional (`0.9`, `26967.3502`, `0.000123`):
    a sum of floats is exact to about 15, so its last bits never show. A zero is `0` whatever
    its sign (+ 0.0): a sum of negative zeros (a month's weights, all of ungrouped cases) is
    `-0.0` in polars' float sum in row order, `0.0` in the database's exact one."""
    return np.format_float_positional(value + 0.0, precision=DIGITS, fractional=False, trim="-")


def _rounded(value: pl.Expr, indicator: ir.Indicator) -> pl.Expr:
    if indicator.type.is_money:
        return functions.round_half_away_expr(value, 2)
    if indicator.declared_type == "count":
        return functions.round_half_away_expr(value, 0)
    return value


#: The months of a whole year, over which a yearly target is judged.
YEAR_MONTHS = 12


def _targets(
    settlement: Settlement, evaluated: Evaluated, indicator: ir.Indicator, word: str
) -> Iterator[tuple[str, pl.Expr]]:
    """Each target of the indicator at the grain: its text (`>= 0.9`) and whether the row's
    value meets it (null without a value). A yearly target (`per year`) is judged only on a
    row of a whole year — a year's run, not its months: elsewhere its text says the value is
    progress towards it (`>= 0.85 per year: progress`) and `met` is empty."""
    everything = evaluated.result.frames[frozenset()]
    whole_year = settlement.period.months == YEAR_MONTHS and word != "month"
    for target in settlement.policy.targets:
        if target.indicator != indicator.name or word not in target.grains:
            continue
        threshold = everything[threshold_name(target.name)][0]
        column = pl.col(value_name(indicator.name, word))
        if threshold is None:
            yield f"{target.fn} (no value)", pl.lit(None, dtype=pl.Boolean)
            continue
        if target.yearly and not whole_year:
            shown = f"{target.fn} {_shown(threshold)} per year: progress"
            yield shown, pl.lit(None, dtype=pl.Boolean)
            continue
        met = functions.near_constant(target.fn, column, float(threshold))
        yield (
            f"{target.fn} {_shown(threshold)}",
            pl.when(column.is_null()).then(None).otherwise(met),
        )


def _shown(value: float) -> str:
    return _significant(value)


# ---- not available ---------------------------------------------------------------------------


def unavailable(settlement: Settlement) -> dict[tuple[str, str], str]:
    """Why an indicator cannot be computed at a grain: a column it reads that the data files
    lack, the previous run it needs, the tier the hospitals lack (see the module docstring)."""
    policy = settlement.policy
    assert policy.monitoring is not None
    definitions = {d.name: d for d in policy.monitoring.definitions}
    absent = _absent_columns(settlement)
    found: dict[tuple[str, str], str] = {}
    for indicator in policy.indicators:
        for word in indicator.grains:
            roots = [value_name(indicator.name, word)]
            if indicator.listing is not None:
                roots.append(listing_name(indicator.name, word))
            reason = _first_reason(roots, definitions, absent, settlement.previous)
            if reason is None and word == "tier" and ("hospitals", "tier") in absent:
                reason = absent[("hospitals", "tier")]
            if reason is not None:
                found[(indicator.name, word)] = reason
    return found


def _first_reason(
    roots: list[str],
    definitions: dict[str, ir.Definition],
    absent: dict[tuple[str, str], str],
    previous: Previous | None,
) -> str | None:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop(0)
        if name in seen or name not in definitions:
            continue
        seen.add(name)
        for node in ir.walk(definitions[name].expr):
            if isinstance(node, ir.FieldRef):
                reason = _field_reason(node, absent, previous)
                if reason is not None:
                    return reason
            elif isinstance(node, ir.Ref) and node.stage is None:
                todo.append(node.name)
    return None


def _field_reason(
    node: ir.FieldRef, absent: dict[tuple[str, str], str], previous: Previous | None
) -> str | None:
    if node.table != PREVIOUS:
        return absent.get((node.table, node.column))
    if previous is None:
        return "no previous run (settle --previous DIR: last year's or last month's output)"
    name, _, word = node.column.rpartition("@")
    if previous.value(name, word) is None:
        return f"the previous run ({previous.folder}, {previous.period}) has no {name} for {word}"
    return None


def _absent_columns(settlement: Settlement) -> dict[tuple[str, str], str]:
    """The optional columns of the data contract that the data files do not have, each with
    the words saying so. (A policy's own input columns take their declared default, as in the
    settlement.)"""
    inputs = settlement.inputs
    found: dict[tuple[str, str], str] = {}
    for table, specs in TABLES.items():
        if table not in inputs.columns:
            continue
        for spec in specs:
            if not spec.required and spec.name not in inputs.columns[table]:
                file = inputs.files.get(table, f"{table}.csv")
                found[(table, spec.name)] = f"{file} has no column {spec.name}"
    return found
