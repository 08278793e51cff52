"""Backends of the batch plan (计算后端): `polars` (the default, in memory), `duckdb` (embedded, out
of core) and `spark` (a cluster, or `local[*]`). A SQL backend runs the policy's stages as SQL
(`engine.plan.sql.plan`) and reads each stage back as the polars plan would have left it, so the
outputs, the manifest and the what-if are written by the same code whichever backend ran."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.inputs.rundata import RunData
from engine.plan.polars.batch import Settings
from engine.plan.polars.frames import StageResult
from engine.plan.sql.database import Database
from engine.plan.sql.plan import Frame, SqlStage, SqlStageRun, Tables, plain
from engine.plan.sql.refuse import check_lowerable
from engine.plan.sql.results import to_result
from policy_dsl import ir

BACKENDS = ("polars", "duckdb", "spark")

_SIZE = re.compile(r"(\d+(?:\.\d+)?) ?([kmgt])(i?)b?", re.IGNORECASE)


def memory_bytes(size: str) -> int:
    """A memory size as DuckDB reads one (`200MB`, `1.5GB`, `8g`: powers of 1000; `12GiB`:
    powers of 1024), in bytes; a ValueError saying what is valid otherwise."""
    found = _SIZE.fullmatch(size.strip())
    if found is None:
        raise ValueError(f"{size!r} is not a memory size: a number and a unit, e.g. 200MB, 8GB")
    number, unit, binary = found.groups()
    power = "kmgt".index(unit.lower()) + 1
    return int(float(number) * (1024 if binary else 1000) ** power)


@dataclass(frozen=True)
class BackendOptions:
    """How to open a SQL backend: DuckDB's memory limit (`200MB`, `8GB`) or Spark's driver
    memory (its whole heap in local mode), Spark's master URL (`local[*]`, `spark://host:7077`)
    or an existing SparkSession (the Python API)."""

    memory_limit: str | None = None
    #: DuckDB: a stage's case frame read back only when something reads it
    #: (`results.OnDemand`): the settle command, whose outputs the database writes
    cases_on_demand: bool = False
    spark_master: str | None = None
    spark_session: Any = None


def open_database(name: str, options: BackendOptions | None = None) -> Database:
    """A connection to the named SQL backend."""
    options = options or BackendOptions()
    if name == "duckdb":
        from engine.plan.sql.duckdb_runner import DuckDB

        return DuckDB(memory_limit=options.memory_limit, cases_on_demand=options.cases_on_demand)
    if name == "spark":
        from engine.plan.sql.spark_runner import Spark

        return Spark(
            master=options.spark_master,
            session=options.spark_session,
            memory=None if options.memory_limit is None else memory_bytes(options.memory_limit),
        )
    raise ValueError(f"backend {name!r}: one of {', '.join(BACKENDS)}")


class SqlStages:
    """A policy's stages run on a database, each read back as a `StageResult`."""

    def __init__(
        self,
        policy: ir.Policy,
        stages: list[ir.Stage],
        data: RunData,
        settings: Settings,
        db: Database,
    ) -> None:
        check_lowerable(policy, stages, db.name)
        self.policy = policy
        self.settings = settings
        self.db = db
        self.tables = Tables.register(db, data)
        self.done: dict[str, SqlStage] = {}

    def run(self, stage: ir.Stage, results: Mapping[str, StageResult]) -> StageResult:
        earlier = {
            name: self.done.get(name) or self._register(result) for name, result in results.items()
        }
        self.tables.results = dict(results)
        sql_stage = SqlStageRun(self.policy, stage, self.tables, earlier, self.settings).run()
        self.done[stage.name] = sql_stage
        return to_result(
            self.db, self.policy, sql_stage, getattr(self.db, "cases_on_demand", False)
        )

    def _register(self, result: StageResult) -> SqlStage:
        """A stage taken from earlier runs (`engine.inputs.earlier`), made tables of the
        database."""
        frames = {}
        for grain, frame in result.frames.items():
            name = self.tables.name("earlier")
            kept = plain(frame)
            self.db.register(name, kept)
            frames[grain] = Frame(name, kept.columns)
        sql_stage = SqlStage(result.stage, frames, dict(result.home), result.period_keys)
        self.done[result.stage.name] = sql_stage
        return sql_stage
