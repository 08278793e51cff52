"""The accepted cases as a table of the DuckDB database that checked them (`engine.inputs.stored.
CaseStore`): the run's SQL plan reads them there; counts and distinct values are asked of the
database; the rows come back only when something reads them all."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import polars as pl
from sqlglot import exp

from engine.plan.sql import build as b
from engine.plan.sql.duckdb_runner import DuckDB

#: Period views made in this process: each has a name of its own.
_VIEWS = itertools.count(1)


@dataclass
class DuckCases:
    """Cases in a table (or view) of a DuckDB database, with their polars types; `read` makes
    the whole frame when it is not this table's rows in key order (a period's: `RunData.build`
    over the inputs' frame, its codes with it)."""

    db: DuckDB
    table: str
    types: dict[str, pl.DataType]
    read: Callable[[Sequence[str] | None], pl.DataFrame] | None = None
    #: what was asked of the table (its rows never change): its count, each set of columns'
    #: distinct rows — asked once, not once per reader (a scan of the cases each)
    asked: dict[tuple[str, ...], pl.DataFrame] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def columns(self) -> list[str]:
        return list(self.types)

    def frame(self, columns: Sequence[str] | None = None) -> pl.DataFrame:
        if self.read is not None:
            return self.read(columns)
        kept = [c for c in self.columns if columns is None or c in columns]
        query = exp.select(*map(b.col, kept)).from_(b.table(self.table))
        found = self.db.fetch(query.order_by(b.ordered(b.col("case_id"))))
        return found.cast(pl.Schema({c: self.types[c] for c in kept}))

    def count(self) -> int:
        if () not in self.asked:
            query = exp.select(exp.Count(this=exp.Star())).from_(b.table(self.table))
            self.asked[()] = self.db.fetch(query)
        return int(self.asked[()].item())

    def distinct(self, columns: Sequence[str]) -> pl.DataFrame:
        if tuple(columns) not in self.asked:
            query = exp.select(*map(b.col, columns)).from_(b.table(self.table)).distinct()
            found = self.db.fetch(query).cast(pl.Schema({c: self.types[c] for c in columns}))
            self.asked[tuple(columns)] = found
        return self.asked[tuple(columns)]

    def in_period(
        self,
        months: Sequence[str],
        hospitals: pl.DataFrame,
        read: Callable[[Sequence[str] | None], pl.DataFrame],
    ) -> DuckCases:
        from engine.plan.sql.plan import plain

        number = next(_VIEWS)
        attributes = ("level", "tier")
        joined = f"__hospitals_of_cases{number}"
        kept = plain(hospitals.select("hospital_id", *attributes))
        self.db.register(joined, kept)
        case_columns = [c for c in self.columns if c not in attributes]
        query = (
            exp.select(*(b.col(c, "c") for c in case_columns), *(b.col(c, "h") for c in attributes))
            .from_(b.table(self.table, "c"))
            .join(
                b.table(joined, "h"),
                on=b.compare("==", b.col("hospital_id", "c"), b.col("hospital_id", "h")),
                join_type="left",
            )
            .where(b.in_(b.col("month", "c"), [b.text(m) for m in months]))
        )
        name = f"__cases_in_period{number}"
        self.db.create(name, query)
        types = {c: self.types[c] for c in case_columns} | dict(kept.select(attributes).schema)
        return DuckCases(self.db, name, types, read)
