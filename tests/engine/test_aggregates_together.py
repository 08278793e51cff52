"""A settling stage's aggregates of the cases computed together: a definition's, in one group-by
with those of the later definitions at the same grain whose inputs are already there
(`batch_windows.aggregate_together`). The stage gives the values the one-at-a-time plan gives,
to the bit, on every shipped policy and generated data; each value is the one a plain polars
group-by of the inputs gives; and the group-bys are fewer."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from bench.simple import handwritten as simple
from engine.inputs.rundata import Period
from engine.plan.polars import batch_windows, keys
from engine.run.settle import Settlement, load_data, load_policy, settle
from policy_dsl import ir
from policy_dsl.check import check
from policy_dsl.loader import policy_from_text, resolve
from policy_dsl.lower import lower
from tests.conftest import shipped_policies
from tests.engine.datasets import datasets, write_dataset

YEAR = Period.parse("2024")
POLICIES = {path: load_policy(path) for path in [*shipped_policies(), simple.POLICY]}

#: Hospital totals added to the simple policy: every kind of aggregate, with and without a
#: `where`, all ready when `hospital_mean` (the stage's first aggregate at the hospital) is
#: defined, so that they join its group-by.
REPORTS = """
report h_cost "费用合计" : money at hospital = sum(total_cost)
report h_cases "病例数" : count at hospital = count(case)
report h_high "高倍率病例数" : count at hospital = count(case where category is high)
report h_bilateral "双侧手术占比" : ratio at hospital = share(case where bilateral)
report h_mean "入组病例均次费用" : money at hospital = mean(total_cost where not ungrouped)
report h_cv "费用变异系数" : ratio at hospital = cv(total_cost)
report h_max "最高费用" : money at hospital = max(total_cost)
report h_min "最低倍率" : ratio at hospital = min(cost_ratio where category is normal)
report h_persons "患者人数" : count at hospital = distinct(person_id)
"""


@contextmanager
def one_at_a_time() -> Iterator[None]:
    """The plan before aggregates were computed together: each definition's own group-by."""
    with mock.patch.object(batch_windows, "aggregate_together", lambda *args: None):
        yield


def _same_stages(together: Settlement, alone: Settlement) -> None:
    assert together.stages.keys() == alone.stages.keys()
    for name, result in together.stages.items():
        other = alone.stages[name]
        assert result.home == other.home
        assert result.frames.keys() == other.frames.keys()
        for grain, frame in result.frames.items():
            assert not [c for c in frame.columns if c.startswith("__kept")]
            columns = sorted(frame.columns)
            assert columns == sorted(other.frames[grain].columns)
            assert_frame_equal(frame.select(columns), other.frames[grain].select(columns))
        assert result.fallthrough.keys() == other.fallthrough.keys()


@pytest.mark.parametrize("path", list(POLICIES), ids=lambda p: f"{p.parent.name}/{p.stem}")
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=datasets())
def test_every_stage_as_one_definition_at_a_time(path: Path, data: dict[str, Any]) -> None:
    policy = POLICIES[path]
    with tempfile.TemporaryDirectory() as folder:
        inputs = load_data(write_dataset(data, Path(folder)), policy)
        together = settle(policy, inputs, YEAR)
        with one_at_a_time():
            alone = settle(policy, inputs, YEAR)
    _same_stages(together, alone)


def _with_reports() -> ir.Policy:
    text = simple.POLICY.read_text(encoding="utf-8") + REPORTS
    return lower(check(resolve(policy_from_text(text, "s/s.policy"), [])))


def _hospital_group_bys(policy: ir.Policy, inputs: Any) -> tuple[Settlement, int]:
    """A settlement, and how many group-bys of the cases by hospital it made."""
    made: list[object] = []
    original = keys.group_rows

    def counted(codes: Any, frame: pl.DataFrame, kinds: Any, *args: Any, **kw: Any) -> pl.DataFrame:
        if list(kinds) == ["hospital_id"] and "case_id" in frame.columns:
            made.append(kinds)
        return original(codes, frame, kinds, *args, **kw)

    with mock.patch.object(keys, "group_rows", counted):
        return settle(policy, inputs, YEAR), len(made)


def test_a_hospitals_totals_in_two_group_bys_of_the_cases(sample_dir: Path) -> None:
    """`hospital_mean` and the nine reports in one group-by (the nine are ready when it is
    defined), `hospital_payment` and `hospital_points` in one; defined one at a time, eleven
    group-bys (one a definition and aggregate, but `h_cv` alone: tallied by numpy,
    `RowValues.tallied`) — and the same values either way."""
    policy = _with_reports()
    inputs = load_data(sample_dir, policy)
    together, made = _hospital_group_bys(policy, inputs)
    with one_at_a_time():
        alone, made_alone = _hospital_group_bys(policy, inputs)
    assert (made, made_alone) == (2, 11)
    _same_stages(together, alone)


def test_the_values_are_a_plain_group_by_of_the_inputs(sample_dir: Path) -> None:
    """Each report against polars' own group-by of the settled cases (float sums, a sample
    standard deviation turned population: an independent path, to 1e-9)."""
    policy = _with_reports()
    settled = settle(policy, load_data(sample_dir, policy), YEAR)
    stage = settled.stages[settled.settling_stages()[-1]]
    cost, normal = pl.col("total_cost"), pl.col("category") == "normal"
    n = pl.len().cast(pl.Float64)
    expected = (
        stage.cases.group_by("hospital_id")
        .agg(
            h_cost=cost.sum(),
            h_cases=n,
            h_high=(pl.col("category") == "high").sum().cast(pl.Float64),
            h_bilateral=pl.col("bilateral").mean(),
            h_mean=cost.filter(~pl.col("ungrouped")).mean(),
            h_cv=cost.std(ddof=0) / cost.mean(),
            h_max=cost.max(),
            h_min=pl.col("cost_ratio").filter(normal).min(),
            h_persons=pl.col("person_id").drop_nulls().n_unique().cast(pl.Float64),
            hospital_mean=pl.col("cost_ratio").filter(normal).mean(),
            hospital_payment=pl.col("payment").sum(),
            hospital_points=pl.col("settled_points").sum(),
        )
        .sort("hospital_id")
    )
    names = [c for c in expected.columns if c != "hospital_id"]
    got = stage.frames[frozenset({"hospital"})].select("hospital_id", *names)
    got = got.join(expected.select("hospital_id"), on="hospital_id").sort("hospital_id")
    assert got.height == expected.height > 1
    assert_frame_equal(got, expected, check_exact=False, rel_tol=1e-9, abs_tol=1e-9)
    assert got["h_cases"].sum() == stage.cases.height


@settings(max_examples=10, deadline=None)
@given(wanted=st.sets(st.sampled_from(range(9)), min_size=1))
def test_any_of_the_reports_as_one_at_a_time(sample_dir: Path, wanted: set[int]) -> None:
    """Any subset of the reports (fewer aggregates to group together, in other mixes)."""
    lines = REPORTS.strip().splitlines()
    text = simple.POLICY.read_text(encoding="utf-8") + "\n".join(lines[i] for i in sorted(wanted))
    policy = lower(check(resolve(policy_from_text(text, "s/s.policy"), [])))
    inputs = load_data(sample_dir, policy)
    together = settle(policy, inputs, YEAR)
    with one_at_a_time():
        alone = settle(policy, inputs, YEAR)
    _same_stages(together, alone)
