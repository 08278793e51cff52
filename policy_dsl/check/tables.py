"""Checks of tables: range rows without overlaps or gaps, lookup keys unique.

Range rows may be written in any order: overlaps and gaps are between neighbours by lower bound.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from policy_dsl import ast as a
from policy_dsl.diagnostics import Diagnostic
from policy_dsl.loader import Entry

Report = Callable[[Diagnostic], None]


def literal_value(expr: a.Expr | None) -> Decimal | str | bool | None:
    """The value of a literal key or bound (None for infinity or a non-literal)."""
    if isinstance(expr, a.Neg):
        inner = literal_value(expr.operand)
        return -inner if isinstance(inner, Decimal) else None
    if isinstance(expr, a.Number):
        scale = {"percent": Decimal(100), "permille": Decimal(1000)}.get(expr.kind, Decimal(1))
        return expr.value / scale
    if isinstance(expr, a.Text | a.Bool):
        return expr.value
    return None


def check_table(entry: Entry, report: Report) -> None:
    table = entry.decl
    assert isinstance(table, a.Table)
    ranges = [r for r in table.rows if isinstance(r, a.RangeRow)]
    keys = [r for r in table.rows if isinstance(r, a.KeyRow)]
    at = entry.file.source.diagnostic
    if ranges and keys:
        report(
            at(
                "E506",
                f"table `{table.name}` mixes ranges and keys",
                table.span,
                "a table is either ranges `[low, high) -> v` or keys `key -> v`",
            )
        )
    _check_keys(keys, entry, report)
    _check_ranges(ranges, entry, report)


def _check_keys(rows: list[a.KeyRow], entry: Entry, report: Report) -> None:
    seen: dict[object, int] = {}
    for row in rows:
        key = literal_value(row.key)
        if key in seen:
            report(
                entry.file.source.diagnostic(
                    "E503",
                    f"key {key} appears twice (first on line {seen[key]})",
                    row.span,
                    "each key gets one row",
                )
            )
        seen.setdefault(key, row.span.line)


def _lower_bound(row: a.RangeRow) -> tuple[Decimal, bool]:
    """A range row's place in order of lower bound: `[a` before `(a`; a bound that is not a
    number (no overlap or gap can be computed for it) first."""
    low = literal_value(row.low)
    return (low if isinstance(low, Decimal) else Decimal("-Infinity")), not row.low_closed


def _upper_bound(row: a.RangeRow) -> tuple[Decimal, bool]:
    """How far a range row reaches: `a]` beyond `a)`, `inf` beyond all, a bound that is not a
    number nowhere."""
    if row.high is None:
        return Decimal("Infinity"), True
    high = literal_value(row.high)
    return (high if isinstance(high, Decimal) else Decimal("-Infinity")), row.high_closed


def _check_ranges(rows: list[a.RangeRow], entry: Entry, report: Report) -> None:
    """E505 for each empty or reversed row; E501 and E502 between each row and the row reaching
    furthest among those with a lower start."""
    at = entry.file.source.diagnostic
    previous: a.RangeRow | None = None
    for row in sorted(rows, key=_lower_bound):
        low, high = literal_value(row.low), literal_value(row.high)
        if (
            high is not None
            and isinstance(low, Decimal)
            and isinstance(high, Decimal)
            and (high < low or (high == low and not (row.low_closed and row.high_closed)))
        ):
            opening, closing = "[" if row.low_closed else "(", "]" if row.high_closed else ")"
            report(
                at(
                    "E505",
                    f"range {opening}{low}, {high}{closing} is empty or reversed",
                    row.span,
                    "write the lower bound first",
                )
            )
            previous = None  # its neighbours' gaps and overlaps would only repeat this error
            continue
        if previous is not None:
            _check_adjacent(previous, row, entry, report)
        previous = row if previous is None else max(previous, row, key=_upper_bound)


def _check_adjacent(before: a.RangeRow, row: a.RangeRow, entry: Entry, report: Report) -> None:
    at = entry.file.source.diagnostic
    end, start = literal_value(before.high), literal_value(row.low)
    other = f"the range on line {before.span.line}"
    if end is None:
        report(
            at(
                "E501",
                f"this range starts after {other}, which never ends (inf)",
                row.span,
                f"remove it or give {other} an upper bound",
            )
        )
        return
    if not (isinstance(end, Decimal) and isinstance(start, Decimal)):
        return
    both = before.high_closed and row.low_closed
    neither = not before.high_closed and not row.low_closed
    if start < end:
        report(
            at(
                "E501",
                f"ranges overlap between {start} and {end}: a value there would match two rows "
                f"(this one and {other})",
                row.span,
                f"start this range where {other} ends: `[{end}, …`",
            )
        )
    elif start == end and both:
        report(
            at(
                "E501",
                f"ranges overlap at {start}: a value there would match two rows "
                f"(this one and {other})",
                row.span,
                f"close one side only, e.g. `[{start}, …)` after `…, {end})`",
            )
        )
    elif start > end or neither:
        gap = (
            f"gap between {end} and {start}: no row covers it"
            if start > end
            else f"gap at {start}: neither row includes it"
        )
        report(
            at(
                "E502",
                gap,
                row.span,
                f"start this range at `[{end}` or end {other} at "
                f"`{start}{')' if row.low_closed else ']'}`",
            )
        )
