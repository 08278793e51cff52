"""Settlements of one dataset for one period, kept for re-use (结算缓存), and the outcome of each as
a what-if compares it.

What is cached: the input data cut to the period (shared by every run), and the last `keep`
settlements with their outcomes, by policy hash and values set from outside. A policy not yet
settled is re-settled from the kept run it differs least from (`rerun.resettle`): after one
parameter is edited, only the definitions that read it are evaluated again, and the other version
of a comparison is not settled again at all.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import polars as pl

from engine.inputs.contract import Inputs
from engine.inputs.rundata import Period
from engine.plan import money
from engine.plan.exact import exact_sum
from engine.plan.polars.batch import Settings
from engine.plan.polars.frames import key_columns
from engine.run.outputs import period_values, stage_tables
from engine.run.settle import Settlement, settle
from engine.run.supervision_outputs import supervision_inputs
from engine.whatif.rerun import count_affected, resettle
from policy_dsl import ir
from policy_dsl.check.structure import price_name, settled_name

if TYPE_CHECKING:
    from engine.plan.sql.database import Database


@dataclass(frozen=True)
class Totals:
    """A period's totals: cases, settled points (or weight), point value (or rate, None when it
    varies by month or tier), payment and budget (money in fen); where the price varies,
    `prices` holds it by what it varies with (`tier A`, `level 2 二级`, a month…)."""

    cases: int
    settled: float
    price: float | None
    payment: int
    budget: int | None
    categories: dict[str, int]
    prices: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """One settlement as a what-if reads it: per case (`case_id`, `hospital_id`, `level`,
    `drg_code`, `category`, `settled`, `payment` in fen), the money a policy reports per hospital
    (`hospital_id` and one column in fen per money `report`, e.g. Wuxi's year-end corrections)
    and the totals, from the last settling stage."""

    settlement: Settlement
    stage: str
    cases: pl.DataFrame
    reports: pl.DataFrame
    totals: Totals
    #: per hospital, each declared deduction (fen, the period's total) and assessment score
    supervision: pl.DataFrame = field(default_factory=lambda: pl.DataFrame({"hospital_id": []}))

    @property
    def policy(self) -> ir.Policy:
        return self.settlement.policy

    @classmethod
    def of(cls, settlement: Settlement) -> Outcome:
        stage = settlement.settling_stages()[-1]
        read = statement_read(settlement, stage)
        tables = stage_tables(settlement, stage, statement=read, summary=False)
        summary = period_values(settlement.stages[stage], tables["cases"], settlement)
        settled = settled_name(settlement.policy.method)
        cases = tables["cases"].select(
            "case_id",
            "hospital_id",
            pl.lit(settlement.stages[stage].cases["level"]).alias("level"),
            "drg_code",
            pl.col("category").cast(pl.String),
            pl.col(settled).alias("settled"),
            pl.col("payment").fill_null(0),
        )
        totals = _totals(summary, cases, settlement.policy)
        if totals.price is None:
            prices = _prices_by(tables["cases"], settlement, price_name(settlement.policy.method))
            totals = replace(totals, prices=prices)
        if read:
            reports = _money_reports(tables["hospitals"], settlement, stage)
            supervision = _supervision(tables["hospitals"], settlement)
        else:  # what the statement's group-bys give: every hospital, nothing per hospital
            reports = settlement.data.hospitals.select("hospital_id").unique().sort("hospital_id")
            supervision = reports
        return cls(settlement, stage, cases, reports, totals, supervision)


def money_reports(policy: ir.Policy, stage: str) -> set[str]:
    """The money reports and deductions a statement of `stage` may show (`_money_reports`
    keeps those of them that it has): its reports of money and every declared deduction."""
    reports = {d.name for d in policy.stage(stage).definitions if d.report and d.type.is_money}
    return reports | {i.name for i in supervision_inputs(policy) if i.table == "deduction"}


def statement_read(settlement: Settlement, stage: str) -> bool:
    """Whether an outcome reads the hospitals' statement of `stage`: for its money reports,
    deductions and assessment scores, or for its hospitals when it is monthly (those with
    cases or deductions)."""
    monthly = bool(key_columns(settlement.stages[stage].period_keys))
    supervised = bool(supervision_inputs(settlement.policy))
    return monthly or supervised or bool(money_reports(settlement.policy, stage))


def _money_reports(statement: pl.DataFrame, settlement: Settlement, stage: str) -> pl.DataFrame:
    """Per hospital, each money report of the statement in fen (months added up) — and each
    deduction it shows (违规扣款, 拒付: what a hospital loses to supervision)."""
    names = [c for c in statement.columns if c in money_reports(settlement.policy, stage)]
    return (
        statement.group_by("hospital_id")
        .agg(money.to_fen(pl.col(n)).sum() for n in names)
        .sort("hospital_id")
    )


def _supervision(statement: pl.DataFrame, settlement: Settlement) -> pl.DataFrame:
    """Per hospital, each declared deduction in fen (months added up) and assessment score."""
    declared = supervision_inputs(settlement.policy)
    return (
        statement.group_by("hospital_id")
        .agg(
            money.to_fen(pl.col(i.name)).sum() if i.table == "deduction" else pl.col(i.name).first()
            for i in declared
        )
        .sort("hospital_id")
    )


def _totals(summary: pl.DataFrame, cases: pl.DataFrame, policy: ir.Policy) -> Totals:
    price = price_name(policy.method)
    prices = summary[price].unique().to_list() if price in summary.columns else []
    counts = cases.group_by("category").len().sort("category").rows()
    budget = summary["budget"].sum() if "budget" in summary.columns else None
    return Totals(
        cases=cases.height,
        # an exact sum, as the statements': a float sum's last bits differ between polars' and
        # DuckDB's frames (polars 2.2 moved them), and whatif.json is the same bytes on both
        settled=float(cases.lazy().select(exact_sum(pl.col("settled"))).collect().item()),
        price=float(prices[0]) if len(prices) == 1 and prices[0] is not None else None,
        payment=int(cases["payment"].sum()),
        budget=None if budget is None else round(budget * 100),
        categories={str(name): int(n) for name, n in counts},
    )


#: What a price may vary with, tried in this order: the first on which it is constant is shown.
PRICE_KEYS = (("tier",), ("level",), ("month",), ("tier", "month"), ("level", "month"))


def _prices_by(cases: pl.DataFrame, settlement: Settlement, price: str) -> dict[str, float]:
    """The price of each tier (or level, month…) when it is not one for the whole period."""
    if price not in cases.columns:
        return {}
    hospitals = settlement.data.hospitals.select("hospital_id", "level", "tier")
    frame = cases.select("hospital_id", *(["month"] if "month" in cases.columns else []), price)
    frame = frame.join(hospitals, on="hospital_id", how="left").drop_nulls(price)
    for keys in PRICE_KEYS:
        if not set(keys) <= set(frame.columns):
            continue
        found = frame.group_by(keys).agg(pl.col(price).unique()).sort(keys)
        if all(len(values) == 1 for values in found[price]):
            return {
                _key_label(keys, row[:-1]): float(row[-1][0])
                for row in found.select(*keys, price).rows()
            }
    return {}


def _key_label(keys: tuple[str, ...], values: tuple[object, ...]) -> str:
    """`("tier",), ("A",)` → `tier A`."""
    return ", ".join(f"{k} {v}" for k, v in zip(keys, values, strict=True))


def inputs_policy(base: ir.Policy, new: ir.Policy) -> ir.Policy:
    """`new` declaring the inputs of both versions, for loading data both can settle (a
    deduction or assessment only one of them reads included)."""
    names = {i.name for i in new.inputs}
    extra = [i for i in base.inputs if i.name not in names]
    return new.model_copy(update={"inputs": [*new.inputs, *extra]}) if extra else new


def run_key(policy: ir.Policy, settings: Settings) -> str:
    """What identifies a settlement of the cached data: the policy and the values set."""
    fixed = {"params": dict(settings.params), "definitions": dict(settings.definitions)}
    return policy.hash + json.dumps(fixed, sort_keys=True, default=str)


class Runs:
    """Settlements of `inputs` for `period` under any number of policies and settings."""

    def __init__(
        self, inputs: Inputs, period: Period, keep: int = 6, backend: str | Database = "polars"
    ) -> None:
        self.inputs = inputs
        self.period = period
        self.keep = keep
        #: where runs are settled (`engine.run.settle.settle`); on a SQL backend every run is
        #: settled whole (re-settling only what changed is the polars plan's)
        self.backend = backend
        self._kept: OrderedDict[str, Outcome] = OrderedDict()

    def outcome(self, policy: ir.Policy, settings: Settings | None = None) -> Outcome:
        """The outcome of `policy` (with `settings`), settled once and kept."""
        settings = settings or Settings()
        key = run_key(policy, settings)
        if key in self._kept:
            self._kept.move_to_end(key)
            return self._kept[key]
        found = Outcome.of(self._settle(policy, settings))
        self._kept[key] = found
        while len(self._kept) > self.keep:
            self._kept.popitem(last=False)
        return found

    def kept(self, policy: ir.Policy, settings: Settings | None = None) -> Outcome | None:
        """The kept outcome of `policy` (with `settings`), if any; nothing is settled."""
        return self._kept.get(run_key(policy, settings or Settings()))

    def settlement(self, policy: ir.Policy, settings: Settings | None = None) -> Settlement:
        return self.outcome(policy, settings).settlement

    def _settle(self, policy: ir.Policy, settings: Settings) -> Settlement:
        if not self._kept or self.backend != "polars":
            return settle(policy, self.inputs, self.period, settings, backend=self.backend)
        nearest = min(
            (o.settlement for o in self._kept.values()),
            key=lambda s: count_affected(s, policy, settings),
        )
        return resettle(nearest, policy, settings)


__all__ = [
    "Outcome",
    "Runs",
    "Totals",
    "inputs_policy",
    "money_reports",
    "run_key",
    "statement_read",
]
