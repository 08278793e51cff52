"""What one settlement run evaluates over: the period, and the validated inputs cut to it."""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import polars as pl

from engine.inputs.stored import CaseStore, distinct, frame_field, held, store_of
from engine.plan.polars.keys import KeyCodes
from policy_dsl.errors import PolicyError

#: The case columns `RunData.build` reads or makes (keys, and what the codes are made of).
BUILT_FROM = ("case_id", "hospital_id", "drg_code", "month", "discharge_date", "level", "tier")


class PeriodError(PolicyError):
    """A `--period` that is neither a year, a quarter nor a month."""


@dataclass(frozen=True)
class Period:
    """A settlement period: a year (`2024`), a quarter (`2024-Q2`, 季度: Xuancheng's quarterly
    "horse race") or a month (`2024-03`)."""

    year: int
    month: int | None = None
    quarter: int | None = None

    @classmethod
    def parse(cls, text: str) -> Period:
        match = re.fullmatch(r"(\d{4})(?:-(\d{2})|-?[Qq]([1-4]))?", text.strip())
        if (
            not match
            or int(match.group(1)) == 0  # no year 0 in the calendar (`datetime.date`)
            or (match.group(2) and not 1 <= int(match.group(2)) <= 12)
        ):
            raise PeriodError(
                f"period `{text}`: write a year (2024), a quarter (2024-Q2) or a month (2024-03)"
            )
        year, month, quarter = match.groups()
        return cls(int(year), int(month) if month else None, int(quarter) if quarter else None)

    @property
    def is_year(self) -> bool:
        return self.month is None and self.quarter is None

    @property
    def label(self) -> str:
        if self.quarter is not None:
            return f"{self.year}-Q{self.quarter}"
        return f"{self.year}" if self.month is None else f"{self.year}-{self.month:02d}"

    @property
    def months(self) -> int:
        """How many months the period spans (`period_months` in a policy)."""
        return len(self._month_numbers())

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self._month_numbers()[0], 1)

    @property
    def last_day(self) -> dt.date:
        month = self._month_numbers()[-1]
        return dt.date(self.year, month, calendar.monthrange(self.year, month)[1])

    def month_labels(self) -> list[str]:
        return [f"{self.year}-{m:02d}" for m in self._month_numbers()]

    def _month_numbers(self) -> list[int]:
        if self.month is not None:
            return [self.month]
        if self.quarter is not None:
            return list(range(3 * self.quarter - 2, 3 * self.quarter + 1))
        return list(range(1, 13))


def run_value(period: Period, column: str) -> float:
    """A run field's value: `period_months` (本结算期月数) or `period_year` (结算年度)."""
    return float(period.months if column == "period_months" else period.year)


@frame_field("cases")
@dataclass
class RunData:
    """Inputs of one run: cases of the period (with their hospital's level and tier), all
    hospitals, the group catalog and the budget figures. On DuckDB the cases may stay in the
    database (`engine.inputs.stored`): read back when `cases` is first read."""

    cases: pl.DataFrame
    hospitals: pl.DataFrame
    groups: pl.DataFrame
    budget: dict[str, Any]
    period: Period
    #: integer codes of the key columns (`engine.plan.polars.keys`)
    codes: KeyCodes
    #: supervision rows of the period (`engine.inputs.supervision.in_period`): deductions dated in
    # it,
    #: assessment scores that hold in it; None when the policy reads none
    deductions: pl.DataFrame | None = None
    assessments: pl.DataFrame | None = None
    #: per key column, case column and function of it (a polars expression, serialized): the
    #: codes of the function's values at each case (`keys.codes_of_texts`, a rekey's given key),
    #: made once per dataset as the cases' own codes are
    text_codes: dict[tuple[str, str, str], pl.Series | None] = field(default_factory=dict)
    #: per case column and the name of its parts: the exact sums' grid parts of its values
    #: (`exact.grid_parts`), made once per dataset for every aggregate that sums or means it
    grid_parts: dict[tuple[str, str], tuple[list[pl.Series], pl.Expr] | None] = field(
        default_factory=dict
    )
    #: per text case column, its values' hashes where no two of its texts share one: what
    #: `distinct` counts (`engine.plan.polars.batch_windows._distinct_hashes`), once per dataset
    distinct_hashes: dict[str, pl.Series | None] = field(default_factory=dict)

    @cached_property
    def deduction_months(self) -> pl.DataFrame:
        """The hospital-months in which a deduction is dated but no case of the hospital was
        discharged (`hospital_id`, `month`): a `per month` stage has rows for them too, so that
        such a deduction is applied and shown in its month (`engine.inputs.supervision`)."""
        keys = ["hospital_id", "month"]
        if self.deductions is None or self.deductions.is_empty():
            return pl.DataFrame(schema={k: pl.String for k in keys})
        dated = self.deductions.select(keys).unique()
        settled = distinct(self, keys)
        return dated.join(settled, on=keys, how="anti").sort(keys)

    @classmethod
    def build(
        cls,
        cases: pl.DataFrame,
        hospitals: pl.DataFrame,
        groups: pl.DataFrame,
        budget: dict[str, Any],
        period: Period,
        supervision: tuple[pl.DataFrame, pl.DataFrame] | None = None,
    ) -> RunData:
        """Cut cases to the period; give each its hospital's level and tier."""
        in_period = cases.filter(pl.col("month").is_in(period.month_labels()))
        codes = KeyCodes.of(in_period, hospitals, groups, period.month_labels())
        attributes = codes.hospital_codes(hospitals.select("hospital_id", "level", "tier"))
        enriched = in_period.drop([c for c in ("level", "tier") if c in in_period.columns]).join(
            attributes, on="hospital_id", how="left", maintain_order="left"
        )
        # inputs come sorted by key (contract): sorting again costs ~1 s per 10M cases
        ordered = (
            enriched.rechunk() if enriched["case_id"].is_sorted() else enriched.sort("case_id")
        )
        return cls(
            codes.case_codes(ordered),
            hospitals.sort("hospital_id"),
            groups.sort("drg_code"),
            budget,
            period,
            codes,
            *(supervision or (None, None)),
        )

    def with_case_columns(self, columns: Sequence[str]) -> RunData:
        """This run with only `columns` of its cases (and the key columns and codes), read back
        from the database if they stay there: what a polars plan reads of a SQL run's cases."""
        store = store_of(self)
        if store is None:
            return self
        return dataclasses.replace(self, cases=store.frame(columns))

    @classmethod
    def in_database(
        cls,
        store: CaseStore,
        inputs_cases: Callable[[Sequence[str] | None], pl.DataFrame],
        hospitals: pl.DataFrame,
        groups: pl.DataFrame,
        budget: dict[str, Any],
        period: Period,
        supervision: tuple[pl.DataFrame, pl.DataFrame] | None = None,
    ) -> RunData:
        """`build` with the cases left in the database (`store`: the inputs'): the period's cut
        and each case's level and tier a view there, the codes from the distinct groups of the
        period; the frame `build` makes (from `inputs_cases`: every column, or those named)
        only when something reads it."""
        months = period.month_labels()

        def read(columns: Sequence[str] | None) -> pl.DataFrame:
            wanted = None if columns is None else [*BUILT_FROM, *columns]
            return cls.build(inputs_cases(wanted), hospitals, groups, budget, period).cases

        cut = store.in_period(months, hospitals, read)
        codes = KeyCodes.of(cut.distinct(["drg_code"]), hospitals, groups, months)
        return cls(
            held(cut),
            hospitals.sort("hospital_id"),
            groups.sort("drg_code"),
            budget,
            period,
            codes,
            *(supervision or (None, None)),
        )
