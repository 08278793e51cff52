"""The conformance suite on DuckDB: every shipped policy on the sample, every example, generated
datasets and generated (mutated) policies give the polars plan's `<stage>/*.csv` byte for byte."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.plan.sql.duckdb_runner import DuckDB
from engine.run.examples import example_files
from engine.run.settle import load_policy
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
