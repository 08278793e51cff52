"""Plain-text renderings for the terminal: tables of figures, a case's trace and the trace of a
hospital's (a month's, the period's) value."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from engine.explainer.trace import (
    AllocationCheck,
    CitedPassage,
    RankCheck,
    Step,
    Trace,
    ValueStep,
    ValueTrace,
    provenance,
)
from engine.plan.polars.frames import KEY_COLUMNS

#: The grain a key column identifies: `hospital_id` → `hospital`.
KEY_NAMES = {column: key for key, column in KEY_COLUMNS.items()}


def show(value: Any) -> str:
    """A value as an analyst reads it: floats to 6 significant digits, None as `missing`."""
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:,.6g}" if abs(value) < 1e6 else f"{value:,.2f}"
    if isinstance(value, Decimal):
        return f"{value:,}"
    return str(value)


def show_money(value: Any) -> str:
    """An amount in 元 to the fen (`70,000.00`); a part of a fen is kept (`70,000.042`)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return show(value)
    fen = f"{value:,.2f}"
    if abs(float(fen.replace(",", "")) - value) <= 1e-9 * max(1.0, abs(value)):
        return fen
    return f"{value:,.6f}".rstrip("0")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Columns aligned (numbers right, text left)."""
    cells = [[show(v) if not isinstance(v, str) else v for v in row] for row in rows]
    widths = [
        max(len(h), *(_width(r[i]) for r in cells)) if cells else len(h)
        for i, h in enumerate(headers)
    ]
    numeric = [all(not isinstance(r[i], str) for r in rows) for i in range(len(headers))]
    lines = ["  ".join(_pad(h, w, n) for h, w, n in zip(headers, widths, numeric, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(_pad(c, w, n) for c, w, n in zip(r, widths, numeric, strict=True)) for r in cells
    ]
    return "\n".join(lines)


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    space = " " * (width - _width(text))
    return space + text if right else text + space


def render_trace(trace: Trace) -> str:
    """The trace of one case, step by step."""
    facts = {k: v for k, v in trace.facts.items() if k != "case_id"}
    lines = _heading(f"Case {trace.case_id}", trace, facts)
    for step in trace.steps:
        lines += step_lines(step)
    return "\n".join(lines)


def _heading(what: str, trace: Trace | ValueTrace, facts: dict[str, Any]) -> list[str]:
    """A trace's first lines: what it explains, under which policy, stage and period; the
    facts of its row."""
    shown = ", ".join(f"{k} {show(v)}" for k, v in facts.items())
    return [
        f"{what} under {trace.city} {trace.version} (policy {trace.policy_hash[:12]}), "
        f"stage {trace.stage}, period {trace.period}",
        *([f"  {shown}"] if shown else []),
        "",
    ]


def step_lines(step: Step) -> list[str]:
    """One step of a trace: value, formula, inputs, classes tried, adjustments, source, place."""
    where = "" if step.source == "computed" else f"  [{provenance(step)}]"
    lines = [
        f"{step.name} = {show(step.value)}   {step.label}{where}",
        f"    formula: {step.formula}",
    ]
    if step.inputs:
        lines.append(
            "    inputs:  " + ", ".join(f"{k} = {show(v)}" for k, v in step.inputs.items())
        )
    for check in step.classes:
        mark = "✓" if check.chosen else "✗"
        fell = (
            " (a value it reads is missing: the next class is tried)"
            if check.result is None
            else ""
        )
        lines.append(
            f"    {mark} {check.name} ({check.label}): {check.condition} → "
            f"{show(check.result)}{fell}"
        )
    for adjustment in step.adjustments:
        mark = "✓" if adjustment.applied else "·"
        after = f" → {show(adjustment.value)}" if adjustment.applied else ""
        lines.append(
            f"    {mark} {adjustment.name} ({adjustment.label}) when "
            f"{adjustment.condition}: {adjustment.formula}{after}"
        )
    lines += [f"    {allocation_text(a)}" for a in step.allocations]
    lines += [f"    {rank_text(r)}" for r in step.ranks]
    if step.citations:
        lines.append("    source:  " + "; ".join(step.citations))
        lines += [passage_line(p) for p in step.passages]
    if step.origin:
        lines.append(f"    at:      {step.origin}")
    return lines


def passage_line(cited: CitedPassage) -> str:
    """A quote's passage under the step's sources, the quoted words in 【】, and its document."""
    return f"      “{cited.passage.marked()}” — {cited.document}"


def allocation_text(check: AllocationCheck) -> str:
    """`share: 12,345.6789 fen = 1,000,000 元 × 12.3 ÷ 99,633 (weights of the group) → 12,345
    fen, + 1 fen left over`."""
    given = {0: "no fen left over", 1: "+ 1 fen left over"}.get(
        check.fen_given, f"{check.fen_given:+d} fen (not 0 or 1: the two paths disagree)"
    )
    return (
        f"share:   {check.share:,.4f} fen = {show(check.total)} 元 × {show(check.weight)} ÷ "
        f"{show(check.weight_sum)} (weights of the group) → {check.floor:,} fen, {given}"
    )


def rank_text(check: RankCheck) -> str:
    """`rank: 3 (2 cases ahead within hospital_id)`, or why the case takes no part."""
    within = ", ".join(check.within) or "all"
    if check.position is None:
        return f"rank:    none (the case does not meet the `where` condition; within {within})"
    keys = ", ".join(show(k) for k in check.keys)
    return f"rank:    {check.position} ({check.ahead} ahead within {within}, by {keys})"


def render_value_trace(trace: ValueTrace) -> str:
    """The trace of a value at a coarser grain: its definition, then the definitions it reads."""
    lines = _heading(f"{trace.name} at {keys_text(trace.keys)}", trace, trace.facts)
    for step in trace.steps:
        lines += value_step_lines(step)
    return "\n".join(lines)


def value_step_lines(step: ValueStep) -> list[str]:
    """One definition at its keys: value, formula, inputs at the same keys, source, place."""
    where = "fixed from outside" if step.source == "fixed" else "from the batch run"
    where = f"at {keys_text(step.keys)}, {where}"

    def shown(name: str, value: Any) -> str:
        return show_money(value) if name in step.money else show(value)

    lines = [
        f"{step.name} = {shown(step.name, step.value)}   {step.label}  [{where}]",
        f"    formula: {step.formula}",
    ]
    if step.inputs:
        lines.append(
            "    inputs:  " + ", ".join(f"{k} = {shown(k, v)}" for k, v in step.inputs.items())
        )
    if step.citations:
        lines.append("    source:  " + "; ".join(step.citations))
    if step.origin:
        lines.append(f"    at:      {step.origin}")
    return lines


def keys_text(keys: dict[str, Any]) -> str:
    """`hospital H70, month 2024-03`; `all` (the period) without keys."""
    return ", ".join(f"{KEY_NAMES.get(k, k)} {show(v)}" for k, v in keys.items()) or "all"
