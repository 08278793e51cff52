"""The batch plan's steps over many rows: aggregates (a group-by of the finer frame, joined
back), and the window steps `rank` and `allocate`. Each takes the `Compiler` of the definition
being compiled (its run, grain and frame) and returns the polars expression of its value.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Container, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import polars as pl

from engine.inputs.stored import case_columns, count
from engine.plan import exact, money
from engine.plan.polars import keys as keys_mod
from engine.plan.polars.frames import closure_columns, key_columns, with_columns
from policy_dsl import grains as g
from policy_dsl import ir

if TYPE_CHECKING:
    from engine.inputs.rundata import RunData
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
    case = g.CASE
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
    pending: list[tuple[Reduced, str]] = []
    rows = RowValues()
    for agg in found.values():
        where = inner.expr(agg.where) if agg.where is not None else None
        arg = inner.expr(agg.arg) if agg.arg is not None else None
        name = f"__kept{len(compiler.run.kept_aggregates) + len(pending)}" if kept else None
        pending.append((rows.reduce(agg, arg, where), name or compiler.run.temp()))
    if keys and not new_frame:
        compiler.replace(_grouped_onto(compiler, rows, compiler.run.frame(case), keys, pending))
        _record(compiler, found, [alias for _, alias in pending], kept=kept)
        return
    cases = rows.added(compiler, compiler.run.frame(case), keys)
    reduced = [made().alias(alias) for made, alias in pending]
    if not keys:
        row = cases.lazy().select(reduced).collect(engine="in-memory")
        literals = (pl.lit(row[c][0], dtype=row.schema[c]).alias(c) for c in row.columns)
        compiler.replace(compiler.frame().with_columns(literals))
    elif new_frame:
        carried = [c for c in closure_columns(compiler.grain) if c not in keys]
        frame = _group(compiler, cases, keys, reduced, carried, streamed=rows.streams)
        closure = closure_columns(compiler.grain)
        compiler.run.add(
            compiler.grain,
            frame.select(
                *closure,
                *keys_mod.carried_codes(frame, closure),
                *[r.meta.output_name() for r in reduced],
            ),
        )
    _record(compiler, found, [r.meta.output_name() for r in reduced], kept=kept)


def _record(
    compiler: Compiler, found: dict[str, ir.Aggregate], names: list[str], *, kept: bool
) -> None:
    """The columns of the aggregates `found` (by their IR), for the later definitions."""
    computed = compiler.run.kept_aggregates if kept else compiler.run.aggregates
    for key, name in zip(found, names, strict=True):
        computed[(key, compiler.grain)] = name


class Defining(Protocol):
    """What `ready_aggregates` reads of a stage's run, polars' (`StageRun`) or the database's
    (`engine.plan.sql.plan.SqlStageRun`)."""

    @property
    def home(self) -> Collection[str]: ...

    @property
    def kept_aggregates(self) -> Container[tuple[str, g.Grain]]: ...

    def effective(self, grain: list[str] | g.Grain) -> g.Grain: ...


def ready_aggregates(
    run: Defining, definitions: Sequence[ir.Definition]
) -> dict[g.Grain, dict[str, ir.Aggregate]]:
    """By grain, the aggregates of the cases that `definitions` read at their grains (not at
    the case grain), keyed by their IR, that can be computed now: not computed ahead yet
    (`StageRun.kept_aggregates`), every definition they read defined already, and no
    adjustment's `current` read (each step changes it)."""
    case = g.CASE
    found: dict[g.Grain, dict[str, ir.Aggregate]] = {}
    for definition in definitions:
        grain = run.effective(definition.grain)
        if "case" in grain:
            continue
        for agg in aggregates_in(definition.expr):
            key = agg.model_dump_json()
            kept = (key, grain) in run.kept_aggregates
            if run.effective(agg.source) == case and not kept and ready(run.home, agg):
                found.setdefault(grain, {})[key] = agg
    return found


