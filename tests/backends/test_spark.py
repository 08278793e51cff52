"""The conformance suite on Spark (local mode, one session for the module: a JVM starts in tens
of seconds): shipped policies, examples and generated datasets give polars' `<stage>/*.csv`
byte for byte. Spark plans each step as a job, so this module settles the 500-case cut of the
sample and one example per city; DuckDB's module runs the whole suite on the same lowering.
Not skipped without Java: CI installs it (`.ci/run`)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from engine.inputs.rundata import Period
from engine.plan.sql import build as b
from engine.plan.sql.spark_runner import Spark
from engine.run.examples import example_files
from engine.run.settle import load_data, load_policy, settle
from tests.backends.conformance import example_on, same_outputs
from tests.backends.splits import case_frame, expected, in_fen, split_on, windows
from tests.conftest import POLICIES, SAMPLE, shipped_policies
from tests.engine.datasets import datasets, write_dataset

SHIPPED = shipped_policies()
LOADED = {path: load_policy(path) for path in SHIPPED}
#: One example per city: the first by name.
EXAMPLES = sorted({p.parent.parent.name: p for p in reversed(example_files(POLICIES))}.values())


class Shared:
    """The module's one session, handed to each run (closing a run keeps the session)."""

    def __init__(self) -> None:
        self.spark = Spark()
        self.spark._own = False

    def __call__(self) -> Spark:
        return self.spark


@pytest.fixture(scope="module")
def spark() -> Iterator[Shared]:
    shared = Shared()
    yield shared
    shared.spark.spark.stop()


def test_a_stage_of_any_size_comes_back_to_the_driver(spark: Shared) -> None:
    """At 10M cases a stage's table is several GiB: under Spark's default limit on what the
    driver collects (1 GiB) the run failed at its first read-back, after 19 minutes."""
    assert spark().spark.conf.get("spark.driver.maxResultSize") == "0"


@pytest.mark.parametrize("by", [[], ["g"]], ids=["whole period", "by group"])
def test_a_split_equals_the_polars_split(spark: Shared, by: list[str]) -> None:
    """Ties (seven equal weights share 2 fen left over; the cut inside a bucket), a zero and a
    missing weight, groups of one row; over the whole period with no window (on Spark a window
    without a partition is one task for every row)."""
    weights = [1.0] * 7 + [0.0, None, 3.0, 2.0, 2.0, 5.0]
    frame = case_frame(weights, 1.0, [0] * 7 + [1] * 4 + [2, 3])
    got, table = split_on(spark(), frame, by, f"split{len(by)}")
    assert in_fen(got) == expected(frame, by)
    assert bool(windows(table)) == bool(by)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_shipped_policy_settles_the_cut_as_polars_does(
    spark: Shared, sample_cut: Path, path: Path
) -> None:
    assert same_outputs(LOADED[path], sample_cut, "2024", spark) is None


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_an_example_of_each_city_passes_and_equals_polars(spark: Shared, path: Path) -> None:
    assert example_on(path, spark) is None


@settings(max_examples=3, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=datasets(), path=st.sampled_from(SHIPPED))
def test_generated_data_settles_as_polars_does(
    spark: Shared, data: dict[str, object], path: Path
) -> None:
    with tempfile.TemporaryDirectory(prefix="drgpolicy-spark-") as folder:
        write_dataset(data, Path(folder))  # type: ignore[arg-type]
        assert same_outputs(LOADED[path], Path(folder), "2024", spark) is None


class Counting(Spark):
    """A Spark on the module's session that counts the views it checkpoints."""

    def __init__(self, shared: Shared) -> None:
        super().__init__(session=shared().spark)
        self.kept: list[str] = []

    def keep(self, name: str) -> str:
        self.kept.append(name)
        return super().keep(name)


def test_steps_stay_views_and_few_are_checkpointed(spark: Shared, sample_cut: Path) -> None:
    """Each checkpoint is a Spark job over the rows: a step is kept only when two steps read it
    or views stack `Spark.lazy` deep (Xuancheng 2024 at 1M: 24 checkpoints for 52 definitions; one
    a definition at least when each is kept), and the outputs stay polars' (the shipped
    policies' test above)."""
    policy = LOADED[POLICIES / "xuancheng" / "2024.policy"]
    database = Counting(spark)
    settle(policy, load_data(sample_cut, policy), Period.parse("2024"), backend=database)
    definitions = sum(len(s.definitions) for s in policy.stages)
    assert 0 < len(database.kept) < definitions * 0.6


def test_a_view_made_on_a_kept_view_reads_its_checkpoint(spark: Shared) -> None:
    """A Spark view holds the plan of the views it reads, not their names: once `a` is kept,
    `b` (made on `a` before) must read `a`'s checkpoint, or every read of `b` computes `a`
    again."""
    database = Counting(spark)
    database.register("rows_t", pl.DataFrame({"x": [1, 2, 3]}))
    database.create("view_a", exp_select("x * 7 AS y", "rows_t"))
    database.create("view_b", exp_select("y + 1 AS z", "view_a"))
    database.create("view_c", exp_select("z", "view_b"))
    database.keep("view_a")
    for view in ("view_b", "view_c"):
        plan = database._frames[view]._jdf.queryExecution().optimizedPlan().toString()
        assert "LogicalRDD" in plan and "* 7" not in plan, plan
    assert database.fetch(exp_select("z", "view_c")).to_series().sort().to_list() == [8, 15, 22]
    for view in ("view_c", "view_b", "view_a", "rows_t"):
        database.drop(view)


def exp_select(column: str, table: str) -> exp.Select:
    return exp.select(column).from_(b.table(table))


@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"])
def test_a_run_stopped_while_spark_settles_says_so_without_a_traceback(
    tmp_path: Path, stop: str
) -> None:
    """Ctrl-C or SIGTERM while the JVM settles a stage. On mend30 `settle --backend spark`
    printed py4j's logged traceback above `interrupted` / `terminated`: `KeyboardInterrupt
    while sending command.`, and on Ctrl-C pyspark's own handler cancelling the jobs from
    inside the signal (`RuntimeError: reentrant call …`). Now: the stop's word and code only,
    the old outputs absent (none were there), nothing beside `--out`, no JVM left."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    argv = [sys.executable, "-m", "engine.cli", "settle", "--backend", "spark"]
    argv += ["--policy", str(POLICIES / "xuancheng" / "2024.policy"), "--data"]
    argv += [str(SAMPLE), "--period", "2024-03", "--out", str(out)]
    process = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert process.stderr is not None
    seen = []
    for line in process.stderr:  # the JVM at work: a stage under way
        seen.append(line)
        if line.startswith("… stage settlement"):
            break
    os.kill(process.pid, getattr(signal, stop))
    _, rest = process.communicate(timeout=300)
    err = "".join(seen) + rest
    word, code = ("interrupted", 130) if stop == "SIGINT" else ("terminated", 143)
    assert process.returncode == code and err.endswith(f"{word}\n"), err
    assert "Traceback" not in err and "ERROR:root" not in err, err
    assert not out.exists() and os.listdir(tmp_path) == []
    for _ in range(300):  # the JVM ends with the run (its driver gone, it shuts down)
        group = subprocess.run(["pgrep", "-g", str(process.pid)], capture_output=True, text=True)
        if group.stdout == "":
            break
        time.sleep(0.1)
    assert group.stdout == "", group.stdout
