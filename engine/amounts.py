"""Amounts a run computes must be money a file can hold (金额越界): finite, and at most
90,071,992,547,409.92 元 either way (2⁵³ fen, the largest amount a double keeps exact to the
fen — the contract's bound on input money). A policy that checks can still compute more: a
parameter of 10²⁰% or a point value set from outside multiplies a payment past any budget. Such
a run stops (`AmountError`) before anything is written, naming the definition, a row and the
value, instead of writing a wrong figure or failing in the middle of the outputs.
"""

from __future__ import annotations

import polars as pl

from engine.contract import MAX_MONEY
from engine.frames import StageResult, key_columns
from policy_dsl import ir
from policy_dsl.errors import PolicyError


class AmountError(PolicyError):
    """A computed amount of money that is not finite or beyond what is kept exact to the fen."""


def check_amounts(policy: ir.Policy, results: dict[str, StageResult]) -> None:
    """Raise `AmountError` for the first money definition of `results` with a value that is
    not finite or beyond `MAX_MONEY`."""
    for name, result in results.items():
        for definition in result.stage.definitions:
            if definition.type.is_money and definition.name in result.home:
                _check(policy, name, result, definition.name)


def check_allocation(frame: pl.DataFrame, total: str, share: str | None) -> None:
    """Before `allocate` splits `total` (yuan) — or, given `share`, the shares in fen it
    computed — over the rows of `frame`: every amount must be money (finite, within
    `MAX_MONEY`); a weight of 1e300 or inf would make the split meaningless."""
    column, limit = (total, MAX_MONEY) if share is None else (share, MAX_MONEY * 100)
    value = pl.col(column).cast(pl.Float64)
    wrong = frame.select((value.is_nan() | value.is_infinite() | (value.abs() > limit)).any())
    if not wrong.item():
        return
    what = "the total" if share is None else "a share of the total (the weights are extreme)"
    largest = frame.select(pl.col(total).cast(pl.Float64).abs().max()).item()
    raise AmountError(
        f"allocate: {what} is not money that can be split exactly to the fen: "
        f"{largest:g} 元 among {frame.height} rows; an amount must be finite "
        "and at most 90,071,992,547,409.92 元. A parameter, a value set with --set/--fix or an "
        "input makes it so: check them"
    )


def _check(policy: ir.Policy, stage: str, result: StageResult, name: str) -> None:
    grain = result.home[name]
    value = pl.col(name).cast(pl.Float64)
    wrong = value.is_nan() | value.is_infinite() | (value.abs() > MAX_MONEY)
    bad = result.frames[grain].filter(wrong.fill_null(False))
    if not bad.height:
        return
    keys = key_columns(grain)
    first = bad.sort(keys).row(0, named=True) if keys else bad.row(0, named=True)
    where = ", ".join(f"{k} {first[k]}" for k in keys) or "the period"
    raise AmountError(
        f"{policy.city} {policy.version}, stage {stage}: `{name}` is {first[name]:g} 元 at "
        f"{where} ({bad.height} rows): an amount must be finite and at most "
        "90,071,992,547,409.92 元 (the largest kept exact to the fen). A parameter, a value set "
        "with --set/--fix or an input makes it that large: check them"
        + (f" (see drgpolicy explain --case {first['case_id']})" if "case_id" in first else "")
    )


__all__ = ["AmountError", "check_allocation", "check_amounts"]
