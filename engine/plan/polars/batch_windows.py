"""The batch plan's steps over many rows: aggregates (a group-by of the finer frame, joined
back), and the window steps `rank` and `allocate`. Each takes the `Compiler` of the definition
being compiled (its run, grain and frame) and returns the polars expression of its value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from engine.plan import exact, money
from engine.plan.polars import keys as keys_mod
from engine.plan.polars.frames import closure_columns, join_values, key_columns
from policy_dsl import ir

if TYPE_CHECKING:
    from engine.plan.polars.batch import Compiler

#: Aggregates that are 0 over no rows (the others are missing: a mean of nothing).
ZERO_WHEN_EMPTY = ("sum", "count", "distinct")


def prefetch_aggregates(compiler: Compiler, node: Any, *, kept: bool = False) -> None:
    """Compute the aggregates of a definition that move values from the cases to this grain
    in one group-by (and one join), instead of one group-by each; when this grain has no
    frame yet, the group-by gives its rows (instead of a `unique` over every case). `kept`:
    the aggregates of many definitions (`node` a list of them), at `all` too, kept for every
    later definition (`StageRun.kept_aggregates`)."""
    keys = key_columns(compiler.grain)
    case = frozenset({"case"})
    if not keys and not kept:
        return
    found: dict[str, ir.Aggregate] = {}
    for agg in aggregates_in(node):
        key = agg.model_dump_json()
        ahead = (key, compiler.grain) in compiler.run.aggregates
        if compiler.run.effective(agg.source) == case and not ahead:
            found.setdefault(key, agg)
    new_frame = (
        compiler.grain not in compiler.run.frames
        and compiler.grain != case
        and compiler.run.key_source(compiler.grain) is compiler.run.data.cases
    )
    if not found or (len(found) < 2 and not new_frame and not kept):
        return
    inner = compiler.at(case)
    reduced: list[pl.Expr] = []
    for agg in found.values():
        where = inner.expr(agg.where) if agg.where is not None else None
        arg = inner.expr(agg.arg) if agg.arg is not None else None
        name = f"__kept{len(compiler.run.kept_aggregates) + len(reduced)}" if kept else None
        reduced.append(_reduce(agg.fn, arg, where).alias(name or compiler.run.temp()))
    cases = compiler.run.frame(case)
    if not keys:
        row = cases.select(reduced)
        literals = (pl.lit(row[c][0], dtype=row.schema[c]).alias(c) for c in row.columns)
        compiler.replace(compiler.frame().with_columns(literals))
    elif new_frame:
        carried = [c for c in closure_columns(compiler.grain) if c not in keys]
        frame = _group(compiler, cases, keys, reduced, carried)
        closure = closure_columns(compiler.grain)
        compiler.run.add(
            compiler.grain,
            frame.select(
                *closure,
                *keys_mod.carried_codes(frame, closure),
                *[r.meta.output_name() for r in reduced],
            ),
        )
    else:
        result = _group(compiler, cases, keys, reduced)
        values = {n: n for n in (r.meta.output_name() for r in reduced)}
        codes = compiler.run.data.codes
        compiler.replace(keys_mod.bring_values(codes, compiler.frame(), result, keys, values))
    computed = compiler.run.kept_aggregates if kept else compiler.run.aggregates
    for key, r in zip(found, reduced, strict=True):
        computed[(key, compiler.grain)] = r.meta.output_name()


def aggregate(compiler: Compiler, node: ir.Aggregate) -> pl.Expr:
    """An aggregate's value at the compiler's grain: prefetched, or one group-by joined back."""
    done = compiler.run.aggregates.get((node.model_dump_json(), compiler.grain))
    if done is not None:
        column = pl.col(done)
        return column.fill_null(0.0) if node.fn in ZERO_WHEN_EMPTY else column
    source = compiler.run.effective(node.source)
    inner = compiler.at(source)
    where = inner.expr(node.where) if node.where is not None else None
    arg = inner.expr(node.arg) if node.arg is not None else None
    reduced = _reduce(node.fn, arg, where).alias(compiler.run.temp())
    keys = key_columns(compiler.grain)
    frame = compiler.run.frame(source)
    if keys:
        result = _group(compiler, frame, keys, [reduced])
        name = reduced.meta.output_name()
        column = pl.col(compiler.run.bring(compiler.grain, result, keys, name))
        return column.fill_null(0.0) if node.fn in ZERO_WHEN_EMPTY else column
    value = frame.select(reduced).item()
    return pl.lit(_fill_empty(node.fn, value), dtype=pl.Float64)


def rank(compiler: Compiler, node: ir.RankIR) -> pl.Expr:
    """1-based position within `within` by the order keys, ties to the smaller row key; rows
    failing `where` get none."""
    keys = [compiler.materialize(compiler.expr(k.expr)) for k in node.keys]
    within = key_columns(compiler.run.effective(node.within))
    row_keys = key_columns(compiler.grain)
    frame = compiler.frame()
    chosen = frame.filter(compiler.expr(node.where)) if node.where is not None else frame
    alias = compiler.run.temp()
    descending = [False] * len(within) + [k.descending for k in node.keys] + [False] * len(row_keys)
    ordered = chosen.sort([*within, *keys, *row_keys], descending=descending, nulls_last=True)
    position = pl.int_range(1, pl.len() + 1, dtype=pl.Int64)
    ranked = ordered.select(
        *row_keys, (position.over(within) if within else position).cast(pl.Float64).alias(alias)
    )
    compiler.replace(join_values(frame, ranked, row_keys))
    return pl.col(alias)


def allocate(compiler: Compiler, node: ir.Allocate) -> pl.Expr:
    """`total` split over the rows of each `by` group by weight, exact to the fen
    (`money.allocate`)."""
    total = compiler.materialize(compiler.expr(node.total))
    weight = compiler.materialize(compiler.expr(node.weight))
    by = key_columns(compiler.run.effective(node.by))
    alias = compiler.run.temp()
    compiler.replace(money.allocate(compiler.frame(), total=total, weight=weight, by=by, out=alias))
    return pl.col(alias)


def _group(
    compiler: Compiler,
    frame: pl.DataFrame,
    keys: list[str],
    reduced: list[pl.Expr],
    carried: list[str] | None = None,
) -> pl.DataFrame:
    """`frame` grouped by `keys` (rows in key order), on the keys' integer codes where it can."""
    codes = compiler.run.data.codes
    if codes.codable(keys):
        return keys_mod.group_rows(codes, frame, keys, reduced, carried or ())
    firsts = [pl.col(c).first() for c in carried or ()]
    return frame.group_by(keys).agg(*firsts, *reduced).sort(keys)


