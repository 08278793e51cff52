"""Impact of a new version (影响测算): the same cases settled under both versions, compared per
case, hospital, hospital level, group and category, with the cases that change category.

Money is in fen (分, integers), so every difference and every sum is exact; `pct` is the change
over the base amount (null where the base is zero).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from engine.plan.polars.batch import Settings
from engine.whatif.runs import Outcome, Runs, Totals
from engine.whatif.supervision import supervision_rows
from policy_dsl import ir

MONEY = ("payment_base", "payment_new", "delta")


@dataclass(frozen=True)
class Impact:
    """Two outcomes of the same cases and what differs. Frames (money in fen):

    - `cases`: `case_id`, `hospital_id`, `level`, `drg_code`, `category_base`, `category_new`,
      `payment_base`, `payment_new`, `delta`
    - `hospitals`: `hospital_id`, `level`, `tier`, `cases`, `payment_base`, `payment_new`,
      `delta`, `pct`, sorted by `delta` (winners first)
    - `levels`, `groups` (`drg_code`), `categories`: the same by level, group and category
      (by each version's own category of the case: `cases_base`, `cases_new`)
    - `transitions`: per `level`, `from` and `to` category: `cases` and the money
    - `reports`: each money `report` per hospital, summed (`report`, `base`, `new`, `delta`;
      null on the side that does not report it)
    - `hospital_reports`, `level_reports`: the same per hospital (`hospital_id`, `level`) and
      per level, long form (`report`, `base`, `new`, `delta`, `pct`). A policy with a year-end
      stage (Wuxi) pays a hospital what its statement says (`year_total`…), not the sum of its
      case payments: a change may move these and no case payment. Each declared deduction
      (违规扣款, 拒付) is compared here too, as a money report.
    """

    base: Outcome
    new: Outcome
    cases: pl.DataFrame
    hospitals: pl.DataFrame
    levels: pl.DataFrame
    groups: pl.DataFrame
    categories: pl.DataFrame
    transitions: pl.DataFrame
    reports: pl.DataFrame
    hospital_reports: pl.DataFrame = field(default_factory=lambda: _empty_reports("hospital_id"))
    level_reports: pl.DataFrame = field(default_factory=lambda: _empty_reports())

    @property
    def delta(self) -> int:
        """The change of the total payment, in fen."""
        return self.new.totals.payment - self.base.totals.payment

    @property
    def payments_move(self) -> bool:
        """Whether any case's payment changes."""
        return bool(self.cases["delta"].abs().sum() > 0)

    def moved_reports(self) -> list[str]:
        """The money reports that change for some hospital, in the statement's order."""
        moved = set(self.hospital_reports.filter(pl.col("delta") != 0)["report"].to_list())
        return [r for r in self.reports["report"].to_list() if r in moved]

    def report_label(self, name: str) -> str:
        """A report's label as the policy declares it (`年度清算总额`), else its name."""
        for outcome in (self.new, self.base):
            for stage in outcome.policy.stages:
                for definition in stage.definitions:
                    if definition.name == name and definition.label:
                        return definition.label
        return name

    def by_hospital(self, measure: str = "payment") -> pl.DataFrame:
        """Per hospital: `hospital_id`, `level`, `base`, `new`, `delta`, `pct` of the payment or
        of one money report, largest gain first."""
        if measure == "payment":
            frame = self.hospitals.select(
                "hospital_id",
                "level",
                pl.col("payment_base").alias("base"),
                pl.col("payment_new").alias("new"),
                "delta",
                "pct",
            )
        else:
            frame = self.hospital_reports.filter(pl.col("report") == measure).drop("report")
        return frame.sort("delta", "hospital_id", descending=[True, False], nulls_last=True)

    def winners_by(self, measure: str, n: int = 10) -> pl.DataFrame:
        """The hospitals whose payment (or money report `measure`) rises most."""
        return self.by_hospital(measure).filter(pl.col("delta") > 0).head(n)

    def losers_by(self, measure: str, n: int = 10) -> pl.DataFrame:
        """The hospitals whose payment (or money report `measure`) falls most."""
        frame = self.by_hospital(measure).filter(pl.col("delta") < 0)
        return frame.sort("delta", "hospital_id").head(n)

    def moved(self) -> pl.DataFrame:
        """Transitions between two different categories, largest first."""
        return self.transitions.filter(pl.col("from") != pl.col("to")).sort(
            "cases", "level", "from", "to", descending=[True, False, False, False]
        )

    def matrix(self) -> pl.DataFrame:
        """Cases by category under the base (`from`, rows) and the new version (columns)."""
        counts = self.transitions.group_by("from", "to").agg(pl.col("cases").sum())
        order = _category_order_of(self.base, self.new)
        wide = counts.pivot("to", index="from", values="cases").fill_null(0)
        columns = [c for c in order if c in wide.columns]
        rank = {c: i for i, c in enumerate(order)}
        return wide.select("from", *columns).sort(pl.col("from").replace_strict(rank))

    def winners(self, n: int = 10) -> pl.DataFrame:
        return self.hospitals.filter(pl.col("delta") > 0).head(n)

    def losers(self, n: int = 10) -> pl.DataFrame:
        return self.hospitals.filter(pl.col("delta") < 0).sort("delta").head(n)

    def to_json(self) -> dict[str, Any]:
        return {
            "base": _version(self.base),
            "new": _version(self.new),
            "totals": totals_rows(self.base.totals, self.new.totals),
            "levels": self.levels.to_dicts(),
            "hospitals": self.hospitals.to_dicts(),
            "groups": self.groups.to_dicts(),
            "categories": self.categories.to_dicts(),
            "transitions": self.moved().to_dicts(),
            "matrix": self.matrix().to_dicts(),
            "reports": self.reports.to_dicts(),
            "level_reports": self.level_reports.to_dicts(),
            "hospital_reports": self.hospital_reports.to_dicts(),
            "moved_reports": self.moved_reports(),
            "ranking": {
                m: {
                    "winners": self.winners_by(m, len(self.hospitals)).to_dicts(),
                    "losers": self.losers_by(m, len(self.hospitals)).to_dicts(),
                }
                for m in ["payment", *self.moved_reports()]
            },
            "prices": price_rows(self.base.totals, self.new.totals),
            "supervision": supervision_rows(self),
        }


def compare(
    runs: Runs,
    base: ir.Policy,
    new: ir.Policy,
    settings: Settings | None = None,
    new_settings: Settings | None = None,
) -> Impact:
    """Settle the cases of `runs` under both versions (each once, kept) and compare them;
    `new_settings` (default: `settings`) applies to the new version only."""
    return impact_of(runs.outcome(base, settings), runs.outcome(new, new_settings or settings))


def impact_of(base: Outcome, new: Outcome) -> Impact:
    """The comparison of two outcomes of the same cases."""
    if not base.cases["case_id"].equals(new.cases["case_id"]):
        raise ValueError("the two outcomes do not settle the same cases")
    cases = base.cases.select(
        "case_id",
        "hospital_id",
        "level",
        "drg_code",
        pl.col("category").alias("category_base"),
        new.cases["category"].alias("category_new"),
        pl.col("payment").alias("payment_base"),
        new.cases["payment"].alias("payment_new"),
    ).with_columns(delta=pl.col("payment_new") - pl.col("payment_base"))
    hospitals = base.settlement.data.hospitals.select("hospital_id", "level", "tier")
    grouped = dict(zip(GROUPINGS, pl.collect_all(_groupings(cases.lazy())), strict=True))
    by_hospital = hospitals.join(grouped["hospital"], on="hospital_id", how="left").with_columns(
        pl.col("cases", *MONEY).fill_null(0)
    )
    per_hospital = _hospital_reports(base, new, hospitals)
    return Impact(
        base,
        new,
        cases,
        _with_pct(by_hospital).sort("delta", "hospital_id", descending=[True, False]),
        _by_level(grouped["level"], hospitals),
        _with_pct(grouped["group"]).sort("delta", "drg_code"),
        _by_category(grouped["base"], grouped["new"], _category_order_of(base, new)),
        grouped["transitions"].sort("level", "from", "to"),
        _report_totals(base, new),
        per_hospital,
        _level_reports(per_hospital),
    )


#: The group-bys of the compared cases, in `_groupings`' order.
GROUPINGS = ("hospital", "level", "group", "base", "new", "transitions")


def _groupings(cases: pl.LazyFrame) -> list[pl.LazyFrame]:
    """Every group-by of the compared cases, collected together (polars runs them at once)."""

    def money_by(*keys: str | pl.Expr) -> pl.LazyFrame:
        return cases.group_by(*keys).agg(pl.len().alias("cases"), *(pl.col(m).sum() for m in MONEY))

    def side(which: str) -> pl.LazyFrame:
        return cases.group_by(pl.col(f"category_{which}").alias("category")).agg(
            pl.len().alias(f"cases_{which}"), pl.col(f"payment_{which}").sum()
        )

    return [
        money_by("hospital_id"),
        money_by("level"),
        money_by("drg_code"),
        side("base"),
        side("new"),
        money_by(
            "level", pl.col("category_base").alias("from"), pl.col("category_new").alias("to")
        ),
    ]


def _with_pct(frame: pl.DataFrame) -> pl.DataFrame:
    base = pl.col("payment_base")
    return frame.with_columns(pct=pl.when(base != 0).then(pl.col("delta") / base))


def _by_level(money: pl.DataFrame, hospitals: pl.DataFrame) -> pl.DataFrame:
    counts = hospitals.group_by("level").agg(pl.len().alias("hospitals"))
    joined = counts.join(money, on="level", how="left").with_columns(
        pl.col("cases", *MONEY).fill_null(0)
    )
    return _with_pct(joined).sort("level")


def _by_category(base: pl.DataFrame, new: pl.DataFrame, order: list[str]) -> pl.DataFrame:
    frame = pl.DataFrame({"category": order}).join(base, on="category", how="left")
    frame = frame.join(new, on="category", how="left").fill_null(0)
    frame = frame.with_columns(delta=pl.col("payment_new") - pl.col("payment_base"))
    return _with_pct(frame)


def report_names(base: Outcome, new: Outcome) -> list[str]:
    """The money reports of either statement: the base's order, then what the new one adds."""
    return _names_of(base.reports, new.reports)


def _names_of(base: pl.DataFrame, new: pl.DataFrame) -> list[str]:
    names = list(dict.fromkeys([*base.columns, *new.columns]))
    names.remove("hospital_id")
    return names


def _long_reports(outcome: Outcome, side: str) -> pl.DataFrame:
    names = [c for c in outcome.reports.columns if c != "hospital_id"]
    if not names:
        return pl.DataFrame(schema={"hospital_id": pl.String, "report": pl.String, side: pl.Int64})
    return outcome.reports.unpivot(
        index="hospital_id", on=names, variable_name="report", value_name=side
    ).with_columns(pl.col(side).cast(pl.Int64))


def _hospital_reports(base: Outcome, new: Outcome, hospitals: pl.DataFrame) -> pl.DataFrame:
    """Each money report per hospital under both versions (fen), long form."""
    order = {name: i for i, name in enumerate(report_names(base, new))}
    both = _long_reports(base, "base").join(
        _long_reports(new, "new"), on=["hospital_id", "report"], how="full", coalesce=True
    )
    frame = hospitals.select("hospital_id", "level").join(both, on="hospital_id")
    frame = frame.with_columns(delta=pl.col("new") - pl.col("base"))
    return _with_pct_of(frame, "base").sort(
        pl.col("report").replace_strict(order, return_dtype=pl.Int64), "hospital_id"
    )


def _level_reports(per_hospital: pl.DataFrame) -> pl.DataFrame:
    """Each money report summed per hospital level (null where a version lacks it)."""
    if per_hospital.is_empty():
        return _empty_reports()
    order = {name: i for i, name in enumerate(per_hospital["report"].unique(maintain_order=True))}
    summed = per_hospital.group_by("level", "report").agg(
        *(
            pl.when(pl.col(c).is_null().all()).then(None).otherwise(pl.col(c).sum()).alias(c)
            for c in ("base", "new")
        )
    )
    summed = summed.with_columns(delta=pl.col("new") - pl.col("base"))
    return _with_pct_of(summed, "base").sort(
        pl.col("report").replace_strict(order, return_dtype=pl.Int64), "level"
    )


def _empty_reports(*keys: str) -> pl.DataFrame:
    schema = {k: pl.String for k in keys} | {"level": pl.Int64, "report": pl.String}
    money = {c: pl.Int64 for c in ("base", "new", "delta")}
    return pl.DataFrame(schema=schema | money | {"pct": pl.Float64})


def _with_pct_of(frame: pl.DataFrame, base: str) -> pl.DataFrame:
    """The change over the base amount's size (a report may be negative: an amount due back)."""
    column = pl.col(base)
    return frame.with_columns(pct=pl.when(column != 0).then(pl.col("delta") / column.abs()))


def _report_totals(base: Outcome, new: Outcome) -> pl.DataFrame:
    return report_totals(base.reports, new.reports)


def report_totals(base: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """Each money report of two runs' `Outcome.reports` summed: `report`, `base`, `new`,
    `delta` (null on the side that lacks it)."""
    names = _names_of(base, new)

    def total(reports: pl.DataFrame, name: str) -> int | None:
        return int(reports[name].sum()) if name in reports.columns else None

    frame = pl.DataFrame(
        {
            "report": names,
            "base": [total(base, n) for n in names],
            "new": [total(new, n) for n in names],
        },
        schema={"report": pl.String, "base": pl.Int64, "new": pl.Int64},
    )
    return frame.with_columns(delta=pl.col("new") - pl.col("base"))


def _category_order_of(base: Outcome, new: Outcome) -> list[str]:
    """Classes in the order the policies declare them (the base's first)."""
    names: list[str] = []
    for outcome in (base, new):
        dtype = outcome.settlement.stages[outcome.stage].cases.schema["category"]
        names += [c for c in getattr(dtype, "categories", []) if c not in names]
    return names


def _version(outcome: Outcome) -> dict[str, Any]:
    policy = outcome.policy
    settings = outcome.settlement.settings
    return {
        "city": policy.city,
        "version": policy.version,
        "hash": policy.hash,
        "method": policy.method,
        "stage": outcome.stage,
        "params": dict(settings.params),
        "fixed": dict(settings.definitions),
    }


def price_rows(base: Totals, new: Totals) -> list[dict[str, Any]]:
    """Where the point value or rate varies (by tier, month…): each one under both versions."""
    keys = list(dict.fromkeys([*base.prices, *new.prices]))
    rows = []
    for key in keys:
        old, now = base.prices.get(key), new.prices.get(key)
        change = None if old is None or now is None else now - old
        pct = None if change is None or not old else change / old
        rows.append({"by": key, "base": old, "new": now, "delta": change, "pct": pct})
    return rows


def totals_rows(base: Totals, new: Totals) -> list[dict[str, Any]]:
    """The totals side by side: measure, base, new, change (money in fen)."""
    rows = [
        ("cases", base.cases, new.cases),
        ("settled", base.settled, new.settled),
        ("price", base.price, new.price),
        ("payment", base.payment, new.payment),
        ("budget", base.budget, new.budget),
    ]
    return [
        {
            "measure": name,
            "base": old,
            "new": now,
            "delta": None if old is None or now is None else now - old,
            "pct": None if not old or now is None else (now - old) / old,
        }
        for name, old, now in rows
    ]


__all__ = [
    "Impact",
    "compare",
    "impact_of",
    "price_rows",
    "report_names",
    "report_totals",
    "totals_rows",
]
