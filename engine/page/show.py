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


#: The units a tile writes a large amount in: 亿 (10⁸ 元) and 万 (10⁴ 元), in fen.
BRIEF_UNITS = ((10**10, "亿"), (10**6, "万"))


def yuan_brief(fen: int | None, signed: bool = False) -> str:
    """An amount short enough for a metric tile: `123456789012` fen → `¥12.35亿`, `1234567` →
    `¥1.23万` (rounded half away from zero to two decimals of the unit); below 万 as `yuan`. The
    exact amount belongs beside it (the tile's help)."""
    if fen is None:
        return "—"
    for size, unit in BRIEF_UNITS:
        if abs(fen) >= size:
            units = (Decimal(abs(fen)) / size).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
            amount = f"¥{units:,}{unit}"
            if fen < 0:
                return MINUS + amount
            return ("+" if signed else "") + amount
    return yuan(fen, signed)


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


__all__ = ["count", "level", "number", "pct", "yuan", "yuan_brief"]
