"""The what-if report as sections of text, tables and charts — what `summary.md` and
`report.html` both show, each in its own markup (the charts only in HTML)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from engine.whatif import show, svg
from engine.whatif.attribution import INTERACTION, Attribution
from engine.whatif.impact import Impact, totals_rows
from engine.whatif.layout import Section, table
from engine.whatif.sections_fragility import exposure_section, sweep_section
from policy_dsl.check.structure import price_name, settled_name

if TYPE_CHECKING:
    from engine.whatif.report import Report

TOP = 10


def title(report: Report) -> str:
    base, new = report.impact.base.policy, report.impact.new.policy
    return f"What-if: {base.city} {base.version} → {new.city} {new.version}"


def sections(report: Report) -> list[Section]:
    impact = report.impact
    found = [
        _overview(report),
        _levels(impact),
        _attribution(report.attribution),
        _transitions(impact),
        _categories(impact),
        _hospitals(impact),
        _groups(impact),
    ]
    if not impact.reports.is_empty():
        found.append(_reports(impact))
    if report.exposure is not None:
        found.append(exposure_section(report.exposure))
    if report.sweep is not None:
        found.append(sweep_section(report.sweep))
    return found


# ---- impact --------------------------------------------------------------------------------


def _overview(report: Report) -> Section:
    impact = report.impact
    base, new = impact.base, impact.new
    lead = [
        f"The {new.totals.cases:,} cases of `{report.data}` for {report.period}, settled under "
        f"{base.policy.city} {base.policy.version} (policy {base.policy.hash[:12]}) and "
        f"{new.policy.version} (policy {new.policy.hash[:12]}); stage `{new.stage}`. "
        "Money is exact to the fen (分)."
    ]
    if base.totals.budget is not None and base.totals.budget == new.totals.budget:
        lead.append(
            "Both versions close to the same budget: the total does not move, the money moves "
            f"between hospitals ({show.yuan(_moved(impact))} in all)."
        )
    method = impact.new.policy.method
    names = {"cases": "cases", "settled": _words(settled_name(method))}
    names |= {"price": _words(price_name(method))}
    names |= {"payment": "payment", "budget": "budget"}
    rows = []
    for row in totals_rows(base.totals, new.totals):
        money = row["measure"] in ("payment", "budget")
        fmt = (lambda v, s=False: show.yuan(v, s)) if money else _plain
        rows.append(
            [
                names[row["measure"]],
                fmt(row["base"]),
                fmt(row["new"]),
                fmt(row["delta"], True) if money else _signed(row["delta"]),
                show.pct(row["pct"]),
            ]
        )
    headers = ["measure", base.policy.version, new.policy.version, "change", "%"]
    return Section(
        "totals", "Totals", lead, [], [table(headers, rows, [False, True, True, True, True])]
    )


def _levels(impact: Impact) -> Section:
    frame = impact.levels
    rows = [
        [
            show.level(r["level"]),
            r["hospitals"],
            f"{r['cases']:,}",
            *_payments(r),
        ]
        for r in frame.iter_rows(named=True)
    ]
    chart = svg.diverging_bars(
        [(show.level(r["level"]), r["delta"]) for r in frame.iter_rows(named=True)],
        "Change in payment by hospital level",
        lambda v: show.yuan(int(v), True),
    )
    headers = [
        "level",
        "hospitals",
        "cases",
        *_payment_headers(impact),
    ]
    return Section(
        "levels",
        "By hospital level",
        [],
        [],
        [table(headers, rows, [False, *[True] * 6])],
        [chart],
    )


def _transitions(impact: Impact) -> Section:
    moved = impact.moved()
    bullets = [
        f"{show.level(r['level'])}: {r['cases']:,} cases {r['from']} → {r['to']} "
        f"({show.yuan(r['delta'], True)})"
        for r in moved.iter_rows(named=True)
    ]
    rows = [
        [
            show.level(r["level"]),
            r["from"],
            r["to"],
            f"{r['cases']:,}",
            *_payments(r, pct=False),
        ]
        for r in moved.iter_rows(named=True)
    ]
    matrix = impact.matrix()
    columns = [c for c in matrix.columns if c != "from"]
    chart = svg.heatmap(
        matrix["from"].to_list(),
        columns,
        [list(r[1:]) for r in matrix.rows()],
        "Cases by category: base version (rows) × new version (columns)",
    )
    headers = [
        "level",
        "from",
        "to",
        "cases",
        *_payment_headers(impact, pct=False),
    ]
    lead = [
        f"{int(moved['cases'].sum()):,} cases change category."
        if moved.height
        else "No case changes category."
    ]
    return Section(
        "transitions",
        "Cases that change category",
        lead,
        bullets,
        [table(headers, rows, [False, False, False, True, True, True, True])],
        [chart],
    )


def _categories(impact: Impact) -> Section:
    old, new = impact.base.policy.version, impact.new.policy.version
    rows = [
        [
            r["category"],
            f"{r['cases_base']:,}",
            f"{r['cases_new']:,}",
            *_payments(r),
        ]
        for r in impact.categories.iter_rows(named=True)
    ]
    headers = ["category", f"cases {old}", f"cases {new}", *_payment_headers(impact)]
    lead = ["Each version's own category of each case: money follows cases into their new class."]
    return Section(
        "categories", "By category", lead, [], [table(headers, rows, [False, *[True] * 6])]
    )


def _hospitals(impact: Impact) -> Section:
    frame = impact.hospitals
    chart = svg.diverging_bars(
        [
            (f"{r['hospital_id']} ({show.LEVELS.get(r['level'], r['level'])})", r["delta"])
            for r in frame.iter_rows(named=True)
        ],
        "Change in payment by hospital (winners first)",
        lambda v: show.yuan(int(v), True),
    )
    rows = [
        [
            r["hospital_id"],
            show.level(r["level"]),
            f"{r['cases']:,}",
            *_payments(r),
        ]
        for r in pl.concat([impact.winners(TOP), impact.losers(TOP)]).iter_rows(named=True)
    ]
    headers = [
        "hospital",
        "level",
        "cases",
        *_payment_headers(impact),
    ]
    lead = [
        f"Winners (largest gain first), then losers (largest loss first), {TOP} of each at most."
    ]
    return Section(
        "hospitals",
        "Winners and losers",
        lead,
        [],
        [table(headers, rows, [False, False, *[True] * 5])],
        [chart],
    )


def _groups(impact: Impact) -> Section:
    frame = impact.groups.sort(pl.col("delta").abs(), "drg_code", descending=[True, False]).head(
        TOP
    )
    rows = [
        [
            r["drg_code"],
            f"{r['cases']:,}",
            *_payments(r),
        ]
        for r in frame.iter_rows(named=True)
    ]
    headers = [
        "group",
        "cases",
        *_payment_headers(impact),
    ]
    lead = [f"The {TOP} groups (病组) whose payment changes most; every group is in whatif.json."]
    return Section("groups", "By group", lead, [], [table(headers, rows, [False, *[True] * 5])])


def _reports(impact: Impact) -> Section:
    rows = [
        [r["report"], show.yuan(r["base"]), show.yuan(r["new"]), show.yuan(r["delta"], True)]
        for r in impact.reports.iter_rows(named=True)
    ]
    headers = ["report", impact.base.policy.version, impact.new.policy.version, "change"]
    lead = [
        "Money the policies report per hospital (e.g. year-end corrections), summed over hospitals."
    ]
    return Section(
        "reports", "Reported amounts", lead, [], [table(headers, rows, [False, True, True, True])]
    )


# ---- attribution ---------------------------------------------------------------------------


def _attribution(attribution: Attribution) -> Section:
    levels = sorted({int(x) for x in attribution.hospitals["level"].unique().to_list()})
    by_level = {
        **{p.key: p.levels for p in attribution.parts},
        INTERACTION: attribution.interaction_levels,
    }
    labels = {p.key: p.label for p in attribution.parts} | {INTERACTION: "interaction (交互项)"}
    keys = [p.key for p in attribution.parts if p.moved or p.delta] + [INTERACTION]
    rows = [
        [
            labels[k],
            k if k != INTERACTION else "",
            *(show.yuan(by_level[k].get(n, 0), True) for n in levels),
            show.yuan(sum(by_level[k].values()), True),
            show.yuan(_part(attribution, k).moved) if k != INTERACTION else "",
        ]
        for k in keys
    ]
    totals = attribution.impact.levels
    rows.append(
        [
            "total change",
            "",
            *(
                show.yuan(int(totals.filter(pl.col("level") == n)["delta"].sum()), True)
                for n in levels
            ),
            show.yuan(attribution.impact.delta, True),
            show.yuan(_moved(attribution.impact)),
        ]
    )
    headers = ["clause", "id", *(show.level(n) for n in levels), "total", "moved between hospitals"]
    bullets = [
        f"{labels[k]}: "
        + "; ".join(f"{show.level(n)} {show.yuan(by_level[k].get(n, 0), True)}" for n in levels)
        for k in keys
    ]
    quiet = [p for p in attribution.parts if not (p.moved or p.delta)]
    notes = [
        *(
            f"`{p.key}` brings along {', '.join(f'`{b}`' for b in p.brought)}."
            for p in attribution.parts
            if p.brought
        ),
        *(f"Grouped: {p.note}." for p in attribution.parts if p.note),
    ]
    if quiet:
        notes.append("No effect on payments: " + ", ".join(f"`{p.key}`" for p in quiet) + ".")
    lead = [
        "Each changed clause applied alone to the base version and settled; the interaction is "
        "what the clauses do only together. Per level, per hospital (whatif.json) and in total the "
        "parts and the interaction add up to the change exactly, to the fen.",
        *notes,
    ]
    chart = svg.grouped_bars(
        [labels[k] for k in keys],
        [(show.level(n), [by_level[k].get(n, 0) for k in keys]) for n in levels],
        "Change in payment per clause and hospital level",
        lambda v: show.yuan(int(v), True),
    )
    numeric = [False, False, *[True] * (len(levels) + 2)]
    return Section(
        "attribution",
        "Attribution per clause",
        lead,
        bullets,
        [table(headers, rows, numeric)],
        [chart],
    )


def _part(attribution: Attribution, key: str) -> Any:
    return next(p for p in attribution.parts if p.key == key)


# ---- small helpers -------------------------------------------------------------------------


def _moved(impact: Impact) -> int:
    return int(impact.hospitals["delta"].clip(lower_bound=0).sum())


def _payments(row: dict[str, Any], pct: bool = True) -> list[str]:
    """A row's payment under each version and the change (fen; and in percent)."""
    cells = [show.yuan(row["payment_base"]), show.yuan(row["payment_new"])]
    cells.append(show.yuan(row["delta"], True))
    return [*cells, show.pct(row["pct"])] if pct else cells


def _payment_headers(impact: Impact, pct: bool = True) -> list[str]:
    versions = [impact.base.policy.version, impact.new.policy.version, "change"]
    return [*versions, "%"] if pct else versions


def _words(name: str) -> str:
    """`settled_points` → `settled points`."""
    return name.replace("_", " ")


def _plain(value: Any, signed: bool = False) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    return show.number(value)


def _signed(value: Any) -> str:
    if value is None:
        return "—"
    text = _plain(abs(value))
    return (show.MINUS if value < 0 else "+" if value > 0 else "") + text


__all__ = ["sections", "title"]
