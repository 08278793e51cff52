"""A quote that states a number, cited for a value that differs from it (W131): the commonest
slip of a new version is a value changed while its source still gives the old number.

Only parameters and tables are compared (a definition is a formula): a parameter's value, each
row value of a table, must equal one of the numbers its quote states. Numbers are read with
their unit and compared as values: `70%` is 0.7, `6‰` 0.006, `1.5倍` 1.5, `5例` 5, `251万元`
2,510,000; `百分之七十`, `千分之六`, `两倍`, `五例` are read too. Numbers that fix no value are
skipped: years and dates (`2024年`, `5月`, a bare 1900–2100), ordinals (`第五条`), document
numbers (`〔2023〕16号`), levels (`三级`) and counts of things (`14个病组`, `8家`). A quote
with no number left is not compared.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from policy_dsl import ast as a
from policy_dsl.check.tables import literal_value
from policy_dsl.diagnostics import Diagnostic
from policy_dsl.loader import Entry
from policy_dsl.sources import normal
from policy_dsl.unparse import number_text

Report = Callable[[Diagnostic], None]

#: What a number's unit multiplies it by.
UNITS: dict[str, Decimal] = {
    "%": Decimal("0.01"),
    "‰": Decimal("0.001"),
    "倍": Decimal(1),
    "例": Decimal(1),
    "元": Decimal(1),
    "万元": Decimal(10_000),
    "亿元": Decimal(100_000_000),
}
#: Words after a number that make it no value: a date, a document number, an ordinal, a level,
#: a count of things (`14个病组`, `8家医院`, `19场次`) rather than of cases (`例`).
NOT_VALUES = "年月日号条款项章节级个家次人名场批期类档层组"

_CHINESE = "零一二两三四五六七八九十百点"
_ARABIC = re.compile(
    r"(?<![\d.第\[])(\d+(?:\.\d+)?)(%|‰|倍|例|万元|亿元|元)?"
    r"(?:[-~至到](\d+(?:\.\d+)?)(%|‰|倍|例|万元|亿元|元))?"
)
_WORDED = re.compile(rf"(百分之|千分之)?(?<!第)([{_CHINESE}]+)(倍|例)?")
_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7}
_DIGITS |= {"八": 8, "九": 9}


def stated_numbers(quote: str) -> list[tuple[str, Decimal]]:
    """Each number a quote states, as written and as a value (see the module docstring)."""
    text = normal(quote)
    found: list[tuple[str, Decimal]] = []
    for match in _ARABIC.finditer(text):
        low, low_unit, high, high_unit = match.groups()
        unit = low_unit or high_unit
        if _fixes_nothing(text, match.end(2) if low_unit else match.end(1), low, unit):
            continue
        found.append((low + (low_unit or ""), Decimal(low) * UNITS.get(unit or "", Decimal(1))))
        if high:
            found.append((high + high_unit, Decimal(high) * UNITS[high_unit]))
    for match in _WORDED.finditer(text):
        found.extend(_worded(match, text))
    return found


def _fixes_nothing(text: str, end: int, digits: str, unit: str | None) -> bool:
    """A year, a date, a document number, a level or a count of things rather than a value."""
    if unit:
        return False
    following = text[end : end + 1]
    if following and (following in NOT_VALUES or following == "]"):
        return True
    return "." not in digits and 1900 <= int(digits) <= 2100


def _worded(match: re.Match[str], text: str) -> list[tuple[str, Decimal]]:
    share, words, unit = match.groups()
    if not (share or unit) or text[match.end() : match.end() + 1] in tuple(NOT_VALUES):
        return []  # `三级`, `一是`: no value
    value = _chinese(words)
    if value is None:
        return []
    scale = {"百分之": Decimal("0.01"), "千分之": Decimal("0.001")}.get(share or "", Decimal(1))
    return [(match.group(), value * scale)]


def _chinese(words: str) -> Decimal | None:
    """`七十` 70, `十五` 15, `一百` 100, `一点五` 1.5; None for what is not a simple numeral."""
    whole, _, fraction = words.partition("点")
    value = _whole(whole)
    if value is None or not all(ch in _DIGITS for ch in fraction):
        return None
    digits = "".join(str(_DIGITS[ch]) for ch in fraction)
    return Decimal(f"{value}.{digits}") if digits else Decimal(value)


def _whole(words: str) -> int | None:
    total, current = 0, 0
    for ch in words:
        if ch in _DIGITS:
            current = _DIGITS[ch]
        elif ch in "十百":
            total += (current or 1) * (10 if ch == "十" else 100)
            current = 0
        else:
            return None
    return total + current if words else None


def check_cited_numbers(entries: list[Entry], report: Report) -> None:
    """W131 for each quote of a parameter or table whose numbers miss one of its values."""
    for entry in entries:
        decl = entry.decl
        if isinstance(decl, a.Param):
            values = [decl.value]
        elif isinstance(decl, a.Table):
            values = [row.value for row in decl.rows]
        else:
            continue
        for citation in decl.citations:
            if isinstance(citation, a.Source) and citation.article:
                _compare(entry, decl, values, citation, report)


def _compare(
    entry: Entry, decl: a.Param | a.Table, values: list[a.Expr], citation: a.Source, report: Report
) -> None:
    assert citation.article is not None
    stated = stated_numbers(citation.article)
    if not stated:
        return
    amounts = {value for _, value in stated}
    differ = [
        v
        for v in values
        if isinstance(literal_value(v), Decimal) and literal_value(v) not in amounts
    ]
    if not differ:
        return
    shown = ", ".join(dict.fromkeys(_text(v) for v in differ))
    what = (
        f"`{decl.name}` is {shown}"
        if isinstance(decl, a.Param)
        else (f"table `{decl.name}` has {shown}")
    )
    report(
        entry.file.source.diagnostic(
            "W131",
            f"{what}, but its source states {', '.join(dict.fromkeys(t for t, _ in stated))}",
            citation.span,
            "a value changed while its source still gives the old number? fix the value, or "
            "quote the words that give this one",
        )
    )


def _text(value: a.Expr) -> str:
    if isinstance(value, a.Neg) and isinstance(value.operand, a.Number):
        return "-" + number_text(value.operand)
    return number_text(value) if isinstance(value, a.Number) else str(value)


__all__ = ["UNITS", "check_cited_numbers", "stated_numbers"]
