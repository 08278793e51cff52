"""`drgpolicy monitor`: the runs of one city side by side as one self-contained page —
`report.html`, charts as inline SVG as the what-if report's — and `monitor.json` (every value of
every indicator, grain, key and period; trends; outliers), written atomically.

The page: the runs; the targets, period by period; every indicator of the city over the
periods (a table and a chart each); the headline indicators per tier and per level (a line
each) and per hospital (the change from the first period to the last); the outliers; the group
lists; what is not available, and why.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.monitor.analysis import (
    Outlier,
    Series,
    group_lists,
    last_value,
    outliers,
    series,
    target_rows,
    unavailable,
)
from engine.monitor.runs import Runs
from engine.page import svg
from engine.page.html import page
from engine.page.layout import Section, table
from engine.page.markup import html_text
from engine.run.indicators import HEADLINE
from engine.run.out_folder import MARKER_KEY, Kind
from engine.run.outputs import write_folder_atomically

FORMAT_VERSION = "1.0"
MONITOR = Kind(
    "monitor.json", "monitor", "monitoring report", frozenset({"report.html", "monitor.json"})
)
COUNT_UNITS = ("例", "组", "count")
MET = {True: "✓ met", False: "✗ not met"}
#: The most groups of one list the page shows (monitor.json has them all).
LISTED = 20
HOW_TO_READ = (
    "The runs of one city side by side, period by period. <b>Targets</b>: each target the policy "
    "sets, met (✓) or not (✗). <b>City</b>: every indicator over the periods. <b>Tiers and "
    "levels</b>, <b>hospitals</b>: the headline indicators. <b>Outliers</b>: a value that misses "
    "its target, or a hospital's value far from its own history (robust z-score beyond 3.5). "
    "An indicator whose data a run lacks is <i>not available</i> there — never zero."
)


@dataclass(frozen=True)
class Monitoring:
    """Everything a monitoring report shows."""

    runs: Runs
    series: list[Series]
    outliers: list[Outlier]

    @classmethod
    def of(cls, runs: Runs) -> Monitoring:
        found = series(runs)
        return cls(runs, found, outliers(runs, found))

    def title(self) -> str:
        periods = self.runs.periods
        span = periods[0] if len(periods) == 1 else f"{periods[0]} … {periods[-1]}"
        return f"Run monitoring: {self.runs.city}, {span} ({len(periods)} runs)"

    def at(self, grain: str, indicators: Iterable[str] | None = None) -> list[Series]:
        wanted = set(indicators) if indicators is not None else None
        return [
            s
            for s in self.series
            if s.grain == grain and s.key and (wanted is None or s.indicator in wanted)
        ]

    def to_json(self) -> dict[str, Any]:
        periods = self.runs.periods
        return {
            MARKER_KEY: MONITOR.name,
            "format_version": FORMAT_VERSION,
            "city": self.runs.city,
            "periods": periods,
            "runs": [run.to_json() for run in self.runs.runs],
            "indicators": [s.to_json(periods) for s in self.series],
            "outliers": [o.to_json() for o in self.outliers],
        }


def write_monitoring(monitoring: Monitoring, out: Path) -> None:
    """`report.html` and `monitor.json` into `out`, atomically (a folder that is new, empty or
    an earlier monitoring report; never one holding a run it reads)."""
    data = json.dumps(monitoring.to_json(), ensure_ascii=False, indent=2) + "\n"
    files = {
        "report.html": render_html(monitoring).encode("utf-8"),
        "monitor.json": data.encode("utf-8"),
    }
    protect = [run.folder for run in monitoring.runs.runs]
    write_folder_atomically(out, files, kind=MONITOR, protect=protect)


#: Charts side by side, as many as the page is wide.
STYLE = (
    "figure { display: inline-block; vertical-align: top; margin: 0.5em 1em 0.5em 0; }"
    " figcaption { font-size: 0.85em; color: #444; max-width: 560px; }"
)


def render_html(monitoring: Monitoring) -> str:
    return page(monitoring.title(), HOW_TO_READ, sections(monitoring), style=STYLE)


def sections(monitoring: Monitoring) -> list[Section]:
    found = [_overview(monitoring), _targets(monitoring), _city(monitoring)]
    found += [_groups_of(monitoring, "tier"), _groups_of(monitoring, "level")]
    found += [_hospitals(monitoring), _outliers(monitoring), _lists(monitoring)]
    found.append(_not_available(monitoring))
    return [s for s in found if s is not None]


# ---- sections --------------------------------------------------------------------------------


def _overview(monitoring: Monitoring) -> Section:
    runs = monitoring.runs.runs
    versions = sorted({f"{r.city} {r.version}" for r in runs})
    missed = sum(o.kind == "target" for o in monitoring.outliers)
    history = sum(o.kind == "history" for o in monitoring.outliers)
    lead = [
        f"{len(runs)} runs of {monitoring.runs.city} ({', '.join(versions)}), from "
        f"{runs[0].period} to {runs[-1].period}: {missed} value(s) miss a target, {history} "
        "hospital value(s) stand far from the hospital's own history."
    ]
    rows = [[r.period, r.version, r.hash[:12], str(r.folder)] for r in runs]
    listing = table(["period", "version", "policy", "folder"], rows, [False] * 4)
    return Section("runs", "Runs", lead=lead, tables=[listing])


def _targets(monitoring: Monitoring) -> Section | None:
    targeted = [s for s in monitoring.series if s.target and s.grain in ("city", "month")]
    if not targeted:
        return None
    xs, axis = monitoring.runs.axis()
    periods = monitoring.runs.periods
    charts, rows = [], []
    for s in targeted:
        thresholds = _thresholds(s.target)
        if s.grain == "city":
            lines = [(s.label, s.values)] + [
                (f"target {op} {_number(v, s.unit)}", [v] * len(xs)) for op, v in thresholds
            ]
            charts.append(_lines(xs, lines, f"{s.label} — target {s.target}", axis, _fmt(s)))
    for s, period, value, met in target_rows(targeted, periods):
        shown = "—" if met is None else MET[met]
        key = period if s.grain == "city" else f"{s.key} (in {period})"
        rows.append([s.label, key, _number(value, s.unit), s.target, shown])
    headers = ["indicator", "period", "value", "target", "met"]
    lead = [
        "Each target is checked for the whole period of each run (city) and month by month "
        "(month): a year's run has a row for each of its months."
    ]
    return Section(
        "targets",
        "Targets",
        lead=lead,
        charts=charts,
        tables=[table(headers, rows, [False, False, True, False, False])],
    )


def _city(monitoring: Monitoring) -> Section:
    xs, axis = monitoring.runs.axis()
    periods = monitoring.runs.periods
    city = monitoring.at("city")
    rows = [[s.label, s.unit, *(_number(v, s.unit) for v in s.values), _change(s)] for s in city]
    headers = ["indicator", "unit", *periods, "change"]
    charts = [
        _lines(xs, [(s.label, s.values)], f"{s.label} ({s.unit})", axis, _fmt(s))
        for s in city
        if any(v is not None for v in s.values)
    ]
    numeric = [False, False, *([True] * len(periods)), True]
    return Section(
        "city",
        "City",
        lead=["Every indicator for the whole city, one column per run."],
        tables=[table(headers, rows, numeric)],
        charts=charts,
    )


def _groups_of(monitoring: Monitoring, grain: str) -> Section | None:
    found = monitoring.at(grain, HEADLINE)
    if not found:
        return None
    xs, axis = monitoring.runs.axis()
    charts = []
    for indicator in HEADLINE:
        lines = [(s.key, s.values) for s in found if s.indicator == indicator]
        if lines and any(v is not None for _, ys in lines for v in ys):
            first = next(s for s in found if s.indicator == indicator)
            title = f"{first.label} by {grain}"
            charts.append(_lines(xs, lines, title, axis, _fmt(first)))
    heading = {"tier": "Tiers", "level": "Hospital levels"}[grain]
    return Section(
        grain, heading, lead=[f"The headline indicators, one line per {grain}."], charts=charts
    )


def _hospitals(monitoring: Monitoring) -> Section | None:
    found = monitoring.at("hospital", HEADLINE)
    if not found:
        return None
    charts, rows = [], []
    for indicator in HEADLINE:
        mine = [s for s in found if s.indicator == indicator]
        changes = [(s.key, s.trend()["change"]) for s in mine]
        known = [(k, c) for k, c in changes if c is not None]
        if known:
            title = f"{mine[0].label}: change from the first run to the last, per hospital"
            charts.append(_captioned(title, svg.diverging_bars(known, title, _fmt(mine[0]))))
        for s in mine:
            trend = s.trend()
            rows.append(
                [
                    s.key,
                    s.label,
                    _number(trend["first"], s.unit),
                    _number(trend["last"], s.unit),
                    _number(trend["change"], s.unit),
                    _number(trend["slope"], s.unit),
                ]
            )
    headers = ["hospital", "indicator", "first", "last", "change", "trend per period"]
    return Section(
        "hospitals",
        "Hospitals",
        lead=["The headline indicators of each hospital: first and last run, change, trend."],
        charts=charts,
        tables=[table(headers, rows, [False, False, True, True, True, True])],
    )


def _outliers(monitoring: Monitoring) -> Section:
    rows = [[o.kind, o.label, o.grain, o.key, o.period, o.why] for o in monitoring.outliers]
    headers = ["against", "indicator", "grain", "key", "period", "why"]
    lead = [
        "Against the target: a value that does not meet it. Against the history: a hospital's "
        "value whose robust z-score among its own periods is beyond 3.5 (at least 6 periods)."
    ]
    if not rows:
        lead.append("Nothing is flagged.")
    return Section("outliers", "Outliers", lead=lead, tables=[table(headers, rows, [False] * 6)])


def _lists(monitoring: Monitoring) -> Section | None:
    listed = group_lists(monitoring.series)
    if not listed:
        return None
    periods = monitoring.runs.periods
    labels = list(dict.fromkeys(s.label for s in listed))
    counts = [[label, *_listed_per_run(listed, label, len(periods))] for label in labels]
    rows = []
    for label in labels:
        mine = [s for s in listed if s.label == label]
        mine.sort(key=lambda s: (-sum(v is not None for v in s.values), s.key))
        for s in mine[:LISTED]:
            runs = str(sum(v is not None for v in s.values))
            rows.append([label, s.key, runs, _number(last_value(s), s.unit)])
    headers = ["list", "group", f"runs listing it (of {len(periods)})", "last value"]
    lead = [
        "How many groups each list names in each run; then, per list, the groups it names most "
        f"often (at most {LISTED}; every one is in monitor.json)."
    ]
    return Section(
        "lists",
        "Group lists",
        lead=lead,
        tables=[
            table(["list", *periods], counts, [False, *([True] * len(periods))]),
            table(headers, rows, [False, False, True, True]),
        ],
    )


def _listed_per_run(listed: list[Series], label: str, runs: int) -> list[str]:
    """How many groups the list `label` names in each run."""
    mine = [s for s in listed if s.label == label]
    return [str(sum(s.values[i] is not None for s in mine)) for i in range(runs)]


def _not_available(monitoring: Monitoring) -> Section | None:
    found = unavailable(monitoring.series, monitoring.runs.periods)
    if not found:
        return None
    rows = [[s.label, s.grain, ", ".join(missing), why] for s, missing, why in found]
    headers = ["indicator", "grain", "periods", "why"]
    return Section(
        "not-available",
        "Not available",
        lead=["Indicators a run could not compute, and why (never counted as zero)."],
        tables=[table(headers, rows, [False] * 4)],
    )


# ---- numbers ---------------------------------------------------------------------------------


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "元":
        return f"{value:,.2f}"
    if unit in COUNT_UNITS:
        return f"{value:,.0f}"
    return f"{value:,.2f}" if abs(value) >= 100 else f"{value:.4f}"


def _lines(
    xs: list[float],
    series: Sequence[tuple[str, Sequence[float | None]]],
    title: str,
    axis: str,
    fmt: svg.Format,
) -> str:
    """A line chart of the runs, its y axis spanning the values (a month's change shows)."""
    return _captioned(title, svg.lines(xs, series, title, axis, fmt, from_zero=False))


def _captioned(title: str, chart: str) -> str:
    """A chart with its title shown above it (the figure holds both)."""
    return f"<figcaption>{html_text(title)}</figcaption>{chart}"


def _fmt(s: Series) -> svg.Format:
    return lambda value: _number(value, s.unit)


def _change(s: Series) -> str:
    change = s.trend()["relative"]
    return "—" if change is None else f"{change:+.1%}"


def _thresholds(target: str) -> Sequence[tuple[str, float]]:
    """The thresholds of a target's text (`>= 0.9`, or several: `>= 0.9; <= 1.1`)."""
    found = []
    for part in target.split(";"):
        match = re.fullmatch(r"\s*(==|!=|<=|>=|<|>)\s*(-?[\d.]+)\s*", part)
        if match:
            found.append((match.group(1), float(match.group(2))))
    return found
