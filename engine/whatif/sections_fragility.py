"""The report's sections on where a policy is fragile: threshold exposure and parameter sweeps."""

from __future__ import annotations

import polars as pl

from engine.page import show, svg
from engine.page.layout import Section, table
from engine.whatif.exposure import Exposure, ThresholdShift
from engine.whatif.sweep import Sweep


def exposure_section(exposure: Exposure) -> Section:
    rows = [
        [
            t.threshold.label,
            show.number(t.threshold.value),
            show.number(t.threshold.step),
            "; ".join(t.uses),
            t.grain,
            f"{t.near:,}",
            _near_levels(t.near_levels),
            _shift(t.down),
            _shift(t.up),
        ]
        for t in exposure.thresholds
    ]
    headers = [
        "threshold",
        "value",
        "step",
        "compared in",
        "rows of",
        f"near (±{exposure.margin:.0%})",
        "near by level",
        "one step down",
        "one step up",
    ]
    chart = svg.diverging_bars(
        [(t.threshold.label, float(t.near)) for t in exposure.thresholds],
        f"Rows within ±{exposure.margin:.0%} of each threshold",
        lambda v: f"{int(v):,}",
    )
    lead = [
        "Every parameter or table row compared against a quantity; near = within "
        f"±{exposure.margin:.0%} of it where the comparison decides something. A step moves it "
        "by ±0.05 (a ratio; ±0.001 below 0.1), ±1 (a count or level) or 5% (other values); "
        "the change in payment is per hospital level, with the cases that change category."
    ]
    return Section(
        "exposure",
        "Threshold exposure",
        lead,
        [],
        [table(headers, rows, [False, True, True, False, False, True, False, False, False])],
        [chart],
    )


def _near_levels(levels: dict[int, int]) -> str:
    return ", ".join(f"{n}: {c:,}" for n, c in levels.items()) or "—"


def _shift(shift: ThresholdShift | None) -> str:
    if shift is None:
        return "—"
    money = "; ".join(f"L{n} {show.yuan(v, True)}" for n, v in shift.levels.items() if v)
    reports = sorted(((abs(v), k, v) for k, v in shift.reports.items() if v), reverse=True)[:3]
    shown = "; ".join(f"{k} {show.yuan(v, True)}" for _, k, v in reports)
    parts = [
        f"→ {show.number(shift.value)}",
        money or "no payment change",
        f"{shift.moved_cases:,} cases move",
    ]
    return ", ".join([*parts, *([f"reports: {shown}"] if shown else [])])


def sweep_section(sweep: Sweep) -> Section:
    frame = sweep.table
    prefix = "payment_level_"
    levels = sorted(int(c.removeprefix(prefix)) for c in frame.columns if c.startswith(prefix))
    categories = [c for c in frame.columns if c.startswith("cases_")]
    reports = [
        c for c in frame.columns if c.startswith("delta_report_") and frame[c].abs().sum() > 0
    ]
    headers = [
        *sweep.params,
        "payment",
        "change",
        *(f"Δ {show.level(n)}" for n in levels),
        *(c.removeprefix("cases_") for c in categories),
        *(f"Δ {c.removeprefix('delta_report_')}" for c in reports),
    ]
    rows = [
        [
            *(show.number(r[p]) for p in sweep.params),
            show.yuan(r["payment"]),
            show.yuan(r["delta"], True),
            *(show.yuan(r[f"delta_level_{n}"], True) for n in levels),
            *(f"{r[c]:,}" for c in categories),
            *(show.yuan(r[c], True) for c in reports),
        ]
        for r in frame.iter_rows(named=True)
    ]
    first = sweep.params[0]
    charts = []
    seconds = (
        frame[sweep.params[1]].unique(maintain_order=True).to_list()
        if len(sweep.params) == 2
        else [None]
    )
    for second in seconds:
        part = frame if second is None else frame.filter(pl.col(sweep.params[1]) == second)
        suffix = "" if second is None else f" ({sweep.params[1]} = {show.number(second)})"
        charts.append(
            svg.lines(
                part[first].to_list(),
                [(show.level(n), part[f"delta_level_{n}"].to_list()) for n in levels],
                f"Change in payment by level against the version as written{suffix}",
                first + suffix,
                lambda v: show.yuan(int(v), True),
            )
        )
    written = ", ".join(f"{k} = {show.number(v)}" for k, v in sweep.reference.items())
    lead = [
        f"{sweep.policy.city} {sweep.policy.version} settled for each value, without editing the "
        f"file; changes are against the version as written ({written})."
    ]
    numeric = [True] * len(headers)
    return Section("sweep", "Parameter sweep", lead, [], [table(headers, rows, numeric)], charts)


__all__ = ["exposure_section", "sweep_section"]
