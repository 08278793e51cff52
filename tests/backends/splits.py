"""A frame split by `allocate` on a SQL backend (`engine.plan.sql.allocation`) outside a policy:
the frame a table of the database, each value the split adds a view on it — the steps a stage's
definition gives it — and every statement kept, to see what the database was asked."""

from __future__ import annotations

import math
from collections.abc import Sequence

import polars as pl
from sqlglot import exp

from engine.plan.money import allocate
from engine.plan.sql import allocation
from engine.plan.sql import build as b
from engine.plan.sql.database import Database

#: The row keys of a split's frame.
KEY = "case_id"


class Table:
    """A frame as the table a split runs on (`allocation.Steps`)."""

    def __init__(self, db: Database, frame: pl.DataFrame, name: str) -> None:
        self.db, self.name, self.made = db, name, 0
        self.current = name
        self.statements: list[exp.Select] = []
        db.register(name, frame)

    @property
    def big_integer(self) -> str:
        return self.db.big_integer

    def table(self) -> str:
        return self.current

    def materialize(self, node: b.Node) -> str:
        self.made += 1
        view, column = f"{self.name}_{self.made}", f"__t{self.made}"
        query = exp.select(exp.Star(), b.alias(node, column)).from_(b.table(self.current))
        self.statements.append(query)
        self.db.create(view, query)
        self.current = view
        return column

    def fetch(self, query: exp.Select) -> pl.DataFrame:
        self.statements.append(query)
        return self.db.fetch(query)


def split_on(
    db: Database, frame: pl.DataFrame, by: Sequence[str], name: str = "split"
) -> tuple[list[float | None], Table]:
    """Each row's part of `t` by `w` (in the order of `KEY`), and the table it ran on."""
    table = Table(db, frame, name)
    node = allocation.split(table, "t", "w", by, [KEY])
    query = exp.select(b.col(KEY), b.alias(node, "p")).from_(b.table(table.table()))
    table.statements.append(query)
    found = db.fetch(query.order_by(b.ordered(b.col(KEY))))
    return found["p"].to_list(), table


def windows(table: Table) -> list[exp.Window]:
    """The windows of every statement the split ran."""
    return [w for s in table.statements for w in s.find_all(exp.Window)]


def case_frame(
    weights: list[float | None], total: float, groups: list[int] | None = None
) -> pl.DataFrame:
    """Rows `c00`, `c01`… with these weights, one total and their groups (default one)."""
    size = len(weights)
    return pl.DataFrame(
        {
            KEY: [f"c{i:02}" for i in range(size)],
            "g": groups or [0] * size,
            "w": weights,
            "t": [total] * size,
        },
        schema={KEY: pl.String, "g": pl.Int64, "w": pl.Float64, "t": pl.Float64},
    )


def in_fen(parts: list[float | None]) -> list[int | str | None]:
    """Each part in fen (a split not made: NaN), as the outputs write it: the polars path
    divides fen by 100 as × 0.01, SQL as ÷ 100, a last bit apart."""
    return [None if p is None else "NaN" if math.isnan(p) else round(p * 100) for p in parts]


def expected(frame: pl.DataFrame, by: list[str]) -> list[int | str | None]:
    return in_fen(allocate(frame, total="t", weight="w", by=by, out="p")["p"].to_list())