def aggregate_together(
    compiler: Compiler, definition: ir.Definition, later: Sequence[ir.Definition]
) -> None:
    """The aggregates of the cases that `definition` reads at the compiler's grain, computed in
    one group-by with those of the `later` definitions at the same grain that can be computed
    now (`ready_aggregates`), and kept for them: each group-by of the cases is a pass over
    them (hashing, each group's key columns, the order), where one more sum in the same
    group-by costs a fraction of it. Nothing where no later definition's aggregate joins."""
    grain = compiler.grain
    own = ready_aggregates(compiler.run, [definition]).get(grain, {})
    if not own:
        return
    ready = ready_aggregates(compiler.run, later).get(grain, {})
    if joined := [a for k, a in ready.items() if k not in own]:
        prefetch_aggregates(compiler, [*own.values(), *joined], kept=True)


def ready(home: Collection[str], agg: ir.Aggregate) -> bool:
    """Whether every definition of the stage the aggregate reads is defined already (in
    `home`), and it reads no adjustment's running value."""
    return not ir.contains(agg, ir.Current) and all(
        node.name in home
        for node in ir.walk([agg.arg, agg.where])
        if isinstance(node, ir.Ref) and node.stage is None
    )


def aggregate(compiler: Compiler, node: ir.Aggregate) -> pl.Expr:
    """An aggregate's value at the compiler's grain: prefetched, or one group-by joined back."""
    key = node.model_dump_json()
    done = compiler.run.aggregates.get((key, compiler.grain))
    if done is not None:
        column = pl.col(done)
        return column.fill_null(0.0) if node.fn in ZERO_WHEN_EMPTY else column
    keys = key_columns(compiler.grain)
    # one value for the whole period, the same for every definition that reads it (unless it
    # reads an adjustment's `current`, which each step changes)
    kept = not keys and not ir.contains(node, ir.Current)
    if kept and key in compiler.run.totals:
        return compiler.run.totals[key]
    source = compiler.run.effective(node.source)
    inner = compiler.at(source)
    where = inner.expr(node.where) if node.where is not None else None
    arg = inner.expr(node.arg) if node.arg is not None else None
    rows = RowValues()
    made, alias = rows.reduce(node, arg, where), compiler.run.temp()
    if keys:
        pending = [(made, alias)]
        compiler.replace(_grouped_onto(compiler, rows, compiler.run.frame(source), keys, pending))
        column = pl.col(alias)
        return column.fill_null(0.0) if node.fn in ZERO_WHEN_EMPTY else column
    frame = rows.added(compiler, compiler.run.frame(source), keys)
    reduced = made().alias(alias)
    value = frame.lazy().select(reduced).collect(engine="in-memory").item()
    total = pl.lit(_fill_empty(node.fn, value), dtype=pl.Float64)
    if kept:
        compiler.run.totals[key] = total
    return total


def rank(compiler: Compiler, node: ir.RankIR) -> pl.Expr:
    """1-based position within `within` by the order keys, ties to the smaller row key; rows
    failing `where` get none."""
    keys = [compiler.materialize(compiler.expr(k.expr)) for k in node.keys]
    within = key_columns(compiler.run.effective(node.within))
    row_keys = key_columns(compiler.grain)
    frame = compiler.frame()
    # each row's position in the frame goes with it, and its rank comes back by that position
    # (a join on the row keys — a case's text id — cost more than the rank)
    rows = frame.lazy().with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("__row"))
    chosen = rows.filter(compiler.expr(node.where)) if node.where is not None else rows
    alias = compiler.run.temp()
    descending = [False] * len(within) + [k.descending for k in node.keys] + [False] * len(row_keys)
    ordered = chosen.sort([*within, *keys, *row_keys], descending=descending, nulls_last=True)
    position = pl.int_range(1, pl.len() + 1, dtype=pl.Int64)
    ranked = ordered.select(
        "__row", (position.over(within) if within else position).cast(pl.Float64).alias(alias)
    ).collect(engine="in-memory")
    found = pl.repeat(None, frame.height, dtype=pl.Float64, eager=True)
    found = found.scatter(ranked["__row"], ranked[alias]) if ranked.height else found
    compiler.replace(frame.with_columns(found.alias(alias)))
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
    *,
    streamed: bool = False,
) -> pl.DataFrame:
    """`frame` grouped by `keys` (rows in key order), on the keys' integer codes where it can
    (`streamed`: by the streaming engine, `keys.group_rows`)."""
    codes = compiler.run.data.codes
    if codes.codable(keys):
        return keys_mod.group_rows(codes, frame, keys, reduced, carried or (), streamed=streamed)
    firsts = [pl.col(c).first() for c in carried or ()]
    return frame.lazy().group_by(keys).agg(*firsts, *reduced).sort(keys).collect(engine="in-memory")


