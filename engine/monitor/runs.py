"""The runs a monitoring report puts side by side (运行监测): settlements of one city, each with
the `indicators.csv` it wrote, in the order of their periods (the months of a year)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from engine.inputs.indicator_runs import IndicatorRun, RunError
from engine.inputs.rundata import Period
from engine.run.out_folder import SETTLEMENT
from policy_dsl.errors import PolicyError

WHAT = "monitor"


class MonitorError(RunError):
    """Runs that cannot be put side by side: of two cities, a period twice or two that overlap,
    periods of different lengths, none at all."""


@dataclass(frozen=True)
class Runs:
    """The runs of one city, by period, and all their indicator rows in one long table:
    indicator, grain, key, period, value (a number), unit, label, target, met, note."""

    city: str
    runs: list[IndicatorRun]
    table: pl.DataFrame

    @property
    def periods(self) -> list[str]:
        return [run.period for run in self.runs]

    def axis(self) -> tuple[list[float], str]:
        """Where each run stands on a chart's x axis, and what the axis says: the month of the
        year for months of one year, the year for years, else the run's place in order."""
        periods = [Period.parse(p) for p in self.periods]
        years = {p.year for p in periods}
        if all(p.month is not None for p in periods) and len(years) == 1:
            return [float(p.month or 0) for p in periods], f"month of {years.pop()}"
        if all(p.is_year for p in periods):
            return [float(p.year) for p in periods], "year"
        return [float(i + 1) for i in range(len(periods))], "run, in the order of its period"


def read_runs(folders: Sequence[Path]) -> Runs:
    """The runs of `folders`, refused (`MonitorError`) unless they are settlements of one city
    with their indicators, each period once, no two overlapping."""
    if not folders:
        raise MonitorError("monitor needs the output folders of one or more settlements")
    for folder in map(Path, folders):
        _not_a_folder_of_runs(folder)
    try:
        return runs_of([IndicatorRun.read(Path(folder), WHAT) for folder in folders])
    except MonitorError:
        raise
    except RunError as exc:
        raise MonitorError(str(exc)) from None


def _not_a_folder_of_runs(folder: Path) -> None:
    """Refused, naming them, where `folder` is no run but holds runs: the `--out` of a run over
    a policy folder (one `<city>-<version>/` each), or a folder of a city's months."""
    if not folder.is_dir() or (folder / SETTLEMENT.marker).exists():
        return
    runs = sorted(sub.name for sub in folder.iterdir() if (sub / SETTLEMENT.marker).is_file())
    if runs:
        shown = ", ".join(runs[:6]) + (", …" if len(runs) > 6 else "")
        raise MonitorError(
            f"{WHAT} {folder} is not one run's output but holds {len(runs)} ({shown}): give the "
            f"folders of one city's runs themselves — e.g. {folder / runs[0]} — not the folder "
            "that holds them"
        )


def runs_of(runs: list[IndicatorRun]) -> Runs:
    """The runs side by side, refused unless of one city, each period once, none overlapping
    another (a year's run with its months' runs) and all of one length (a year, then months)."""
    cities = sorted({run.city for run in runs})
    if len(cities) > 1:
        by_city = "; ".join(
            f"{city}: {', '.join(str(r.folder) for r in runs if r.city == city)}" for city in cities
        )
        raise MonitorError(
            f"the runs are of {len(cities)} cities ({by_city}): a monitoring report follows one "
            "city's indicators over its periods; give the runs of one city"
        )
    runs.sort(key=lambda run: _order(run.period))
    for first, second in itertools.pairwise(runs):
        if first.period == second.period:
            raise MonitorError(
                f"{first.folder} and {second.folder} are both runs of {first.period}: give "
                "each period once"
            )
        if _order(first.period)[1] >= _order(second.period)[0]:
            raise MonitorError(
                f"{first.folder} ({first.period}) and {second.folder} ({second.period}) "
                "overlap (the cases of one are cases of the other): a monitoring report follows "
                "a city over periods one after another; give periods that do not overlap — the "
                "months of a year, or the years — not a year with its months"
            )
    _one_length(runs)
    table = pl.concat(
        [run.table.with_columns(pl.lit(run.period).alias("period")) for run in runs],
        how="diagonal_relaxed",
    )
    return Runs(cities[0], runs, table)


#: A period's kind by its length in months, as the refusal names it.
_KINDS = {1: "months", 3: "quarters", 12: "years"}


def _one_length(runs: list[IndicatorRun]) -> None:
    """Refused unless every run's period is as long as the others: a year beside months (2023,
    then 2024's months) puts twelve months' cases beside one's — its outliers and trends mean
    nothing."""
    kinds: dict[str, list[str]] = {}
    for run in runs:
        kinds.setdefault(_KINDS[Period.parse(run.period).months], []).append(run.period)
    if len(kinds) > 1:
        shown = "; ".join(f"{kind}: {', '.join(periods)}" for kind, periods in kinds.items())
        raise MonitorError(
            f"the runs are of periods of {len(kinds)} lengths ({shown}): a monitoring report "
            "puts periods of one length side by side (a year's cases, costs and outliers are "
            "not comparable with a month's); give the runs of one length — the months, the "
            "quarters or the years"
        )


def _order(period: str) -> tuple[dt.date, dt.date]:
    try:
        parsed = Period.parse(period)
    except PolicyError:
        raise MonitorError(f"a run's period `{period}` is not a year, quarter or month") from None
    return parsed.first_day, parsed.last_day
