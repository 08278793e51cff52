"""The DuckDB backend (嵌入式、可溢写磁盘): an embedded database in the process, with a memory limit
and a folder to spill to, so that a province's cases settle on one machine whatever their size."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import cast

import duckdb
import polars as pl
from sqlglot import exp

from engine.plan.sql import build as b


class DuckDB:
    """A DuckDB connection the SQL plan runs on (`engine.plan.sql.database.Database`)."""

    name = "duckdb"
    dialect = "duckdb"
    big_integer = "HUGEINT"
    ln = "LN"  # std::log: the C library's, as polars'
    #: steps stay views, up to this many deep (`Database.lazy`)
    lazy = 24

    def __init__(
        self,
        memory_limit: str | None = None,
        spill: Path | None = None,
        threads: int | None = None,
        cases_on_demand: bool = False,
    ) -> None:
        #: a stage's case frame read back only when read (`engine.plan.sql.results.OnDemand`)
        self.cases_on_demand = cases_on_demand
        self._spill = (
            tempfile.TemporaryDirectory(prefix="drgpolicy-duckdb-") if spill is None else None
        )
        config: dict[str, str | bool | int | float | list[str]] = {
            "temp_directory": str(spill or self._spill.name),  # type: ignore[union-attr]
            "preserve_insertion_order": "false",
        }
        if memory_limit:
            config["memory_limit"] = memory_limit
        if threads:
            config["threads"] = str(threads)
        self.con = duckdb.connect(":memory:", config=config)
        self.version = duckdb.__version__
        self._kinds: dict[str, str] = {}
        self._open = True

    def register(self, name: str, frame: pl.DataFrame) -> None:
        self.con.register(name, frame.to_arrow())

    def sql(self, tree: exp.Expression) -> str:
        return tree.sql(dialect=self.dialect)

    def create(self, name: str, query: exp.Select) -> list[str]:
        create = exp.Create(this=b.table(name), kind="VIEW", expression=query)
        self.con.execute(self.sql(create))
        self._kinds[name] = "VIEW"
        return list(query.named_selects)

    def keep(self, name: str) -> str:
        """The view's rows in a table of the same name (the views made on it read the table)."""
        computed = f"{name}__computed"
        query = exp.select(exp.Star()).from_(b.table(name))
        create = exp.Create(this=b.table(computed), kind="TABLE", expression=query)
        self.con.execute(self.sql(create))
        self.con.execute(self.sql(exp.Drop(tables=[b.table(name)], kind="VIEW")))
        rename = exp.Alter(
            this=b.table(computed), kind="TABLE", actions=[exp.AlterRename(this=b.table(name))]
        )
        self.con.execute(self.sql(rename))
        self._kinds[name] = "TABLE"
        return name

    def drop(self, name: str) -> None:
        kind = self._kinds.pop(name, None)
        if kind is not None:
            self.con.execute(self.sql(exp.Drop(tables=[b.table(name)], kind=kind, exists=True)))

    def execute(self, statement: exp.Expression) -> None:
        """Run a statement that returns no rows (a `COPY … TO` file)."""
        self.con.execute(self.sql(statement))

    @property
    def is_open(self) -> bool:
        return self._open

    def fetch(self, query: exp.Select) -> pl.DataFrame:
        if not self._open:
            raise RuntimeError(
                "the DuckDB database is closed: a settlement's case frames are read from it on "
                "demand (cases_on_demand), so read them before closing it"
            )
        table = self.con.sql(self.sql(query)).to_arrow_table()
        return cast(pl.DataFrame, pl.from_arrow(table))

    def close(self) -> None:
        self._open = False
        self.con.close()
        if self._spill is not None:
            self._spill.cleanup()
