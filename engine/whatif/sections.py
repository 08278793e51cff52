"""The what-if report as sections of text, tables and charts — what `summary.md` and
`report.html` both show, each in its own markup (the charts only in HTML)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from engine.page import show, svg
from engine.page.layout import Section, Table, table
from engine.whatif.impact import Impact, price_rows, totals_rows
from engine.whatif.indicators import indicator_section
from engine.whatif.sections_attribution import attribution_section
from engine.whatif.sections_fragility import exposure_section, sweep_section
from engine.whatif.supervision import supervision_section
from engine.whatif.wording import effect
from policy_dsl.check.structure import price_name, settled_name

if TYPE_CHECKING:
    from engine.whatif.report import Report

TOP = 10


def title(report: Report) -> str:
    base, new = report.impact.base.policy, report.impact.new.policy
    across = " across two cities (--cross-city)" if report.cross_city else ""
    old_side = report.side(0, f"{base.city} {base.version}")
    return f"What-if{across}: {old_side} → {report.side(1, f'{new.city} {new.version}')}"


def sections(report: Report) -> list[Section]:
    impact = report.impact
    found = [
        _overview(report),
        _levels(impact),
        attribution_section(report.attribution),
        _transitions(impact),
        _categories(impact),
        _hospitals(impact),
        *filter(None, [supervision_section(impact)]),
        _groups(impact),
    ]
    if not impact.reports.is_empty():
        found.append(_reports(impact))
    if impact.new.policy.indicators or impact.base.policy.indicators:
        found.append(indicator_section(impact))
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
    lead.append(f"In short: {effect(impact)}.")
    if not report.attribution.parts:
        lead.append("No clause changed: the two versions say the same.")
    if base.totals.budget is not None and base.totals.budget == new.totals.budget:
        lead.append(
            "Both versions close the case payments to the same budget, so their total does not "
            "move."
        )
    method = impact.new.policy.method
    names = {"cases": "cases", "settled": _words(settled_name(method))}
    names |= {"price": _words(price_name(method))}
    names |= {"payment": "payment", "budget": "budget"}
    rows = []
    for row in totals_rows(base.totals, new.totals):
        if row["measure"] == "price" and (base.totals.prices or new.totals.prices):
            rows += _price_rows(impact, names["price"])
            continue
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


def _price_rows(impact: Impact, name: str) -> list[list[str]]:
    """A price that varies (by tier, month…): its range under each version, then each one."""
    base, new = impact.base.totals, impact.new.totals
    found = price_rows(base, new)
    by = found[0]["by"].split(" ")[0] if found else ""
    rows = [[f"{name} (varies by {by})", _span(base), _span(new), "", ""]]
    for row in found:
        rows.append(
            [
                f"{name}, {row['by']}",
                show.number(row["base"]),
                show.number(row["new"]),
                _signed(row["delta"]),
                show.pct(row["pct"]),
            ]
        )
    return rows


def _span(totals: Any) -> str:
    if totals.price is not None:
        return show.number(totals.price)
    values = list(totals.prices.values())
    if not values:
        return "—"
    return f"{show.number(min(values))}–{show.number(max(values))}"


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
    tables = [table(headers, rows, [False, *[True] * 6])]
    charts = [chart] if impact.payments_move else []
    lead = []
    moved = impact.moved_reports()
    if moved:
        levels = frame["level"].to_list()
        tables.append(_level_reports(impact, moved, levels))
        charts.append(
            svg.grouped_bars(
                moved,
                [(show.level(n), [_level_report(impact, r, n) for r in moved]) for n in levels],
                "Change in each money report by hospital level",
                lambda v: show.yuan(int(v), True),
            )
        )
        lead.append(
            "The case payments, then each money report of the hospital statement that changes: "
            "what a hospital is finally paid (e.g. after year-end corrections)."
        )
    if not impact.reports.is_empty():
        lead += _unmoved(impact, moved)
    return Section("levels", "By hospital level", lead, [], tables, charts)


def _level_reports(impact: Impact, moved: list[str], levels: list[int]) -> Table:
    rows = [
        [
            f"`{r}` {impact.report_label(r)}",
            *(show.yuan(_level_report(impact, r, n), True) for n in levels),
            show.yuan(_report_total(impact, r), True),
        ]
        for r in moved
    ]
    headers = ["money report (change)", *(show.level(n) for n in levels), "total"]
    return table(headers, rows, [False, *[True] * (len(levels) + 1)])


def _level_report(impact: Impact, report: str, level: int) -> int:
    frame = impact.level_reports.filter((pl.col("report") == report) & (pl.col("level") == level))
    return int(frame["delta"].sum())


def _report_total(impact: Impact, report: str) -> int:
    return int(impact.reports.filter(pl.col("report") == report)["delta"].sum())


def _unmoved(impact: Impact, moved: list[str]) -> list[str]:
    same = [r for r in impact.reports["report"].to_list() if r not in moved]
    if not same:
        return []
    return ["Unchanged for every hospital: " + ", ".join(f"`{r}`" for r in same) + "."]


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
    tables = [table(headers, rows, [False] * 3 + [True] * 4)] if moved.height else []
    tables.append(_matrix(impact))
    lead.append(
        "The matrix of all cases: each case's category under the base version (rows) and the "
        "new one (columns); off the diagonal, the cases that move."
    )
    return Section("transitions", "Cases that change category", lead, bullets, tables, [chart])


def _matrix(impact: Impact) -> Table:
    """Every case by its category under the base version (rows) and the new one (columns)."""
    matrix = impact.matrix()
    columns = [c for c in matrix.columns if c != "from"]
    old, new = impact.base.policy.version, impact.new.policy.version
    rows = [
        [f"{r['from']}", *(f"{r[c]:,}" for c in columns), f"{sum(r[c] for c in columns):,}"]
        for r in matrix.iter_rows(named=True)
    ]
    totals = [f"{int(matrix[c].sum()):,}" for c in columns]
    rows.append(
        [f"all ({new})", *totals, f"{int(matrix.select(columns).sum_horizontal().sum()):,}"]
    )
    headers = [f"{old} ↓ / {new} →", *columns, f"all ({old})"]
    return table(headers, rows, [False, *[True] * (len(columns) + 1)])


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
    measures = (["payment"] if impact.payments_move else []) + impact.moved_reports()
    tables = [_ranking(impact, m) for m in measures]
    charts = []
    if impact.payments_move:
        charts.append(
            svg.diverging_bars(
                [
                    (f"{r['hospital_id']} ({show.LEVELS.get(r['level'], r['level'])})", r["delta"])
                    for r in impact.hospitals.iter_rows(named=True)
                ],
                "Change in payment by hospital (winners first)",
                lambda v: show.yuan(int(v), True),
            )
        )
    lead = [
        f"Winners (largest gain first), then losers (largest loss first), {TOP} of each at most"
        + (
            ": by case payments, then by each money report that changes."
            if len(measures) > 1
            else "."
        )
    ]
    if not impact.payments_move:
        lead.append("No hospital's case payments change.")
    if not measures:
        lead.append("No hospital gains or loses.")
    return Section("hospitals", "Winners and losers", lead, [], tables, charts)


def _ranking(impact: Impact, measure: str) -> Table:
    """The winners, then the losers, by the payment or by one money report."""
    ranked = pl.concat([impact.winners_by(measure, TOP), impact.losers_by(measure, TOP)])
    cases = dict(impact.hospitals.select("hospital_id", "cases").rows())
    rows = [
        [
            r["hospital_id"],
            show.level(r["level"]),
            f"{cases.get(r['hospital_id'], 0):,}",
            show.yuan(r["base"]),
            show.yuan(r["new"]),
            show.yuan(r["delta"], True),
            show.pct(r["pct"]),
        ]
        for r in ranked.iter_rows(named=True)
    ]
    what = (
        "case payments" if measure == "payment" else f"`{measure}` {impact.report_label(measure)}"
    )
    headers = [f"hospital — by {what}", "level", "cases", *_payment_headers(impact)]
    return table(headers, rows, [False, False, *[True] * 5])


def _groups(impact: Impact) -> Section:
    changed = impact.groups.filter(pl.col("delta") != 0)
    frame = changed.sort(pl.col("delta").abs(), "drg_code", descending=[True, False]).head(TOP)
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
    if not changed.height:
        lead = ["No group's payment changes."]
        return Section("groups", "By group", lead)
    lead = [
        f"The {min(TOP, changed.height)} groups (病组) whose payment changes most, of "
        f"{changed.height:,} that change; every group is in whatif.json."
    ]
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


# ---- small helpers -------------------------------------------------------------------------


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