def _reduce(fn: str, arg: pl.Expr | None, where: pl.Expr | None) -> pl.Expr:
    """One aggregate over a group (sums and means exact, the same in every backend: see
    `engine.plan.exact`)."""
    if fn == "count":
        return (where.fill_null(False).sum() if where is not None else pl.len()).cast(pl.Float64)
    if fn == "share":
        return (where.fill_null(False).mean() if where is not None else pl.lit(1.0)).cast(
            pl.Float64
        )
    assert arg is not None
    values = arg.filter(where.fill_null(False)) if where is not None else arg
    if fn == "distinct":
        return values.drop_nulls().n_unique().cast(pl.Float64)
    if fn == "min":
        return values.min()
    if fn == "max":
        return values.max()
    numbers = values.cast(pl.Float64)
    if fn == "cv":
        return exact.exact_std(numbers) / exact.exact_mean(numbers)
    return (exact.exact_sum if fn == "sum" else exact.exact_mean)(numbers)


def _fill_empty(fn: str, value: Any) -> Any:
    if value is None and fn in ZERO_WHEN_EMPTY:
        return 0.0
    return value


def aggregates_in(node: Any) -> Any:
    """The aggregates in an expression, or a list of them (not looking inside them)."""
    if isinstance(node, ir.Aggregate):
        yield node
    elif isinstance(node, ir.Model):
        for name in type(node).model_fields:
            yield from aggregates_in(getattr(node, name))
    elif isinstance(node, list):
        for item in node:
            yield from aggregates_in(item)