def _grouped_onto(
    compiler: Compiler,
    rows: RowValues,
    frame: pl.DataFrame,
    keys: list[str],
    pending: list[tuple[Reduced, str]],
) -> pl.DataFrame:
    """The compiler's frame with the aggregates `pending` (`rows.reduce`'s, with their names)
    of `frame`'s rows grouped by `keys`: tallied per packed code by numpy where it can
    (`RowValues.tallied`), the values brought back by the code (`keys.bring_coded`), else a
    group-by (`_group`) and its rows brought back on the keys."""
    codes = compiler.run.data.codes
    values = {alias: alias for _, alias in pending}
    result = rows.tallied(compiler, frame, keys, [alias for _, alias in pending])
    if result is not None:
        return keys_mod.bring_coded(codes, compiler.frame(), result, keys, values)
    added = rows.added(compiler, frame, keys)
    reduced = [made().alias(alias) for made, alias in pending]
    result = _group(compiler, added, keys, reduced, streamed=rows.streams)
    return keys_mod.bring_values(codes, compiler.frame(), result, keys, values)


#: An aggregate's expression, made once the row values it reads are computed (`RowValues.added`).
Reduced = Callable[[], pl.Expr]


@dataclass
class RowValues:
    """The values the aggregates of one group-by read, computed per row before it (null where
    the aggregate's `where` does not hold): read inside the group-by, an expression (the
    filter of a `where`, a `cv`'s mean) is computed again for every read of it, and the grid's
    arithmetic of an exact sum (`engine.plan.exact`) costs several times a plain sum there. Per
    value summed, also its grid steps as integer columns (`exact.grid_parts`, the group-by sums
    them); per `cv`, each value's deviation from its group's exact mean (`<name>_deviation`),
    that mean (`<name>_mean`) and the squared deviations' grid steps."""

    values: dict[str, pl.Expr] = field(default_factory=dict)
    spread: list[str] = field(default_factory=list)
    #: the values whose exact sum (or mean) an aggregate reads
    summed: set[str] = field(default_factory=set)
    #: per value summed (`<name>_squares` for a `cv`'s squared deviations), the expression of a
    #: group's exact sum: made by `added`
    sums: dict[str, pl.Expr] = field(default_factory=dict)
    #: whether no aggregate adds doubles (`exact.exact_sum` itself: values off the grid, or an
    #: argument that reads no row), whose last bits depend on the order of the additions: the
    #: group-by may then run on the streaming engine (`keys.group_rows`)
    orderless: bool = True
    #: the values that are a column of the frame as it is, or where a `where` holds
    #: (`sum(total_cost)`, `mean(total_cost where not ungrouped)`): of a case column of the
    #: inputs, its grid parts are made once per dataset (`_grid_parts`)
    columns: dict[str, str] = field(default_factory=dict)
    #: the values whose different values an aggregate counts (`distinct(person_id)`): of a text
    #: case column of the inputs, counted on its hashes where they tell its texts apart
    #: (`_distinct_hashes`)
    counted: set[str] = field(default_factory=set)
    #: per aggregate (in `reduce`'s order), its value from a group's tallies (`tallied`), or
    #: None where it has none (a share, distinct, min, max, a sum of a constant)
    tallies: list[Reduced | None] = field(default_factory=list)
    #: the `where` of each count that has one, tallied per group
    taken: dict[str, pl.Expr] = field(default_factory=dict)

    @property
    def streams(self) -> bool:
        """Whether the group-by runs on the streaming engine (`keys.group_rows`): where no
        aggregate adds doubles (`orderless`) and none counts different values — polars'
        in-memory `n_unique` of millions of values per group costs a third to three fifths of
        the streaming engine's (10M cases by tier: 0.67 against 1.70 s CPU; docs/speed.md)."""
        return self.orderless and not self.counted

    def reduce(self, node: ir.Aggregate, arg: pl.Expr | None, where: pl.Expr | None) -> Reduced:
        """One aggregate over a group (sums and means exact, the same in every backend: see
        `engine.plan.exact`), to be made after `added`. An argument that reads no row (a
        constant) stays in the group-by, where it is one value per group."""
        made, tally = self._reduce(node, arg, where)
        self.tallies.append(tally)
        return made

    def _reduce(
        self, node: ir.Aggregate, arg: pl.Expr | None, where: pl.Expr | None
    ) -> tuple[Reduced, Reduced | None]:
        fn = node.fn
        if fn == "count":
            if where is None:
                return _ready(pl.len().cast(pl.Float64)), _ready(_tally("__rows"))
            taken = f"__taken{len(self.taken)}"
            self.taken[taken] = where.fill_null(False)
            return _ready(where.fill_null(False).sum().cast(pl.Float64)), _ready(_tally(taken))
        if fn == "share":
            share = where.fill_null(False).mean() if where is not None else pl.lit(1.0)
            return _ready(share.cast(pl.Float64)), None
        assert arg is not None
        if fn == "cv" or _reads_rows(node.arg):
            name = f"__values{len(self.values)}"
            self.values[name] = (
                pl.when(where.fill_null(False)).then(arg) if where is not None else arg
            )
            if arg.meta.is_column():
                self.columns[name] = arg.meta.output_name()
            values = pl.col(name)
        else:
            values = arg.filter(where.fill_null(False)) if where is not None else arg
            numbers = values.cast(pl.Float64)
            self.orderless = self.orderless and fn not in ("sum", "mean")
            if fn == "sum":
                return _ready(exact.exact_sum(numbers)), None
            if fn == "mean":
                return _ready(exact.exact_mean(numbers)), None
        if fn == "distinct":
            self.counted.add(name)
            return _ready(values.drop_nulls().n_unique().cast(pl.Float64)), None
        if fn == "min":
            return _ready(values.min()), None
        if fn == "max":
            return _ready(values.max()), None
        counted = _tally(f"{name}_count")
        if fn == "cv":
            self.spread.append(name)
            deviation, mean = pl.col(f"{name}_deviation"), pl.col(f"{name}_mean").first()
            squares = f"{name}_squares"
            return (
                lambda: exact.spread_of(self.sums[squares], deviation.count()) / mean,
                lambda: exact.spread_of(self.sums[squares], counted) / mean,
            )
        self.summed.add(name)
        if fn == "sum":
            return (lambda: self.sums[name]), (lambda: self.sums[name])
        return (
            lambda: exact.mean_of(self.sums[name], values.count()),
            lambda: exact.mean_of(self.sums[name], counted),
        )

    def tallied(
        self, compiler: Compiler, frame: pl.DataFrame, keys: list[str], names: list[str]
    ) -> pl.DataFrame | None:
        """The aggregates (`names`, in `reduce`'s order) of `frame`'s rows by the packed code
        of `keys` (`__code`), from each group's tallies made by numpy (`_Tallies`) — its rows,
        the rows a `where` takes, its values and their grid parts' integer sums and, per `cv`,
        its exact mean and the integer sums of the squared deviations' grid parts — each read
        by its aggregate's expression on one row per group: the same integers as a group-by
        sums, so the same bits. Only for a group-by with a `cv`, whose two passes (a group-by
        for the means, their join back, then the group-by) it replaces at a third less CPU;
        sums and counts alone cost as much as polars' streaming group-by (docs/speed.md).
        None there, where an aggregate has no tallies, the codes span too many values, or a
        value is off the grid (`exact.grid_parts`): a group-by then."""
        codes = compiler.run.data.codes
        if not self.spread or not codes.codable(keys) or None in self.tallies:
            return None
        space = codes.space(keys)
        if frame.is_empty() or space > min(keys_mod.DENSE_LIMIT, 4 * frame.height):
            return None
        group = frame.select(codes.packed(frame, keys)).to_series()
        if group.has_nulls():  # a key value the run's codes do not have
            return None
        found = with_columns(frame, *(v.alias(n) for n, v in {**self.values, **self.taken}.items()))
        tallies = _Tallies.of(group.to_numpy().astype(np.intp), space)
        for name in self.taken:
            tallies.count(name, found.get_column(name))
        data = compiler.run.data if frame is compiler.run.frames.get(g.CASE) else None
        for name in (*self.summed, *self.spread):
            numbers = found.get_column(name).cast(pl.Float64)
            parts = self._parts(name, numbers, frame, data)
            if parts is None:
                return None
            tallies.count(f"{name}_count", numbers.is_not_null())
            tallies.summed(parts[0])
            self.sums[name] = parts[1]
        for name in self.spread:
            mean = tallies.read(exact.mean_of(self.sums[name], _tally(f"{name}_count")))
            tallies.given[f"{name}_mean"] = mean
            squares = tallies.squares(found.get_column(name).cast(pl.Float64), mean)
            parts = exact.grid_parts(squares, f"{name}_squares")
            if parts is None:
                return None
            tallies.summed(parts[0])
            self.sums[f"{name}_squares"] = parts[1]
        made = [t().alias(n) for t, n in zip(self.tallies, names, strict=True) if t is not None]
        return tallies.frame().lazy().group_by("__code").agg(made).collect(engine="in-memory")

    def added(self, compiler: Compiler, frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
        """`frame` with the row values of a group-by on `keys` (one lazy query), the grid steps
        of those summed and, per `cv`, the deviations from the group's mean (a group-by on the
        group's code and a join back) and their squares' grid steps; `sums` filled."""
        if not self.values:
            return frame
        found = with_columns(frame, *(v.alias(n) for n, v in self.values.items()))
        if self.spread:
            codes = compiler.run.data.codes
            whole: list[pl.Expr] = [pl.lit(0)]  # no keys: one group
            group = codes.packed(frame, keys) if codes.codable(keys) else pl.struct(keys or whole)
            found = with_columns(found, group.alias("__group"))
        added = [found[n] for n in self.values]
        # the case frame's columns are the inputs' (a frame of another grain may have a column
        # of the same name)
        data = compiler.run.data if frame is compiler.run.frames.get(g.CASE) else None
        for name in self.counted:
            column = self.columns.get(name)
            if column and data and _inputs_column(data, column, frame.height):
                hashes = _distinct_hashes(data, column, frame.get_column(column))
                if hashes is not None:
                    kept = found[name].is_not_null().alias("__kept")
                    added[list(self.values).index(name)] = (
                        pl.DataFrame([kept, hashes])
                        .select(pl.when("__kept").then(hashes.name).alias(name))
                        .to_series()
                    )
        for name in self.spread:
            numbers = found[name].cast(pl.Float64)
            parts = self._parts(name, numbers, frame, data)
            mean = self._sum(name, numbers, parts, added, found.get_column("__group"))
            deviation = (numbers - mean).alias(f"{name}_deviation")
            added += [mean.alias(f"{name}_mean"), deviation]
            squares = deviation * deviation
            self._sum(
                f"{name}_squares", squares, exact.grid_parts(squares, f"{name}_squares"), added
            )
        for name in self.summed:
            numbers = found[name].cast(pl.Float64)
            self._sum(name, numbers, self._parts(name, numbers, frame, data), added)
        return frame.with_columns(added)

    def _parts(
        self, name: str, numbers: pl.Series, frame: pl.DataFrame, data: RunData | None
    ) -> tuple[list[pl.Series], pl.Expr] | None:
        """`exact.grid_parts` of a value's `numbers`; of a case column of the inputs (`columns`;
        `data`: the run's, where `frame` is its case frame), its parts kept for the dataset
        (`_grid_parts`), those of the rows a `where` leaves out set to 0 (what a missing value
        adds to a sum): the same integer sums."""
        column = self.columns.get(name)
        if not (column and data and _inputs_column(data, column, len(numbers))):
            return exact.grid_parts(numbers, name)
        source = frame.get_column(column).cast(pl.Float64)
        parts = _grid_parts(data, column, source, name)
        if parts is None:  # a value off the grid: perhaps not one of those summed
            return exact.grid_parts(numbers, name)
        if numbers.null_count() == source.null_count():  # no row left out
            return parts
        columns, total = parts
        kept = numbers.is_not_null().alias("__kept")
        masked = pl.DataFrame([kept, *columns]).select(
            pl.when(pl.col("__kept")).then(pl.col(c.name)).otherwise(0) for c in columns
        )
        return masked.get_columns(), total

    def _sum(
        self,
        name: str,
        numbers: pl.Series,
        parts: tuple[list[pl.Series], pl.Expr] | None,
        added: list[pl.Series],
        group: pl.Series | None = None,
    ) -> pl.Series:
        """`sums[name]`, a group's exact sum of `numbers` (its grid steps `parts` added to
        `added`, or `numbers` themselves where `exact.exact_sum` must read them: `parts` None).
        With `group`, each row's group's exact mean of `numbers` instead (for a `cv`)."""
        columns, total = parts or ([], exact.exact_sum(pl.col(name).cast(pl.Float64)))
        self.orderless = self.orderless and parts is not None
        if group is not None:
            rows = pl.DataFrame([group, numbers.alias(name), *columns]).lazy()
            means = rows.group_by("__group").agg(
                exact.mean_of(total, pl.col(name).count()).alias("__mean")
            )
            if group.dtype == pl.UInt64 and not group.has_nulls():
                # order-free integer sums streamed, as in `keys.group_rows`
                found = (
                    means.collect(engine="streaming")
                    if parts is not None
                    else means.collect(engine="in-memory")
                )
                return _by_code(found, group)
            joined = rows.select("__group").join(
                means, on="__group", how="left", nulls_equal=True, maintain_order="left"
            )
            return joined.collect(engine="in-memory").get_column("__mean")
        self.sums[name] = total
        added += columns
        if parts is None and name not in self.values:  # a `cv`'s squares, read by `exact_sum`
            added.append(numbers.alias(name))
        return numbers


def _inputs_column(data: RunData, column: str, rows: int) -> bool:
    """Whether `column` of a case frame of `rows` rows is a case column of the inputs, at the
    inputs' cases in their order (not a part of them: a re-run of the changed cases alone,
    `engine.whatif`). Its values are then the dataset's in any policy: no definition writes a
    case column of the inputs (the loader keeps only the contract's fields, and a core field
    redeclared is refused, E104)."""
    return column in case_columns(data) and rows == count(data)


def _grid_parts(
    data: RunData, column: str, numbers: pl.Series, name: str
) -> tuple[list[pl.Series], pl.Expr] | None:
    """`exact.grid_parts` of a case column of the inputs (`_inputs_column`), made once per
    dataset (`RunData.grid_parts`): Xuancheng 2024 sums `total_cost` by group (`cv`), by
    hospital and, of the grouped cases, over all: 10-25 ms a sum at 1M cases."""
    key = (column, name)
    if key not in data.grid_parts:
        data.grid_parts[key] = exact.grid_parts(numbers, name)
    return data.grid_parts[key]


def _distinct_hashes(data: RunData, column: str, texts: pl.Series) -> pl.Series | None:
    """The hashes of a text case column of the inputs (`_inputs_column`), made once per
    dataset (`RunData.distinct_hashes`), where they tell its texts apart — as many different
    hashes as different texts over the whole column, so over any of its rows too: a count of
    different values is then the same on the hashes, five times faster than on the texts
    (`distinct(person_id)` by hospital, 1M cases: 45 against 225 ms). None where two texts
    share a hash (the texts are counted) or the column is not text."""
    if column not in data.distinct_hashes:
        hashes = None
        if texts.dtype == pl.String:
            found = texts.hash().alias("__hash")
            present = texts.is_not_null()
            if found.filter(present).n_unique() == texts.drop_nulls().n_unique():
                hashes = found
        data.distinct_hashes[column] = hashes
    return data.distinct_hashes[column]


def _tally(name: str) -> pl.Expr:
    """A group's tally (`RowValues.tallied`): on one row per group, that row's."""
    return pl.col(name).sum().cast(pl.Float64)


@dataclass
class _Tallies:
    """Per packed code (an index below `space`) that some row has (`occupied`), the tallies of
    a group-by's rows (`RowValues.tallied`)."""

    #: each row's packed code
    index: np.ndarray
    space: int
    occupied: np.ndarray
    #: per tally, its value per occupied code
    given: dict[str, pl.Series]

    @classmethod
    def of(cls, index: np.ndarray, space: int) -> _Tallies:
        rows = np.bincount(index, minlength=space)
        occupied = np.flatnonzero(rows)
        return cls(index, space, occupied, {"__rows": pl.Series(rows[occupied])})

    def count(self, name: str, taken: pl.Series) -> None:
        """How many rows of each code `taken` holds for."""
        held = taken.fill_null(False)
        if held.all():
            self.given[name] = self.given["__rows"]
            return
        index = self.index[held.to_numpy()]
        self.given[name] = pl.Series(np.bincount(index, minlength=self.space)[self.occupied])

    def summed(self, parts: list[pl.Series]) -> None:
        """Each code's integer sums of the grid parts `parts` (`exact.grid_parts`)."""
        for part in parts:
            sums = exact.group_sums(self.index, self.space, part.to_numpy())
            self.given[part.name] = pl.Series(sums[self.occupied])

    def frame(self) -> pl.DataFrame:
        """One row per occupied code: `__code` and every tally."""
        code = pl.Series("__code", self.occupied.astype(np.uint64))
        return pl.DataFrame([code, *(v.alias(n) for n, v in self.given.items())])

    def read(self, value: pl.Expr) -> pl.Series:
        """`value`, an aggregate of the tallies, per occupied code."""
        found = self.frame().lazy().group_by("__code", maintain_order=True).agg(value)
        return found.collect(engine="in-memory").to_series(1)

    def squares(self, numbers: pl.Series, means: pl.Series) -> pl.Series:
        """Each value's squared deviation from its code's mean (`means`: one per occupied
        code), 0 for a missing value (what it adds to a sum): the doubles a polars column
        gives, by numpy (a polars gather and product cost twice as much)."""
        dense = np.full(self.space, np.nan)
        dense[self.occupied] = means.to_numpy()  # NaN for a mean of no value: no row has one
        deviation = numbers.to_numpy() - dense[self.index]
        squares = np.multiply(deviation, deviation, out=deviation)
        if numbers.has_nulls():
            squares[numbers.is_null().to_numpy()] = 0.0
        return pl.Series(squares)


def _by_code(means: pl.DataFrame, group: pl.Series) -> pl.Series:
    """Each row's group mean, the groups' packed codes (`keys.KeyCodes.packed`) indexing a
    dense array where they span few enough values (a third cheaper than a join on the code at
    a million rows), else joined on the code."""
    codes = means.get_column("__group")
    space = int(codes.max() or 0) + 1  # type: ignore[arg-type]
    if space > min(keys_mod.DENSE_LIMIT, 4 * len(group)):
        found = group.to_frame().join(means, on="__group", how="left", maintain_order="left")
        return found.get_column("__mean")
    dense = pl.repeat(None, space, dtype=pl.Float64, eager=True)
    return dense.scatter(codes.cast(pl.Int64), means.get_column("__mean")).gather(group)


def _ready(expr: pl.Expr) -> Reduced:
    return lambda: expr


def _reads_rows(node: Any) -> bool:
    """Whether an expression reads a value of its rows, not only constants (the run's values
    and the budget's read as constants: kept as they were)."""
    return any(
        isinstance(n, ir.Ref | ir.Current)
        or (isinstance(n, ir.FieldRef) and n.table not in ("run", "budget"))
        for n in ir.walk(node)
    )


def _fill_empty(fn: str, value: Any) -> Any:
    if value is None and fn in ZERO_WHEN_EMPTY:
        return 0.0
    return value


def aggregates_in(node: Any) -> Any:
    """The aggregates in an expression, or a list of them (not looking inside them)."""
    if isinstance(node, ir.Aggregate):
        yield node
    elif isinstance(node, ir.Model):
        for name in ir.field_names(type(node)):
            yield from aggregates_in(getattr(node, name))
    elif isinstance(node, list):
        for item in node:
            yield from aggregates_in(item)
