"""How the what-if reports write numbers: money from fen as yuan with a sign, percentages, counts
and hospital levels (医院级别)."""

from __future__ import annotations

from decimal import Decimal

LEVELS = {0: "未定级", 1: "一级", 2: "二级", 3: "三级"}
MINUS = "−"


def yuan(fen: int | None, signed: bool = False) -> str:
    """`123456` → `¥1,234.56` (`+¥1,234.56` when `signed`); exact, from integer fen."""
    if fen is None:
        return "—"
    amount = f"¥{Decimal(abs(fen)).scaleb(-2):,.2f}"
    if fen < 0:
        return MINUS + amount
    return ("+" if signed and fen > 0 else "") + amount


def pct(ratio: float | None) -> str:
    """`0.0123` → `+1.23%`; `—` where there is no base to compare with."""
    if ratio is None:
        return "—"
    text = f"{abs(ratio):.2%}"
    return (MINUS if ratio < 0 else "+" if ratio > 0 else "") + text


def count(n: int | None) -> str:
    return "—" if n is None else f"{n:,}"


def number(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"


def level(n: int) -> str:
    """`1` → `level 1 一级`."""
    name = LEVELS.get(n)
    return f"level {n} {name}" if name else f"level {n}"


__all__ = ["count", "level", "number", "pct", "yuan"]
