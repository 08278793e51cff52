"""The previous run (上一期结算) a settlement reads its growth rates from (`settle --previous DIR`):
last year's or last month's output folder of the same city, and the indicators it wrote.

`previous.cmi` in an indicator is that indicator's value for the same grain and key in the
previous run's `indicators.csv` (or `.parquet`). The folder is a `settle` output (its
`manifest.json` says so) of one policy, or of a policy folder: then the sub-folder of the same
city is taken.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl

from engine.inputs.indicator_runs import IndicatorRun, RunError, city_of
from engine.inputs.rundata import Period
from engine.run.out_folder import SETTLEMENT

WHAT = "--previous"


class PreviousError(RunError):
    """A `--previous` folder that is not a settlement of the city with its indicators."""


@dataclass(frozen=True)
class Previous:
    """A previous run, and its indicators' values (indicator, grain, key, value)."""

    run: IndicatorRun

    @classmethod
    def read(cls, folder: Path | str, city: str, before: Period | None = None) -> Previous:
        """The run of `city` in `folder` (itself, or its one sub-folder of that city); with
        `before`, a run of the period just before it or of the same period a year earlier
        (`just_before`)."""
        try:
            previous = cls(IndicatorRun.read(_run_of(Path(folder), city), WHAT))
        except PreviousError:
            raise
        except RunError as exc:
            raise PreviousError(str(exc)) from None
        if before is None:
            return previous
        period = Period.parse(previous.period)
        if period.last_day >= before.first_day:
            raise PreviousError(
                f"{WHAT} {previous.folder} settled {previous.period}, which does not end before "
                f"{before.label}: growth rates compare a period with one before it (last "
                "month's or last year's run)"
            )
        if period.months != before.months:
            raise PreviousError(
                f"{WHAT} {previous.folder} settled {previous.period} ({_months(period)}), not a "
                f"period as long as {before.label} ({_months(before)}): growth rates compare "
                "periods of one length (case_growth counts cases) — give last month's run for "
                "a month, last quarter's for a quarter, last year's for a year"
            )
        accepted = just_before(before)
        if period not in accepted:
            words = " or ".join(p.label for p in dict.fromkeys(accepted))
            raise PreviousError(
                f"{WHAT} {previous.folder} settled {previous.period}, not the period just before "
                f"{before.label} nor the same period a year earlier: growth rates compare "
                f"{before.label} with {words} (环比: the period before; 同比: a year earlier)"
            )
        return previous

    @property
    def folder(self) -> Path:
        return self.run.folder

    @property
    def period(self) -> str:
        return self.run.period

    def value(self, indicator: str, grain: str) -> pl.DataFrame | None:
        """The key and value of each row of an indicator at a grain (None if the previous run
        has none: not computed, or not available there)."""
        rows = self.run.table.filter(
            (pl.col("indicator") == indicator)
            & (pl.col("grain") == grain)
            & pl.col("value").is_not_null()
        )
        return rows.select("key", "value") if rows.height else None

    def to_json(self) -> dict[str, Any]:
        return self.run.to_json()


def just_before(period: Period) -> tuple[Period, Period]:
    """The periods a growth rate of `period` may compare it with: the one of its length that
    ends the day before it starts (环比), and the same period a year earlier (同比) — for a
    year, both are last year."""
    day = period.first_day - dt.timedelta(days=1)
    month = day.month if period.month is not None else None
    quarter = (day.month + 2) // 3 if period.quarter is not None else None
    return Period(day.year, month, quarter), replace(period, year=period.year - 1)


def _months(period: Period) -> str:
    return "1 month" if period.months == 1 else f"{period.months} months"


def _run_of(folder: Path, city: str) -> Path:
    if not folder.is_dir():
        raise PreviousError(f"{WHAT} {folder} is not a folder: give an earlier run's --out")
    if (folder / SETTLEMENT.marker).is_file():
        found = city_of(folder, WHAT)
        if found != city:
            raise PreviousError(
                f"{WHAT} {folder} is a run of {found}, not of {city}: growth rates compare "
                "a city with itself"
            )
        return folder
    runs = [
        sub
        for sub in sorted(folder.iterdir())
        if (sub / SETTLEMENT.marker).is_file() and city_of(sub, WHAT) == city
    ]
    if len(runs) != 1:
        what = "no run" if not runs else f"{len(runs)} runs ({', '.join(r.name for r in runs)})"
        raise PreviousError(
            f"{WHAT} {folder} holds {what} of {city}: give the output folder of one earlier "
            "settlement of the city"
        )
    return runs[0]
