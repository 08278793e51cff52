"""The Spark backend (集群): the same SQL plan rendered as Spark SQL, on the caller's
SparkSession (a cluster) or a local one (`local[*]`, or the master URL given). A step is a
temporary view; the plan keeps one (`Database.lazy`) as a locally checkpointed DataFrame when two
steps read it or views stack deep, so that a long policy does not grow one query plan of every
step before it, and a stage runs far fewer Spark jobs than one per definition. The session runs
with ANSI mode off (the plan guards its divisions and casts itself) and case-sensitive names."""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable
from typing import Any, cast

import polars as pl
from sqlglot import exp


class _StopSaidOnce(logging.Filter):
    """Drops the traceback py4j logs (`logging.exception`, on the root logger) when Ctrl-C or
    SIGTERM (`engine.cli`) stops the run while it waits for the JVM: the run says the stop
    itself (`interrupted`, `terminated`), and the JVM ends with it. On the root logger only
    while a session of our own is open: a caller's session, and the caller's process after the
    run, keep their logging as it was."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], KeyboardInterrupt))


_STOP_SAID_ONCE = _StopSaidOnce()


def _keep_sigint(caller: Any) -> None:
    """Put back a SIGINT handler the caller set (drgpolicy's CLI: it says `interrupted`, and the
    run's `close` stops the session) where pyspark's SparkContext replaced it with its own,
    which cancels the jobs from inside the signal: a py4j call made while py4j reads the JVM's
    answer, which fails (`reentrant call`) and logs its traceback. Python's own handler
    (`default_int_handler`) is left to pyspark."""
    ours = callable(caller) and caller is not signal.default_int_handler
    if ours and signal.getsignal(signal.SIGINT) is not caller:
        signal.signal(signal.SIGINT, caller)


class Spark:
    """A SparkSession the SQL plan runs on (`engine.plan.sql.database.Database`)."""

    name = "spark"
    dialect = "spark"
    big_integer = "DECIMAL(38, 0)"
    #: Java's Math.log may differ from the C library's log in the last bit: the language's
    #: `ln` runs as a Python UDF over `math.log`, the C library's, as polars' `log`
    ln = "drgpolicy_ln"
    #: steps stay views, up to this many deep (`Database.lazy`); a view made on a Spark view
    #: holds that view's plan, not its name, so `keep` makes again the views that read it
    lazy = 24

    def __init__(
        self, master: str | None = None, session: Any = None, memory: int | None = None
    ) -> None:
        """`memory`: the driver's, in bytes (`driver_memory`; default 4 GiB). In local mode
        the driver's JVM holds every row Spark keeps — the cases the run registers and each
        step's checkpoint: 10M cases of Xuancheng 2024 need more than 4 GiB. The stages' tables
        come back to the driver whole (`fetch`, to be written as polars writes them): the
        driver's limit on a result (`spark.driver.maxResultSize`, 1 GiB by default) is lifted,
        or 10M cases fail at their first read-back."""
        from pyspark.sql import SparkSession

        self._own = session is None
        if session is None:
            logging.getLogger().addFilter(_STOP_SAID_ONCE)  # once: a filter is not added twice
            caller_sigint = signal.getsignal(signal.SIGINT)
            session = (
                SparkSession.builder.master(master or "local[*]")
                .appName("drgpolicy")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.memory", driver_memory(memory))
                .config("spark.driver.maxResultSize", "0")
                .config("spark.pyspark.python", sys.executable)
                .getOrCreate()
            )
            _keep_sigint(caller_sigint)
        session.sparkContext.setLogLevel("ERROR")
        session.conf.set("spark.sql.ansi.enabled", "false")
        session.conf.set("spark.sql.caseSensitive", "true")
        session.conf.set("spark.sql.session.timeZone", "UTC")
        session.udf.register("drgpolicy_ln", _c_log(), "double")
        self.spark = session
        self.version = str(session.version)
        self._frames: dict[str, Any] = {}
        #: the views not kept, in the order made: each one's query, to make it again on the
        #: checkpoint of a view it reads (`keep`)
        self._queries: dict[str, exp.Select] = {}

    def _view(self, name: str, found: Any) -> None:
        """A Spark frame named so that queries read it."""
        found.createOrReplaceTempView(name)
        self._frames[name] = found

    def register(self, name: str, frame: pl.DataFrame) -> None:
        self._view(name, self.spark.createDataFrame(frame.to_arrow()))

    def create(self, name: str, query: exp.Select) -> list[str]:
        self._view(name, self.spark.sql(query.sql(dialect=self.dialect)))
        self._queries[name] = query
        return list(query.named_selects)

    def keep(self, name: str) -> str:
        """Compute the view's rows once (a local checkpoint), cutting its lineage; the views
        made on it (and on those, in the order made) are made again from their queries, so that
        they read the checkpoint rather than compute the view again."""
        self._view(name, self._frames[name].localCheckpoint())
        self._queries.pop(name, None)
        changed = {name}
        for view, query in self._queries.items():
            if any(t.name in changed for t in query.find_all(exp.Table)):
                self.create(view, query)  # the same key: the dict keeps its size and order
                changed.add(view)
        return name

    def drop(self, name: str) -> None:
        self._queries.pop(name, None)
        found = self._frames.pop(name, None)
        if found is not None:
            self.spark.catalog.dropTempView(name)

    def fetch(self, query: exp.Select) -> pl.DataFrame:
        table = self.spark.sql(query.sql(dialect=self.dialect)).toArrow()
        return cast(pl.DataFrame, pl.from_arrow(table))

    def close(self) -> None:
        for name in list(self._frames):
            self.drop(name)
        if self._own:
            try:
                self.spark.stop()
            finally:
                logging.getLogger().removeFilter(_STOP_SAID_ONCE)


#: The driver's memory when none is given (bytes).
DRIVER_MEMORY = 4 * 2**30


def driver_memory(memory: int | None) -> str:
    """`spark.driver.memory` for a size in bytes: whole MiB, rounded up."""
    return f"{-(-(memory or DRIVER_MEMORY) // 2**20)}m"


def _c_log() -> Callable[[float | None], float | None]:
    """The natural log by the C library (`math.log`), for values above 0: a function made here,
    so that Spark ships its code to the executors, which then need only Python's `math`."""
    import math

    def ln(value: float | None) -> float | None:
        return math.log(value) if value is not None and value > 0 else None

    return ln
