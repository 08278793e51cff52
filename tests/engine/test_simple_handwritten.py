"""The benchmark's second policy (`bench/simple/simple.policy`) and its hand-written polars plan
(`bench/simple/handwritten.py`) settle every case alike: the same category, base and case
points, coefficient, settled points and month's point value (within 1e-9 relative), the same
payment to the fen; and the linear-time selection of the fen left over by an allocation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.handwritten import largest_first
from bench.ratio_bench import disagreements, measure
from bench.simple import handwritten as simple
from engine.inputs.contract import load_inputs
from engine.inputs.rundata import Period
from engine.plan import money
from engine.run.settle import load_data, load_policy, settle
from engine.synthetic.sample import generate_sample
from policy_dsl import ir
from tests.conftest import SAMPLE
from tests.engine.datasets import datasets, write_dataset


@pytest.fixture(scope="module")
def policy() -> ir.Policy:
    return load_policy(simple.POLICY)


def both(policy: ir.Policy, data: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    engine = settle(policy, load_data(data, policy), Period.parse("2024")).cases()
    hand = simple.settle_prepared(
        simple.prepare(load_inputs(data, budget_names=["drg_fund"]), 2024)
    ).cases
    return engine, hand


def test_hospital_totals_are_the_engines_reports(policy: ir.Policy) -> None:
    result = settle(policy, load_data(SAMPLE, policy), Period.parse("2024"))
    hand = simple.settle_prepared(
        simple.prepare(load_inputs(SAMPLE, budget_names=["drg_fund"]), 2024)
    ).hospitals
    reports = (
        result.stages["settlement"]
        .value_frame("hospital_payment")
        .join(result.stages["settlement"].value_frame("hospital_points"), on="hospital_id")
    )
    joined = hand.join(reports, on="hospital_id", suffix="_engine")
    assert joined.height == hand.height > 10
    engine_fen = money.to_fen(pl.col("hospital_payment_engine"))
    assert joined.select((engine_fen == pl.col("hospital_payment")).all()).item()
    points = (pl.col("hospital_points") - pl.col("hospital_points_engine")).abs()
    assert joined.select((points <= 1e-9 * pl.col("hospital_points")).all()).item()


def test_the_sample_settles_the_same(policy: ir.Policy) -> None:
    engine, hand = both(policy, SAMPLE)
    assert hand.height == engine.height == 20_000
    assert disagreements(engine, hand) == {}


def test_a_generated_city_settles_the_same(policy: ir.Policy, tmp_path: Path) -> None:
    generate_sample(tmp_path, cases=60_000, seed=5, fmt="parquet")
    engine, hand = both(policy, tmp_path)
    # every class and both adjustments occur, so that agreement means something
    assert set(hand["category"].cast(pl.String)) == set(simple.CLASSES)
    by_base = hand.filter(pl.col("category").is_in(simple.BY_BASE))
    assert (by_base["case_points"] > by_base["base_points"] * 1.49).sum() > 0  # bilateral
    assert disagreements(engine, hand) == {}
    # twelve point values, each the month's fund over its settled points
    months = hand.group_by("month").agg(
        pl.col("point_value").first(), pl.col("settled_points").sum()
    )
    assert months.height == 12
    budget = load_inputs(tmp_path, budget_names=["drg_fund"]).budget["values"]["drg_fund"]
    for row in months.iter_rows(named=True):
        assert row["point_value"] == pytest.approx(budget / 12 / row["settled_points"], rel=1e-12)


def test_a_change_of_rule_is_caught(policy: ir.Policy) -> None:
    """The comparison can fail: the hand-written plan without the bilateral step differs."""
    engine, hand = both(policy, SAMPLE)
    bilateral = hand.with_columns(
        pl.when(pl.col("case_points") > pl.col("base_points") * 1.49)
        .then(pl.col("base_points"))
        .otherwise(pl.col("case_points"))
        .alias("case_points")
    )
    assert disagreements(engine, bilateral).get("case_points", 0) > 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=datasets())
def test_generated_small_cities_settle_the_same(
    policy: ir.Policy, tmp_path_factory: Any, data: Any
) -> None:
    folder = write_dataset(data, tmp_path_factory.mktemp("simple"))
    engine, hand = both(policy, folder)
    assert disagreements(engine, hand) == {}


@given(
    values=st.lists(st.sampled_from([0.0, 0.25, 0.5, 0.75, 0.9]), min_size=1, max_size=40),
    data=st.data(),
)
def test_the_largest_values_first_ties_to_the_earlier(values: list[float], data: Any) -> None:
    count = data.draw(st.integers(min_value=0, max_value=len(values)))
    chosen = largest_first(np.array(values), count)
    by_sort = sorted(range(len(values)), key=lambda i: (-values[i], i))[:count]
    assert sorted(chosen.tolist()) == sorted(by_sort)


def test_the_ratio_benchmark_runs_both_policies_on_the_sample() -> None:
    """`bench/ratio_bench.py`'s rounds, once, on the sample: both pairs agree and are timed."""
    pairs = measure(SAMPLE, 20_000, 1)
    assert [p.policy for p in pairs] == ["xuancheng 2024", "bench simple"]
    assert all(len(p.engine_s) == len(p.hand_s) == 1 and p.ratio > 0 for p in pairs)
