"""The cases a re-settlement changes (逐案增量): when a threshold's step moves a few cases to
another class, the per-case definitions downstream of the class — the class's points, the
adjusted points, the coefficient, the settled points — change on those cases alone. Such a
definition, row-wise and reading nothing else that changed, is evaluated again only on the cases
where what it reads differs from the earlier run; every other case keeps the earlier run's
value, which is the value a full evaluation gives (the same inputs, row for row).

Row-wise means no aggregate, rank or allocation (each reads other rows) and no classification
(its fall-through counts are of every case: `engine.plan.polars.fallthrough`). A definition
whose changed cases are more than `MOST` of all is evaluated on every case.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable

import polars as pl

from policy_dsl import ir

#: Above this share of the cases changed, a definition is evaluated on every case.
MOST = 0.25


def row_wise(definition: ir.Definition) -> bool:
    """Whether a definition's value on a case reads that case's row alone (and values of
    coarser grains), and it counts nothing over the cases."""
    across = ir.Aggregate | ir.RankIR | ir.Allocate | ir.Classify
    return not any(isinstance(node, across) for node in ir.walk(definition.expr))


class ChangedCases:
    """Per per-case definition evaluated again, the cases whose value differs from `before`
    (the earlier run's case frame, in the same case order)."""

    def __init__(self, before: pl.DataFrame) -> None:
        self.before = before
        self.changed: dict[str, pl.Series] = {}

    def record(self, name: str, cases: pl.DataFrame) -> None:
        """Note where `name`'s values in `cases` differ from the earlier run's."""
        if name in self.before.columns and name in cases.columns:
            self.changed[name] = differing(cases[name], self.before[name])

    def rows(self, reads: Iterable[str]) -> pl.Series | None:
        """The cases where any of `reads` changed (a boolean mask), or None where one of them
        is not known to the case or too many cases changed: evaluate every case."""
        names = list(reads)
        if not names or any(name not in self.changed for name in names):
            return None
        mask = functools.reduce(operator.or_, (self.changed[name] for name in names))
        return mask if mask.sum() <= MOST * len(mask) else None

    def merged(
        self, name: str, cases: pl.DataFrame, mask: pl.Series, part: pl.Series
    ) -> pl.DataFrame:
        """`cases` with `name` the earlier run's values, `part`'s on the rows of `mask`."""
        before = self.before[name]
        values = before.clone()
        if len(part):
            values = values.scatter(mask.arg_true(), part.cast(before.dtype))
        return cases.with_columns(values.alias(name))


def differing(after: pl.Series, before: pl.Series) -> pl.Series:
    """Where two columns differ, a missing value and the sign of a zero included."""
    a, b = pl.col("after"), pl.col("before")
    differs = a.ne_missing(b)
    if after.dtype.is_float() and before.dtype.is_float():
        differs = differs | ((a == 0) & (b == 0) & (1 / a != 1 / b)).fill_null(False)
    return (
        pl.DataFrame([after.alias("after"), before.alias("before")])
        .lazy()
        .select(differs)
        .collect()
        .to_series()
    )
