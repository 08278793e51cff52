"""What a monitoring report finds in the runs side by side: each indicator's series over the
periods, its trend, and the outliers — a value that misses its target, and a hospital's value
far from its own history (异常值).

- **Series**: per indicator, grain and key, the value of each period (None where a run has no
  value or the indicator is not available there).
- **Trend**: first and last value, their change and relative change, and the slope of the
  least-squares line through the values (per period).
- **Outliers against the target**: every row of a period whose `met` is false.
- **Outliers against the hospital's own history**: a hospital's value in one period whose
  robust z-score among that hospital's values of every period exceeds 3.5 — |x − median| ÷
  (1.4826 × MAD), MAD the median absolute deviation (Iglewicz and Hoaglin's rule: one wild
  month does not hide itself by inflating a standard deviation); judged where the hospital
  has values in at least 6 periods and they are not all alike (MAD > 0).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

import polars as pl

from engine.monitor.runs import Runs

#: The robust z-score beyond which a hospital's value is an outlier of its own history.
ROBUST_Z = 3.5
#: 1 ÷ the 75th percentile of the standard normal: MAD × this estimates a standard deviation.
MAD_SCALE = 1.4826
#: The fewest periods a hospital's history needs for an outlier to be judged.
MIN_HISTORY = 6


@dataclass(frozen=True)
class Series:
    """One indicator at one grain and key over the periods."""

    indicator: str
    label: str
    unit: str
    grain: str
    key: str
    values: list[float | None]
    met: list[bool | None]
    target: str
    notes: list[str]

    def trend(self) -> dict[str, float | None]:
        known = [(i, v) for i, v in enumerate(self.values) if v is not None]
        if not known:
            return {"first": None, "last": None, "change": None, "relative": None, "slope": None}
        first, last = known[0][1], known[-1][1]
        return {
            "first": first,
            "last": last,
            "change": last - first,
            "relative": (last - first) / abs(first) if first else None,
            "slope": _slope(known),
        }

    def to_json(self, periods: list[str]) -> dict[str, Any]:
        return {
            "indicator": self.indicator,
            "label": self.label,
            "unit": self.unit,
            "grain": self.grain,
            "key": self.key,
            "values": dict(zip(periods, self.values, strict=True)),
            "met": dict(zip(periods, self.met, strict=True)),
            "notes": {p: n for p, n in zip(periods, self.notes, strict=True) if n},
            "target": self.target,
            "trend": self.trend(),
        }


def _slope(known: list[tuple[int, float]]) -> float | None:
    if len(known) < 2:
        return None
    xs, ys = [float(i) for i, _ in known], [v for _, v in known]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def series(runs: Runs) -> list[Series]:
    """Every indicator, grain and key of any run, over every period, in the order of the first
    run that has it."""
    periods = runs.periods
    table = runs.table.with_row_index("order")
    first = table.group_by("indicator", "grain", "key").agg(pl.col("order").min()).sort("order")
    rows = {
        (r["indicator"], r["grain"], r["key"], r["period"]): r for r in table.iter_rows(named=True)
    }
    found = []
    for indicator, grain, key, _ in first.iter_rows():
        cells = [rows.get((indicator, grain, key, period)) for period in periods]
        any_row = next(c for c in cells if c is not None)
        found.append(
            Series(
                indicator,
                any_row["label"],
                any_row["unit"],
                grain,
                key,
                [c["value"] if c else None for c in cells],
                [c["met"] if c else None for c in cells],
                next((c["target"] for c in cells if c and c["target"]), ""),
                [c["note"] or "" if c else "no run" for c in cells],
            )
        )
    return found


def group_lists(found: list[Series]) -> list[Series]:
    """The series of the group lists: indicators computed for groups only."""
    grains: dict[str, set[str]] = {}
    for s in found:
        grains.setdefault(s.indicator, set()).add(s.grain)
    return [s for s in found if s.key and grains[s.indicator] == {"group"}]


def unavailable(found: list[Series], periods: list[str]) -> list[tuple[Series, list[str], str]]:
    """Each indicator and grain not available in some run: the periods, and why."""
    rows = []
    for s in found:
        if not s.key:  # a row that is not available has no key
            missing = [p for p, n in zip(periods, s.notes, strict=True) if n.startswith("not")]
            rows.append((s, missing, next(n for n in s.notes if n.startswith("not"))))
    return rows


def target_rows(
    found: list[Series], periods: list[str]
) -> list[tuple[Series, str, float | None, bool | None]]:
    """Each value checked against a target, for the city and each month: the series, period,
    value and whether it meets the target. (The month row of a month's run repeats its city row:
    it is left out.)"""
    return [
        (s, period, value, met)
        for s in found
        if s.target and s.grain in ("city", "month")
        for period, value, met in zip(periods, s.values, s.met, strict=True)
        if (value is not None or met is not None) and not (s.grain == "month" and s.key == period)
    ]


def last_value(s: Series) -> float | None:
    return next((v for v in reversed(s.values) if v is not None), None)


@dataclass(frozen=True)
class Outlier:
    """A value flagged: missing its target, or far from the hospital's own history."""

    kind: str  # "target" or "history"
    indicator: str
    label: str
    grain: str
    key: str
    period: str
    value: float | None
    why: str

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def outliers(runs: Runs, found: list[Series]) -> list[Outlier]:
    """Every value that misses its target, then every hospital value far from its history."""
    periods = runs.periods
    flagged = []
    for s in found:
        for period, value, met in zip(periods, s.values, s.met, strict=True):
            if met is False:
                why = f"{_shown(value)} does not meet {s.target}"
                flagged.append(
                    Outlier("target", s.indicator, s.label, s.grain, s.key, period, value, why)
                )
    for s in found:
        if s.grain == "hospital":
            flagged += _history_outliers(s, periods)
    return flagged


def _history_outliers(s: Series, periods: list[str]) -> list[Outlier]:
    known = [(p, v) for p, v in zip(periods, s.values, strict=True) if v is not None]
    if len(known) < MIN_HISTORY:
        return []
    values = [v for _, v in known]
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    if mad == 0:
        return []
    found = []
    for period, value in known:
        z = (value - median) / (MAD_SCALE * mad)
        if abs(z) > ROBUST_Z:
            why = (
                f"{_shown(value)} against the hospital's median {_shown(median)} over "
                f"{len(known)} periods (robust z {z:+.1f})"
            )
            found.append(
                Outlier("history", s.indicator, s.label, s.grain, s.key, period, value, why)
            )
    return found


def _shown(value: float | None) -> str:
    return "no value" if value is None else f"{value:.6g}"
