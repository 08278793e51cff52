"""What the SQL plan needs of a database (数据库后端): register a polars frame as a table, create a
table from a query, read a query's rows back. DuckDB (`engine.plan.sql.duckdb_runner`) and Spark
(`engine.plan.sql.spark_runner`) implement it; the plan renders each tree in the backend's
dialect."""

from __future__ import annotations

from typing import Protocol

import polars as pl
from sqlglot import exp


class Database(Protocol):
    """A SQL backend the plan runs on."""

    #: the backend's name (`duckdb`, `spark`) and sqlglot dialect
    name: str
    dialect: str
    #: the engine's version, recorded in the manifest
    version: str
    #: the type whose sums are exact for integers up to 2¹²⁶ (HUGEINT, DECIMAL(38, 0))
    big_integer: str
    #: the function giving the C library's natural log, as polars' `log` does (`ln` of the
    #: language): the same bits
    ln: str
    #: 0: each definition's tables are computed when it is done; N: a step stays a view until
    #: two steps read it or N views stack on it (a view made on a view reads it by name), and
    #: one that only projects a computed table stays a view (`SqlStageRun._projects_a_table`)
    lazy: int

    def register(self, name: str, frame: pl.DataFrame) -> None:
        """Make a polars frame a table named `name`."""
        ...

    def create(self, name: str, query: exp.Select) -> list[str]:
        """Create `name`, a view (not computed yet) of `query`'s rows; its column names."""
        ...

    def keep(self, name: str) -> str:
        """Compute view `name` now and keep its rows under its name (returned)."""
        ...

    def drop(self, name: str) -> None:
        """Drop table `name` (a step's table the plan no longer reads)."""
        ...

    def fetch(self, query: exp.Select) -> pl.DataFrame:
        """The rows of `query` as a polars frame."""
        ...

    def close(self) -> None: ...
