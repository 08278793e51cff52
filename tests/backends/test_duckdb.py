"""The conformance suite on DuckDB: every shipped policy on the sample, every example, generated
datasets and generated (mutated) policies give the polars plan's `<stage>/*.csv` byte for byte."""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.inputs.previous import Previous
from engine.inputs.rundata import Period
from engine.plan.sql.duckdb_runner import DuckDB
from engine.run.examples import example_files
from engine.run.outputs import write_outputs
from engine.run.settle import load_data, load_policy, settle
from policy_dsl import ir
from policy_dsl.check.indicators import PREVIOUS
from tests.backends.conformance import example_on, same_outputs
from tests.conftest import POLICIES, SAMPLE, shipped_policies
from tests.dsl.test_fuzz_policies import GENTLE, checked_clean, mutant
from tests.engine.datasets import datasets, write_dataset

SHIPPED = shipped_policies()
LOADED = {path: load_policy(path) for path in SHIPPED}
SLOW = settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_shipped_policy_settles_the_sample_as_polars_does(path: Path) -> None:
    assert same_outputs(LOADED[path], SAMPLE, "2024", DuckDB) is None


def growth_rated(path: Path) -> bool:
    """Whether the policy has an indicator that reads a previous run (`previous.cmi`)."""
    monitoring = LOADED[path].monitoring
    return monitoring is not None and any(
        isinstance(node, ir.FieldRef) and node.table == PREVIOUS
        for definition in monitoring.definitions
        for node in ir.walk(definition.expr)
    )


@pytest.mark.parametrize(
    "path", [p for p in SHIPPED if growth_rated(p)], ids=lambda p: f"{p.parent.name}/{p.stem}"
)
def test_growth_rates_read_the_previous_run_as_polars_does(path: Path, tmp_path: Path) -> None:
    """`settle --previous`: the second quarter's indicators read the first quarter's run — on
    the settle command's DuckDB, whose cases stay in the database, in the database (the previous
    run's values a small table there, brought by key)."""
    policy = LOADED[path]
    inputs = load_data(SAMPLE, policy)
    write_outputs(settle(policy, inputs, Period.parse("2024-Q1")), tmp_path / "q1")
    previous = Previous.read(tmp_path / "q1", policy.city)
    second = settle(policy, inputs, Period.parse("2024-Q2"), previous=previous)
    rates = second.indicators().filter(pl.col("indicator") == "case_growth")
    assert rates["value"].drop_nulls().len() > 1  # read at several keys
    in_database = partial(DuckDB, cases_on_demand=True)
    assert same_outputs(policy, SAMPLE, "2024-Q2", in_database, previous=previous) is None


@pytest.mark.parametrize(
    "path", example_files(POLICIES), ids=lambda p: f"{p.parent.parent.name}/{p.stem}"
)
def test_every_example_passes_and_equals_polars(path: Path) -> None:
    assert example_on(path, DuckDB) is None


@SLOW
@given(data=datasets(), path=st.sampled_from(SHIPPED))
def test_generated_data_settles_as_polars_does(data: dict[str, object], path: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="drgpolicy-duckdb-") as folder:
        write_dataset(data, Path(folder))  # type: ignore[arg-type]
        assert same_outputs(LOADED[path], Path(folder), "2024", DuckDB) is None


@SLOW
@given(st.data())
def test_generated_policies_settle_as_polars_does(sample_cut: Path, data: st.DataObject) -> None:
    path, text = mutant(data, GENTLE)
    policy = checked_clean(path, text)
    if policy is None:
        return
    assert same_outputs(policy, sample_cut, "2024", DuckDB) is None
