"""How the studio writes amounts: a loss with its sign before the ¥, a tile's large amount in 万/亿
with the exact amount beside it, money columns in 元 with the ¥ in their label."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from engine.page import show
from studio import formats


def test_brief_amounts_by_hand() -> None:
    assert show.yuan_brief(123_456_789_012) == "¥12.35亿"  # 1,234,567,890.12 元
    assert show.yuan_brief(1_234_567) == "¥1.23万"  # 12,345.67 元
    assert show.yuan_brief(999_999) == "¥9,999.99"  # below 万: to the fen
    assert show.yuan_brief(1_000_000) == "¥1.00万"
    assert show.yuan_brief(-2_500_000_000, signed=True) == "−¥2,500.00万"
    assert show.yuan_brief(12_345, signed=True) == "+¥123.45"
    assert show.yuan_brief(1_234_500) == "¥1.23万"  # 1.2345 万: half away from zero at 0.005
    assert show.yuan_brief(1_235_000) == "¥1.24万"
    assert show.yuan_brief(None) == "—"


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_a_brief_amount_is_the_exact_one_to_half_a_hundredth_of_its_unit(fen: int) -> None:
    text = show.yuan_brief(fen)
    negative = text.startswith(show.MINUS)
    digits = text.removeprefix(show.MINUS).removeprefix("¥")
    scale = {"亿": 10**10, "万": 10**6}.get(digits[-1], 1)
    number = Decimal(digits.rstrip("亿万").replace(",", "")) * (scale if scale > 1 else 100)
    shown = -number if negative else number
    assert abs(shown - fen) <= Decimal(scale) / 200 if scale > 1 else shown == fen
    assert negative == (fen < 0)


def test_a_loss_reads_minus_then_yen() -> None:
    assert formats.money(-123_450) == "−¥1,234.50"
    assert formats.value(-1234.5, money=True) == "−¥1,234.50"


def test_money_columns_carry_yen_in_their_label_not_before_the_sign() -> None:
    frame = pl.DataFrame({"hospital_id": ["H1"], "delta": [-1234.5], "pct": [-0.1]})
    config = formats.column_config(frame)
    delta = config["delta"]
    assert delta["label"] == "变化 change (¥)"
    assert delta["type_config"]["format"] == "%,.2f"  # printf: -1,234.50
    assert config["pct"]["label"] == "变化率 change %"
