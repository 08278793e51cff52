"""Backends of the batch plan (计算后端): `polars` (the default, in memory), `duckdb` (embedded, out
of core) and `spark` (a cluster, or `local[*]`). A SQL backend runs the policy's stages as SQL
(`engine.plan.sql.plan`) and reads each stage back as the polars plan would have left it, so the
outputs, the manifest and the what-if are written by the same code whichever backend ran."""

from __future__ import annotations

import re
from collections.abc import Mapping, Set
from dataclasses import dataclass
from importlib.util import find_spec
from typing import Any

from engine.inputs.previous import Previous
from engine.inputs.rundata import RunData
from engine.plan.polars.batch import Settings
from engine.plan.polars.frames import StageResult
from engine.plan.sql.database import Database
from engine.plan.sql.monitoring import SqlMonitoringRun
from engine.plan.sql.plan import Frame, SqlStage, SqlStageRun, Tables, plain
from engine.plan.sql.refuse import check_lowerable
from engine.plan.sql.results import to_result
from policy_dsl import ir
from policy_dsl.errors import PolicyError

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
        if find_spec("pyspark") is None:
            raise PolicyError(
                "--backend spark needs pyspark (and Java 17), which this installation lacks: "
                "pip install 'drgpolicy[spark]'"
            )
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
        skip: Mapping[str, Set[str]] | None = None,
    ) -> None:
        check_lowerable(policy, stages, db.name)
        self.policy = policy
        self.settings = settings
        self.db = db
        #: per stage, the definitions left out (`engine.run.settle.left_out`)
        self.skip = skip or {}
        self.tables = Tables.register(db, data)
        self.done: dict[str, SqlStage] = {}

    @property
    def cases_on_demand(self) -> bool:
        """Whether the stages' case tables stay in the database until something reads them
        (`BackendOptions.cases_on_demand`: the settle command on DuckDB)."""
        return bool(getattr(self.db, "cases_on_demand", False))

    @property
    def cases_in_database(self) -> bool:
        """Whether the case tables are in the database, unread, and can be read there (it is
        open): the monitoring stage then runs there too (`monitoring`)."""
        return self.cases_on_demand and bool(getattr(self.db, "is_open", False))

    def run(self, stage: ir.Stage, results: Mapping[str, StageResult]) -> StageResult:
        earlier = self._earlier(results)
        stage_run = SqlStageRun(self.policy, stage, self.tables, earlier, self.settings)
        stage_run.skip = self.skip.get(stage.name, frozenset())
        sql_stage = stage_run.run()
        self.done[stage.name] = sql_stage
        return to_result(self.db, self.policy, sql_stage, self.cases_on_demand)

    def monitoring(
        self,
        results: Mapping[str, StageResult],
        previous: Previous | None,
        only: Set[str] | None = None,
    ) -> StageResult:
        """The policy's monitoring stage run in the database (`engine.plan.sql.monitoring`) over
        the stages `results` holds (`settled` among them: the last settling stage's tables);
        read back but its case table, which a hundred million cases would make the run's
        largest frame (`results.OnDemand`: read only if something reads it)."""
        assert self.policy.monitoring is not None
        check_lowerable(self.policy, [self.policy.monitoring], self.db.name)
        earlier = self._earlier(results)
        run = SqlMonitoringRun(self.policy, self.tables, earlier, self.settings, previous, only)
        return to_result(self.db, self.policy, run.run(), on_demand=True)

    def _earlier(self, results: Mapping[str, StageResult]) -> dict[str, SqlStage]:
        """The stages a stage reads, by the names it reads them by (`settled`: the last settling
        stage's): the database's tables of each stage run here, others registered once."""
        self.tables.results = dict(results)
        return {
            name: self.done.get(result.stage.name) or self._register(result)
            for name, result in results.items()
        }

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
