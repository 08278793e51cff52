"""Run summaries for people: one row per policy and settling stage (the period's totals), and
one row per hospital level — what `make demo` prints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from engine.inputs.contract import Inputs
from engine.inputs.fields import key_field
from engine.inputs.terms import shown
from engine.plan import money
from engine.run.indicators import HEADLINE
from engine.run.outputs import stage_statements
from engine.run.settle import Settlement


def stage_rows(result: Settlement) -> list[dict[str, Any]]:
    """Per settling stage: cases, points or weight, point value or rate, payment, budget and
    cases per category over the whole period (a monthly stage's months added up)."""
    method = result.policy.method
    settled = "settled_points" if method == "points" else "settled_weight"
    rows = []
    for stage in result.settling_stages():
        summary = stage_statements(result, stage)["summary"]
        categories = [c for c in summary.columns if c.startswith("cases_")]
        totals = summary.select(
            pl.col("cases", settled, "payment", "fund_payment", *categories).sum()
        ).row(0, named=True)
        rows.append(
            {
                "city": result.policy.city,
                "version": result.policy.version,
                "stage": stage,
                "period": result.period.label
                if summary.height == 1
                else f"{result.period.label} ({summary.height} months)",
                "cases": totals["cases"],
                "points_or_weight": totals[settled],
                "price": price_text(summary, method),
                "payment": totals["payment"] / 100,
                "fund_payment": totals["fund_payment"] / 100,
                "budget": summary["budget"].sum() if "budget" in summary.columns else None,
                "categories": {
                    c.removeprefix("cases_"): totals[c] for c in categories if totals[c]
                },
                "reports": period_reports(result, stage, summary),
            }
        )
    return rows


def period_reports(result: Settlement, stage: str, summary: pl.DataFrame) -> list[dict[str, Any]]:
    """The stage's own money reports for the whole period (`report … : money at all`), in the
    policy's order with its labels, 元 by the files' rounding rule. The cases' `payment` is not
    always what the fund pays: at Wuxi's year end it is the DRG payable, and the final amount
    (年度清算总额合计) and the clearing due (年末清算应补合计) are reports. None for a stage
    settled month by month (its reports are per month: summary.csv)."""
    if summary.height != 1:
        return []
    definitions = result.stages[stage].stage.definitions
    money_reports = [d for d in definitions if d.report and not d.grain and d.type.is_money]
    names = [d.name for d in money_reports if d.name in summary.columns]
    if not names:
        return []
    fen = summary.select(money.to_fen(pl.col(n)).alias(n) for n in names).row(0, named=True)
    return [
        {
            "name": d.name,
            "label": d.label,
            "yuan": None if fen[d.name] is None else fen[d.name] / 100,
        }
        for d in money_reports
        if d.name in fen
    ]


def price_text(summary: pl.DataFrame, method: str) -> str:
    """The period's point value (or rate) as shown: one number, "per month" when it varies,
    "per tier" when it is not one value for the city, "—" when it could not be computed."""
    price = "point_value" if method == "points" else "rate"
    if price not in summary.columns:
        return "per tier"
    prices = summary[price].unique().to_list()
    if len(prices) > 1:
        return "per month"
    return "—" if not prices or prices[0] is None else f"{prices[0]:,.4f}"


def indicator_rows(result: Settlement) -> list[dict[str, Any]]:
    """The headline indicators of the city (`engine.run.indicators.HEADLINE`, those the policy has)
    and its targets: how many of their rows are met, of those checked."""
    table = result.indicators()
    city = table.filter(pl.col("grain") == "city")
    values = dict(zip(city["indicator"], city["value"], strict=True))
    checked = table.filter(pl.col("met").is_not_null())
    return [
        {
            "city": result.policy.city,
            "version": result.policy.version,
            "period": result.period.label,
            "values": {
                name: None if values[name] is None else float(values[name])
                for name in HEADLINE
                if name in values
            },
            "targets_met": int(checked["met"].sum()),
            "targets_checked": checked.height,
        }
    ]


def level_rows(result: Settlement) -> list[dict[str, Any]]:
    """Per hospital level, in the last settling stage: hospitals, cases, payment, share."""
    stage = result.settling_stages()[-1]
    hospitals = stage_statements(result, stage)["hospitals"]
    by_level = (
        hospitals.group_by("level")
        .agg(
            pl.col("hospital_id").n_unique().alias("hospitals"),
            pl.col("cases").sum(),
            pl.col("payment").sum(),
        )
        .sort("level")
    )
    total = max(int(by_level["payment"].sum()), 1)
    return [
        {
            "city": result.policy.city,
            "version": result.policy.version,
            "stage": stage,
            "level": row["level"],
            "hospitals": row["hospitals"],
            "cases": row["cases"],
            "payment": row["payment"] / 100,
            "per_case": row["payment"] / 100 / max(row["cases"], 1),
            "share": row["payment"] / total,
        }
        for row in by_level.iter_rows(named=True)
    ]


def rejected_because_lines(inputs: Inputs) -> list[str]:
    """One line per cause of cases rejected because of their hospital or group, with each
    upstream row's own reject (its row and reason) — where the cases went."""
    upstream = inputs.rejects.filter(~pl.col("file").str.starts_with("cases"))
    lines = []
    for cause, keys in inputs.rejected_because().items():
        total = sum(keys.values())
        parts = [
            f"{shown(key)}: {cases}{_why(upstream, key)}" for key, cases in list(keys.items())[:5]
        ]
        more = f", and {len(keys) - 5} more" if len(keys) > 5 else ""
        lines.append(f"{total} cases rejected because {cause} ({'; '.join(parts)}{more})")
    return lines


#: The tables whose key is unique, in the order their copies are said, and the likely cause.
COPIED = {
    "cases": "two extracts of one period put together, or a case exported twice?",
    "hospitals": "two lists put together, or a hospital written twice (another level, tier?)",
    "groups": "two lists put together, or a group written twice (another weight?)",
}


@dataclass(frozen=True)
class Copies:
    """The keys found on more than one row of the case, hospital or group file (every copy is
    rejected: `engine.inputs.contract`), one line per file: `failing` where money moved, `noted`
    where it did not (a hospital or group copied that no case of the data points to)."""

    failing: list[str]
    noted: list[str]


def copied_keys(inputs: Inputs) -> Copies:
    """The copied keys among `inputs.rejects` (`Copies`). A case exported twice, two extracts of
    one period put together, or a hospital listed twice with two levels (its cases rejected
    with it) is no share of bad rows to let pass: the case is paid in no period, and under a
    fixed budget its period's money goes to the other cases, so `settle` fails on any (like a
    rejected deduction). A copied hospital or group no case points to moves no money: said,
    not failed."""
    copies = Copies([], [])
    rejected_because = inputs.rejected_because()
    for kind, cause in COPIED.items():
        key = key_field(kind)  # type: ignore[arg-type]
        found = (
            inputs.rejects.filter(pl.col("file").str.starts_with(f"{kind}."))
            .filter(pl.col("key").is_not_null() & (pl.col("key") != ""))
            .group_by("key")
            .agg(pl.col("row").sort(), pl.col("file").first())
            .filter(pl.col("row").list.len() > 1)
            .sort(pl.col("row").list.first())
        )
        if not found.height:
            continue
        file = found["file"][0]
        pointed = {
            upstream
            for said, keys in rejected_because.items()
            if said.endswith(f" rejected in {file}")
            for upstream in keys
        }
        used = found if kind == "cases" else found.filter(pl.col("key").is_in(list(pointed)))
        unused = found.filter(~pl.col("key").is_in(used["key"].to_list()))
        if used.height:
            copies.failing.append(_copied(used, kind, key, cause))
        if unused.height:
            copies.noted.append(_copied(unused, kind, key, None))
    return copies


def _copied(found: pl.DataFrame, kind: str, key: str, cause: str | None) -> str:
    """The words for the copied keys `found` of one file: how many, the first and its rows,
    what it did to the money and its likely `cause` (None: no money moved)."""
    first = found.row(0, named=True)
    rows = ", ".join(map(str, first["row"][:10])) + (", …" if len(first["row"]) > 10 else "")
    ids = f"1 {key} appears" if found.height == 1 else f"{found.height} {key}s appear"
    said = (
        f"{ids} on more than one row of {first['file']} (first: {shown(first['key'])}, rows {rows})"
    )
    if cause is None:
        return (
            f"{said}: every copy is rejected; no case of the data points to it, so no money "
            f"moved. Keep one row per {key}"
        )
    if kind == "cases":
        moved = (
            "every copy is rejected, so the case is paid in no period and under a fixed budget "
            "its period's money goes to the other cases"
        )
    else:
        moved = (
            "every copy is rejected, with the cases that point to it, and under a fixed budget "
            "their money goes to the other cases"
        )
    return f"{said}: {moved}, so no share of them passes — {cause} Keep one row per {key}"


def _why(upstream: pl.DataFrame, key: str) -> str:
    found = upstream.filter(pl.col("key") == key)
    if not found.height:
        return ""
    row = found.row(0, named=True)
    return f" — {row['file']} row {row['row']}: {row['reason']}"
