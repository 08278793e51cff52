"""`report.html` of a settlement (结算报告): the period's totals, per hospital level and tier, per
hospital, the category mix, the point value or rates, and the policy's reports — one
self-contained page with inline SVG charts (`engine.page`), in Chinese with the names beside.

Built from the tables the run writes (before the names are translated and money is made
decimal text), so every figure on the page is one of the files' figures: money from fen, exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import polars as pl

from engine.page import show, svg
from engine.page.html import page
from engine.page.layout import Section, table
from engine.plan import money
from engine.run.decimals import decimals, value_types
from engine.run.output_labels import class_labels, policy_labels
from policy_dsl.check.structure import price_name, settled_name

if TYPE_CHECKING:
    from engine.run.settle import Settlement
    from engine.run.table_files import Tables

#: Hospitals shown in the chart of payments per hospital (all are in the table).
CHART_HOSPITALS = 30

HOW_TO_READ = (
    "金额单位为元，精确到分（与输出文件一致）。<b>总览</b>为本期各结算阶段的合计；"
    "<b>按级别、分档</b>与<b>按医疗机构</b>为最后一个结算阶段各病例支付额（支付金额）的合计；"
    "政策以 <code>report</code> 声明向医疗机构结算的金额的（如年终清算），见<b>医疗机构结算单</b>；"
    "<b>病例类型</b>为各类病例的例数与支付；<b>点值/费率</b>为本期的价格；"
    "<b>报告值</b>为政策文件中 <code>report</code> 声明的汇总值。"
)


def render(settlement: Settlement, tables: Tables) -> str:
    """The page of one run, from its tables (by name: `<stage>/cases`, `<stage>/hospitals`,
    `<stage>/summary`)."""
    policy = settlement.policy
    stage = settlement.settling_stages()[-1]
    labels = policy_labels(policy)
    frames = {name: frame for name, (frame, _) in tables.items()}
    hospitals = _per_hospital(frames[f"{stage}/hospitals"])
    statement = _statement(frames[f"{stage}/hospitals"], settlement, stage)
    found = [
        _totals(settlement, frames),
        _levels(hospitals),
        *filter(None, [_tiers(hospitals)]),
        _hospitals(hospitals, settlement, statement is not None),
        *filter(None, [statement]),
        _categories(frames[f"{stage}/cases"], class_labels(policy).get("category", {})),
        _prices(settlement, frames, stage),
        *filter(None, [_reports(frames[f"{stage}/summary"], settlement, labels)]),
    ]
    title = f"结算报告 Settlement report: {policy.city} {policy.version}, {settlement.period.label}"
    return page(title, HOW_TO_READ, found, lang="zh-CN", style=STATEMENT_STYLE * bool(statement))


# ---- totals -------------------------------------------------------------------------------


def _totals(settlement: Settlement, frames: Mapping[str, pl.DataFrame]) -> Section:
    method = settlement.policy.method
    settled, price = settled_name(method), price_name(method)
    rows = []
    for stage in settlement.settling_stages():
        summary = frames[f"{stage}/summary"]
        sums = summary.select(
            pl.col("cases", "total_cost", settled, "payment", "patient_paid", "fund_payment").sum()
        ).row(0, named=True)
        budget = float(summary["budget"].sum()) if "budget" in summary.columns else None
        rows.append(
            [
                f"`{stage}` {settlement.policy.stage(stage).label}",
                show.count(sums["cases"]),
                show.yuan(sums["total_cost"]),
                show.number(sums[settled], decimals("points")),
                _price_text(summary, price),
                show.yuan(None if budget is None else _fen(budget)),
                show.yuan(sums["payment"]),
                show.yuan(sums["patient_paid"]),
                show.yuan(sums["fund_payment"]),
            ]
        )
    counts = settlement.rows
    policy = settlement.policy
    lead = [
        f"政策 {policy.city} {policy.version}（{policy.title or ''}，policy "
        f"{policy.hash[:12]}），结算期 {settlement.period.label}，"
        f"方法 `{method}`（{'点数法' if method == 'points' else '费率法'}）。",
        f"病例行：读入 {counts['read']:,} = 结算 {counts['settled']:,} + 拒收 "
        f"{counts['rejected']:,} + 不在本期 {counts['outside_period']:,}（见 rejects）。",
    ]
    headers = [
        "结算阶段 stage",
        "病例数",
        "住院总费用",
        "结算点数" if method == "points" else "结算权重",
        "点值" if method == "points" else "费率",
        "预算",
        "支付金额 payment",
        "个人负担",
        "基金支付",
    ]
    return Section(
        "totals", "总览 Totals", lead, tables=[table(headers, rows, [False, *[True] * 8])]
    )


def _price_text(summary: pl.DataFrame, price: str) -> str:
    if price not in summary.columns:
        return "按分档（见点值/费率）"
    values = summary[price].drop_nulls().unique().sort().to_list()
    if not values:
        return "—"
    if len(values) == 1:
        return show.number(values[0], decimals(price))
    return f"{show.number(values[0], decimals(price))}–{show.number(values[-1], decimals(price))}"


# ---- per level, tier and hospital ----------------------------------------------------------

#: The money of a statement, in fen, summed over its months.
PAID = ("total_cost", "payment", "patient_paid", "fund_payment")


def _per_hospital(statement: pl.DataFrame) -> pl.DataFrame:
    """One row per hospital (a monthly statement's months added up)."""
    return (
        statement.group_by("hospital_id")
        .agg(
            pl.col("hospital_name", "level", "tier").first(),
            pl.col("cases", *PAID).sum(),
        )
        .sort("hospital_id")
    )


def _groups(hospitals: pl.DataFrame, key: str) -> pl.DataFrame:
    grouped = (
        hospitals.group_by(key)
        .agg(pl.len().alias("hospitals"), pl.col("cases", *PAID).sum())
        .sort(key)
    )
    total = max(int(grouped["payment"].sum()), 1)
    return grouped.with_columns((pl.col("payment") / total).alias("share"))


def _group_rows(grouped: pl.DataFrame, name: Any) -> list[list[str]]:
    return [
        [
            name(r),
            show.count(r["hospitals"]),
            show.count(r["cases"]),
            show.yuan(r["payment"]),
            show.yuan(r["fund_payment"]),
            show.yuan(r["payment"] // max(r["cases"], 1)),
            f"{r['share']:.1%}",
        ]
        for r in grouped.iter_rows(named=True)
    ]


GROUP_HEADERS = ["医疗机构数", "病例数", "支付金额", "基金支付", "例均支付", "占比"]


def _levels(hospitals: pl.DataFrame) -> Section:
    return _grouped(hospitals, "level", lambda r: show.level(r["level"]), "医院级别 level")


def _tiers(hospitals: pl.DataFrame) -> Section | None:
    if hospitals["tier"].fill_null("").eq("").all():
        return None
    tiers = hospitals.with_columns(pl.col("tier").fill_null(""))
    return _grouped(tiers, "tier", lambda r: r["tier"] or "（未分档）", "分档 tier")


#: The section of each grouping of the hospitals: its key, title and chart's title.
GROUPINGS = {
    "level": ("levels", "按级别 By level", "按医院级别的支付金额 Payment by hospital level"),
    "tier": ("tiers", "按分档 By tier", "按分档的支付金额 Payment by tier"),
}


def _grouped(hospitals: pl.DataFrame, key: str, name: Any, header: str) -> Section:
    """The hospitals grouped by `key`: a table and a chart of the payment."""
    grouped = _groups(hospitals, key)
    rows = _group_rows(grouped, name)
    section, title, chart_title = GROUPINGS[key]
    chart = svg.bars(
        [(name(r), r["payment"]) for r in grouped.iter_rows(named=True)],
        chart_title,
        lambda v: show.yuan(int(v)),
    )
    return Section(
        section,
        title,
        tables=[table([header, *GROUP_HEADERS], rows, [False, *[True] * 6])],
        charts=[chart],
    )


def _hospitals(hospitals: pl.DataFrame, settlement: Settlement, statement: bool) -> Section:
    """Per hospital, the cases' payments added up; where the policy pays a hospital by its
    statement (`_statement`), the column says it is that sum, not the amount paid."""
    ranked = hospitals.sort("payment", "hospital_id", descending=[True, False])
    rows = [
        [
            r["hospital_id"],
            r["hospital_name"] or "",
            show.level(r["level"]),
            r["tier"] or "",
            show.count(r["cases"]),
            show.yuan(r["total_cost"]),
            show.yuan(r["payment"]),
            show.yuan(r["fund_payment"]),
            show.yuan(r["payment"] // max(r["cases"], 1)),
        ]
        for r in ranked.iter_rows(named=True)
    ]
    chart = svg.bars(
        [
            (_hospital_label(r), r["payment"])
            for r in ranked.head(CHART_HOSPITALS).iter_rows(named=True)
        ],
        "按医疗机构的支付金额 Payment by hospital",
        lambda v: show.yuan(int(v)),
    )
    more = ranked.height - CHART_HOSPITALS
    lead = [f"图中为支付金额最高的 {CHART_HOSPITALS} 家；表中为全部 {ranked.height} 家。"] * (
        more > 0
    )
    paid = "支付金额"
    if statement:
        paid = "病例支付合计 payment"
        lead.append(
            "病例支付合计为各病例支付额（payment）之和，不是向医疗机构结算的金额：本政策按"
            "医疗机构结算单支付，各院的结算金额见下节「医疗机构结算单」。"
        )
    headers = ["编码", "名称", "级别", "分档", "病例数", "住院总费用", paid, "基金支付"]
    return Section(
        "hospitals",
        "按医疗机构 By hospital",
        lead,
        tables=[table([*headers, "例均支付"], rows, [False] * 4 + [True] * 5)],
        charts=[chart],
    )


#: The statement has a column per money report (Wuxi's year end: 12): the columns are named
#: by the reports' names (their labels listed above the table), the hospitals' names kept on
#: one line, and a table wider than the page scrolls.
STATEMENT_STYLE = (
    "#statement { overflow-x: auto; } #statement td:nth-child(2) { white-space: nowrap; }"
)


def _statement(statement: pl.DataFrame, settlement: Settlement, stage: str) -> Section | None:
    """The amounts the policy pays each hospital by: the stage's money reports at the hospital
    grain (`report … : money at hospital`), in the policy's order with its labels, then the
    period's deductions (`input deduction`, which those amounts take off), in fen by the
    files' rounding rule, a monthly statement's months added up. The cases' `payment` is not
    always what the fund pays: at Wuxi's year end it is the DRG payable, and the final amount
    (年度清算总额 `year_total`) and the clearing due (年末清算应补 `year_end_due`) are reports.
    None where the stage has none."""
    reports = [
        (d.name, d.label)
        for d in settlement.stages[stage].stage.definitions
        if d.report and d.grain == ["hospital"] and d.type.is_money and d.name in statement
    ]
    if not reports:
        return None
    deductions = [
        (i.name, i.label)
        for i in settlement.policy.inputs
        if i.table == "deduction" and i.name in statement
    ]
    columns = reports + deductions
    fen = (
        statement.group_by("hospital_id")
        .agg(
            pl.col("hospital_name").first(),
            *(
                pl.when(pl.col(name).is_null().all())
                .then(None)
                .otherwise(money.to_fen(pl.col(name)).sum())
                .alias(name)
                for name, _ in columns
            ),
        )
        .sort("hospital_id")
    )
    rows = [
        [r["hospital_id"], r["hospital_name"] or "", *(show.yuan(r[name]) for name, _ in columns)]
        for r in fen.iter_rows(named=True)
    ]
    headers = ["编码", "名称", *(f"`{name}`" for name, _ in columns)]
    return Section(
        "statement",
        "医疗机构结算单 Hospital statement",
        [
            "政策文件以 `report` 声明、按医疗机构汇总的金额，及本期的扣款（`deductions.csv`，"
            "列在最后）：向各医疗机构结算以此为准。各列："
        ],
        bullets=[f"`{name}` {label}" for name, label in columns],
        tables=[table(headers, rows, [False, False, *[True] * len(columns)])],
    )


def _hospital_label(row: dict[str, Any]) -> str:
    name = row["hospital_name"] or ""
    return f"{row['hospital_id']} {name[:12]}".strip()


# ---- categories and prices -----------------------------------------------------------------


def _categories(cases: pl.DataFrame, labels: Mapping[str, str]) -> Section:
    grouped = (  # by the class itself, named after: not 10M texts made to be grouped
        cases.lazy()
        .group_by("category")
        .agg(pl.len().alias("cases"), pl.col("payment").sum())
        .with_columns(pl.col("category").cast(pl.String))
        .sort("cases", "category", descending=[True, False])
        .collect()
    )
    total = max(cases.height, 1)
    rows = [
        [
            f"{labels.get(r['category'], '')} `{r['category']}`",
            show.count(r["cases"]),
            f"{r['cases'] / total:.1%}",
            show.yuan(r["payment"]),
            show.yuan((r["payment"] or 0) // max(r["cases"], 1)),
        ]
        for r in grouped.iter_rows(named=True)
    ]
    chart = svg.bars(
        [
            (f"{labels.get(r['category'], r['category'])}", r["cases"])
            for r in grouped.iter_rows(named=True)
        ],
        "各类病例例数 Cases per category",
        lambda v: f"{int(v):,}",
    )
    headers = ["病例类型 category", "病例数", "占比", "支付金额", "例均支付"]
    return Section(
        "categories",
        "病例类型 Category mix",
        tables=[table(headers, rows, [False, True, True, True, True])],
        charts=[chart],
    )


def _prices(settlement: Settlement, frames: Mapping[str, pl.DataFrame], stage: str) -> Section:
    """The point value or rate: of the period, per month, or per tier where it varies."""
    price = price_name(settlement.policy.method)
    word = "点值" if price == "point_value" else "费率"
    summary = frames[f"{stage}/summary"]
    digits = decimals(price)
    if price in summary.columns and "month" in summary.columns:
        rows = [
            [r["month"], show.number(r[price], digits), show.yuan(r["payment"])]
            for r in summary.sort("month").iter_rows(named=True)
        ]
        headers = ["结算月份", word, "支付金额"]
    elif price in summary.columns:
        rows = [[summary["period"][0], show.number(summary[price][0], digits), ""]]
        headers = ["结算期", word, ""]
    else:
        tiers = _prices_by_tier(frames[f"{stage}/cases"], frames[f"{stage}/hospitals"], price)
        rows = [[tier, show.number(value, digits), show.count(n)] for tier, value, n in tiers]
        headers = ["分档", word, "病例数"]
    lead = [f"`{price}`：{word}（{_unit(price)}），写出时保留 {digits} 位小数。"]
    return Section(
        "prices",
        f"{word} {price}",
        lead,
        tables=[table(headers, rows, [False, True, True])],
    )


def _unit(price: str) -> str:
    return "元/点" if price == "point_value" else "元/权重"


def _prices_by_tier(
    cases: pl.DataFrame, statement: pl.DataFrame, price: str
) -> list[tuple[str, float, int]]:
    tiers = statement.select("hospital_id", pl.col("tier").fill_null("")).unique("hospital_id")
    grouped = (
        cases.join(tiers, on="hospital_id", how="left")
        .group_by("tier", price)
        .agg(pl.len().alias("cases"))
        .drop_nulls(price)
        .sort("tier", price)
    )
    return [(r["tier"] or "—", r[price], r["cases"]) for r in grouped.iter_rows(named=True)]


# ---- reports -------------------------------------------------------------------------------

#: Summary columns that are not reports of the policy.
_NOT_REPORTS = frozenset(
    {"cases", "total_cost", "payment", "patient_paid", "fund_payment", "period", "month", "budget"}
)


def _reports(
    summary: pl.DataFrame, settlement: Settlement, labels: Mapping[str, str]
) -> Section | None:
    method = settlement.policy.method
    skip = _NOT_REPORTS | {settled_name(method), price_name(method)}
    names = [c for c in summary.columns if c not in skip and not c.startswith("cases_")]
    if not names:
        return None
    types = value_types(settlement.policy)
    sums = summary.select(names).row(0, named=True) if summary.height == 1 else None
    rows = [
        [f"{labels.get(n, '')} `{n}`", _value(sums[n], types.get(n)) if sums else "按月见汇总"]
        for n in names
    ]
    return Section(
        "reports",
        "报告值 Reports",
        ["政策文件以 `report` 声明、在本期汇总中写出的值。"],
        tables=[table(["报告 report", "值 value"], rows, [False, True])],
    )


def _fen(yuan: float) -> int:
    """An amount in yuan (a money report, a budget) as whole fen, by the rounding rule."""
    return int(money.round_half_away(yuan * 100) or 0)


def _value(value: Any, type_name: str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是 true" if value else "否 false"
    if type_name == "money":
        return show.yuan(_fen(value))
    if isinstance(value, float):
        return show.number(value, decimals(type_name))
    return str(value)


__all__ = ["render"]
