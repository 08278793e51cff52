"""The report's section on attribution per clause (条款归因): each changed clause's part of the
change in case payments and in each money report, per hospital level, and the interaction."""

from __future__ import annotations

import polars as pl

from engine.page import show, svg
from engine.page.layout import Section, Table, table
from engine.whatif.attribution import INTERACTION, Attribution, Part

INTERACTION_LABEL = "interaction (交互项)"


def attribution_section(attribution: Attribution) -> Section:
    if not attribution.parts:
        lead = [
            "No clause changed: the semantic diff of the two versions (`drgpolicy diff`) is "
            "empty, so there is nothing to attribute."
        ]
        return Section("attribution", "Attribution per clause", lead)
    levels = _levels(attribution)
    paying = [p for p in attribution.parts if p.moved or p.delta]
    keys = [p.key for p in paying] + [INTERACTION]
    by_level = {p.key: p.levels for p in paying} | {INTERACTION: attribution.interaction_levels}
    labels = {p.key: p.label for p in attribution.parts} | {INTERACTION: INTERACTION_LABEL}
    tables = [_payment_table(attribution, keys, by_level, labels, levels)]
    reports = _report_table(attribution, labels, levels)
    if reports is not None:
        tables.append(reports)
    bullets = [
        f"{labels[k]}: "
        + "; ".join(f"{show.level(n)} {show.yuan(by_level[k].get(n, 0), True)}" for n in levels)
        for k in keys
        if paying
    ]
    bullets += [_report_bullet(p) for p in attribution.parts if p.moves_reports]
    chart = svg.grouped_bars(
        [labels[k] for k in keys],
        [(show.level(n), [by_level[k].get(n, 0) for k in keys]) for n in levels],
        "Change in payment per clause and hospital level",
        lambda v: show.yuan(int(v), True),
    )
    return Section(
        "attribution",
        "Attribution per clause",
        _lead(attribution),
        bullets,
        tables,
        [chart] if paying else [],
    )


def _lead(attribution: Attribution) -> list[str]:
    parts = attribution.parts
    notes = [
        *(
            f"`{p.key}` brings along {', '.join(f'`{b}`' for b in p.brought)}."
            for p in parts
            if p.brought
        ),
        *(f"Grouped: {p.note}." for p in parts if p.note),
    ]
    reporting = [p for p in parts if not (p.moved or p.delta) and p.moves_reports]
    quiet = [p for p in parts if not (p.moved or p.delta or p.moves_reports)]
    if reporting:
        notes.append(
            "No effect on case payments, but on the money reports (below): "
            + ", ".join(f"`{p.key}`" for p in reporting)
            + "."
        )
    if quiet:
        what = "case payments or money reports" if attribution.reports else "payments"
        notes.append(f"No effect on {what}: " + ", ".join(f"`{p.key}`" for p in quiet) + ".")
    each = (
        " — for the case payments and for each money report of the hospital statement"
        if attribution.reports
        else ""
    )
    return [
        "Each changed clause applied alone to the base version and settled; the interaction is "
        "what the clauses do only together. Per level, per hospital (whatif.json) and in total the "
        f"parts and the interaction add up to the change exactly, to the fen{each}.",
        *notes,
    ]


def _payment_table(
    attribution: Attribution,
    keys: list[str],
    by_level: dict[str, dict[int, int]],
    labels: dict[str, str],
    levels: list[int],
) -> Table:
    moved = {p.key: p.moved for p in attribution.parts}
    rows = [
        [
            labels[k],
            k if k != INTERACTION else "",
            *(show.yuan(by_level[k].get(n, 0), True) for n in levels),
            show.yuan(sum(by_level[k].values()), True),
            show.yuan(moved[k]) if k != INTERACTION else "",
        ]
        for k in keys
    ]
    impact = attribution.impact
    rows.append(
        [
            "total change",
            "",
            *(
                show.yuan(int(impact.levels.filter(pl.col("level") == n)["delta"].sum()), True)
                for n in levels
            ),
            show.yuan(impact.delta, True),
            show.yuan(int(impact.hospitals["delta"].clip(lower_bound=0).sum())),
        ]
    )
    headers = [
        "clause (case payments)",
        "id",
        *(show.level(n) for n in levels),
        "total",
        "moved between hospitals",
    ]
    return table(headers, rows, [False, False, *[True] * (len(levels) + 2)])


def _report_table(
    attribution: Attribution, labels: dict[str, str], levels: list[int]
) -> Table | None:
    """Per money report that moves: each part that moves it, the interaction and the total."""
    impact = attribution.impact
    moved = [r for r in attribution.reports if r in impact.moved_reports()]
    if not moved:
        return None
    interaction = attribution.interaction_report_levels
    rows = []
    for report in moved:
        for part in attribution.parts:
            if any(part.report_levels.get(report, {}).values()):
                rows.append(
                    _report_row(report, labels[part.key], part.report_levels[report], levels)
                )
        rows.append(_report_row(report, INTERACTION_LABEL, interaction.get(report, {}), levels))
        total = impact.level_reports.filter(pl.col("report") == report)
        totals = {int(n): int(d) for n, d in total.select("level", "delta").rows()}
        rows.append(_report_row(report, "total change", totals, levels))
    headers = ["money report", "clause", *(show.level(n) for n in levels), "total"]
    return table(headers, rows, [False, False, *[True] * (len(levels) + 1)])


def _report_row(report: str, label: str, by_level: dict[int, int], levels: list[int]) -> list[str]:
    return [
        f"`{report}`",
        label,
        *(show.yuan(by_level.get(n, 0), True) for n in levels),
        show.yuan(sum(by_level.values()), True),
    ]


def _report_bullet(part: Part) -> str:
    moved = [(r, d) for r, d in part.reports.items() if d or any(part.report_levels[r].values())]
    shown = ", ".join(f"`{r}` {show.yuan(d, True)}" for r, d in moved)
    if part.moved or part.delta:
        return f"{part.label}, money reports: {shown}"
    return f"{part.label}: no effect on case payments; {shown}"


def _levels(attribution: Attribution) -> list[int]:
    return sorted({int(x) for x in attribution.hospitals["level"].unique().to_list()})


__all__ = ["attribution_section"]
