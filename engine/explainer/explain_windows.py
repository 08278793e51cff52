"""The explainer's window steps: how a `rank` (排名) and an `allocate` (分配) fall to one case.

A rank is recomputed: the rows of the case's group that sort before it. An allocation is
checked: the case's exact share of its group's total, against what the batch run paid it (the
whole fen of the share, and one left-over fen or none). The case's own values (its order keys,
its weight, the total) are the explainer's; the other rows of its group are read from the batch
frame as the batch run settled them (their keys or weights evaluated there by the batch plan).
A position that differs from the batch run's rank, a payment more than a fen from the share, or
a left-over fen given out of the order of the remainders shows where the two paths disagree
(the conformance suite checks all three).
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl

from engine.explainer.trace import AllocationCheck, RankCheck
from engine.plan import money
from engine.plan.polars.batch import Compiler, StageRun
from engine.plan.polars.frames import key_columns
from engine.run.settle import Settlement
from policy_dsl import ir
from policy_dsl.grains import CASE


class BatchRows:
    """The settled rows of one stage at the case grain, with further expressions evaluated over
    them by the batch plan and split by group (each once per explainer: a case explained after
    reads its own group's rows, not every row)."""

    def __init__(self, settlement: Settlement, stage: ir.Stage) -> None:
        self.settlement = settlement
        self.stage = stage
        self._run: StageRun | None = None
        #: per expressions and `by`: the frame's groups, and the frame without rows
        self._groups: dict[str, tuple[dict[tuple[Any, ...], pl.DataFrame], pl.DataFrame]] = {}
        self._sums: dict[tuple[str, tuple[Any, ...]], Any] = {}

    def run(self) -> StageRun:
        if self._run is None:
            s = self.settlement
            result = s.stages[self.stage.name]
            self._run = StageRun.resume(s.policy, result, s.data, s.stages, s.settings)
        return self._run

    def grain_keys(self, grain: list[str]) -> list[str]:
        """The key columns of a grain as the stage has it (a monthly stage adds the month)."""
        return key_columns(self.run().effective(grain))

    def row_keys(self) -> list[str]:
        return key_columns(self.run().effective(CASE))

    def evaluated(self, nodes: dict[str, Any], by: list[str]) -> pl.DataFrame:
        """The case frame's row keys, the `by` columns and each expression, by name."""
        run = self.run()
        grain = run.effective(CASE)
        exprs = {name: Compiler(run, grain).expr(node) for name, node in nodes.items()}
        columns = dict.fromkeys([*self.row_keys(), *by])
        return run.frame(grain).select(*columns, *(e.alias(n) for n, e in exprs.items()))

    def group(
        self, nodes: dict[str, Any], by: list[str], row: dict[str, Any], keep: str | None = None
    ) -> pl.DataFrame:
        """The rows in the case's group (sharing its `by` values, a missing value matching a
        missing one), with `nodes` evaluated — only those where the `keep` one of them is true,
        if given: the frame is evaluated, cut and split once."""
        key = _memo_key(nodes, by) + repr(keep)
        if key not in self._groups:
            frame = self.evaluated(nodes, by)
            if keep is not None:
                frame = frame.filter(pl.col(keep).fill_null(False))
            parts = frame.partition_by(by, as_dict=True, maintain_order=True) if by else {}
            self._groups[key] = (parts or {(): frame}, frame.clear())
        groups, empty = self._groups[key]
        return groups.get(tuple(row[k] for k in by), empty)

    def total(self, nodes: dict[str, Any], by: list[str], row: dict[str, Any]) -> Any:
        """The sum of the one column of `nodes` over the case's group; None for no rows."""
        key = (_memo_key(nodes, by), tuple(row[k] for k in by))
        if key not in self._sums:
            (name,) = nodes
            group = self.group(nodes, by, row)
            self._sums[key] = group.select(pl.col(name).sum()).item() if group.height else None
        return self._sums[key]

    def own(self, row: dict[str, Any]) -> pl.Expr:
        """Whether a row is the case's own."""
        return pl.all_horizontal(pl.col(k) == row[k] for k in self.row_keys())


def _memo_key(nodes: dict[str, Any], by: list[str]) -> str:
    return repr((sorted((n, v.model_dump_json()) for n, v in nodes.items()), by))


def allocation(
    rows: BatchRows,
    node: ir.Allocate,
    row: dict[str, Any],
    operands: tuple[Any, Any],
    allocated: float | None,
) -> AllocationCheck:
    """The case's part of `allocate(total, weight)`: its share from its own total and weight
    (`operands`) and the weight sum of its group in the batch frame; the fen given on top from
    what the batch run allocated to it."""
    total, weight = operands
    weight_sum = rows.total({"weight": node.weight}, rows.grain_keys(node.by), row)
    share = _share(total, weight, weight_sum)
    floor = math.floor(share)
    paid = money.round_half_away(allocated * 100) if allocated is not None else None
    return AllocationCheck(total, weight, weight_sum, share, floor, int(paid or 0) - floor)


def _share(total: float | None, weight: float | None, weight_sum: float | None) -> float:
    """total (in whole fen) × weight ÷ weight sum; 0 where a value is missing or the weights
    sum to nothing, as in the batch plan."""
    total_fen = money.round_half_away(total * 100) if total is not None else None
    if total_fen is None or weight is None or weight_sum is None or weight_sum <= 0:
        return 0.0
    return total_fen * weight / weight_sum


def rank(
    rows: BatchRows, node: ir.RankIR, row: dict[str, Any], keys: list[Any], eligible: bool
) -> RankCheck:
    """The case's position in `rank(…)`: 1 + the rows of its `within` group that take part and
    sort before it (by the order keys, missing last, then by row key)."""
    within = rows.grain_keys(node.within)
    if not eligible:
        return RankCheck(within, keys, False, 0, None)
    named = {f"__key{i}": k.expr for i, k in enumerate(node.keys)}
    if node.where is not None:
        named["__where"] = node.where
    taking_part = "__where" if node.where is not None else None
    frame = rows.group(named, within, row, keep=taking_part)  # the rows that take part
    before = _sorts_before(node.keys, keys, rows.row_keys(), row)
    ahead = frame.filter(~rows.own(row) & before).height
    return RankCheck(within, keys, True, ahead, ahead + 1)


def _sorts_before(
    order: list[ir.OrderIR], keys: list[Any], row_keys: list[str], row: dict[str, Any]
) -> pl.Expr:
    """Whether a row sorts before the case: the order keys in turn (missing last), then the
    row keys ascending — the batch plan's sort."""
    before: pl.Expr = pl.lit(False)
    for name in reversed(row_keys):
        before = (pl.col(name) < row[name]) | ((pl.col(name) == row[name]) & before)
    for index in reversed(range(len(order))):
        column, value = pl.col(f"__key{index}"), keys[index]
        if value is None:
            better, same = column.is_not_null(), column.is_null()
        else:
            better = (column > value) if order[index].descending else (column < value)
            better, same = better.fill_null(False), (column == value).fill_null(False)
        before = better | (same & before)
    return before


__all__ = ["BatchRows", "allocation", "rank"]
