"""Aggregates over groups, against an independent computation in Python: a `mean` with a
`where` and a `cv` (两步：组均值，再离差平方和), each summed exactly on the grid of
`engine.plan.exact` — the engine computes the values they read per row before its group-by
(`engine.plan.polars.batch_windows.RowValues`), and the bits must be those of the definition."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from types import SimpleNamespace

import polars as pl
import pytest

from bench.simple import handwritten as simple
from engine.inputs.rundata import Period
from engine.plan.exact import EXACT_LIMIT, EXACT_SCALE
from engine.plan.polars import batch_windows
from engine.plan.polars.keys import KeyCodes
from engine.run.settle import Settlement, load_data, load_policy, settle
from policy_dsl import ir
from tests.conftest import POLICIES, SAMPLE

STEPS = int(EXACT_SCALE)


def grid_sum(values: Iterable[float]) -> float:
    """Σ values on the grid 2⁻⁴⁰, in Python integers (`engine.plan.exact`'s definition)."""
    total = 0
    for v in values:
        assert abs(v) < EXACT_LIMIT
        whole = math.floor(v)
        total += whole * STEPS + math.floor((v - whole) * EXACT_SCALE + 0.5)
    return float(total) * (1.0 / EXACT_SCALE)


def grid_mean(values: list[float]) -> float | None:
    return grid_sum(values) / len(values) if values else None


def grid_cv(values: list[float]) -> float:
    mean = grid_mean(values)
    assert mean is not None
    spread = math.sqrt(grid_sum((v - mean) * (v - mean) for v in values) / len(values))
    return spread / mean


def _settled(policy_file: object) -> Settlement:
    policy = load_policy(policy_file)  # type: ignore[arg-type]
    return settle(policy, load_data(SAMPLE, policy), Period.parse("2024"))


@pytest.fixture(scope="module")
def xuancheng() -> Settlement:
    return _settled(POLICIES / "xuancheng" / "2024.policy")


def test_mean_where_is_the_mean_of_the_rows_it_takes() -> None:
    """`hospital_mean = mean(cost_ratio where category is normal)` at hospital (bench/simple)."""
    result = _settled(simple.POLICY)
    cases = result.stages["settlement"].cases.select("hospital_id", "category", "cost_ratio")
    taken: dict[str, list[float]] = defaultdict(list)
    for hospital, category, ratio in cases.iter_rows():
        if category == "normal" and ratio is not None:
            taken[hospital].append(ratio)
    got = result.stages["settlement"].value_frame("hospital_mean")
    checked = 0
    for hospital, value in got.select("hospital_id", "hospital_mean").iter_rows():
        assert value == grid_mean(taken.get(hospital, [])), hospital
        checked += value is not None
    assert checked > 10


def test_cv_is_the_spread_of_each_group_over_its_mean(xuancheng: Settlement) -> None:
    """`hospital_cost_cv = cv(hospital_group_cost)` at group, over the hospitals with cases of
    the group, bit for bit; and `stable_group` reads `cv(total_cost)` over the group's cases."""
    stage = xuancheng.stages["settlement"]
    per_hospital = stage.value_frame("hospital_group_cost").drop_nulls("hospital_group_cost")
    values: dict[str, list[float]] = defaultdict(list)
    for group, cost in per_hospital.select("drg_code", "hospital_group_cost").iter_rows():
        values[group].append(cost)
    got = dict(stage.value_frame("hospital_cost_cv").iter_rows())
    catalogued = [group for group in values if group in got]  # not the uncatalogued codes
    assert len(catalogued) > 50
    for group in catalogued:
        assert got[group] == grid_cv(values[group]), group
    costs_of: dict[str, list[float]] = defaultdict(list)
    for group, cost in stage.cases.select("drg_code", "total_cost").iter_rows():
        costs_of[group].append(cost)
    stable = dict(stage.value_frame("stable_group").iter_rows())
    params = {p.name: p.value for p in xuancheng.policy.params}
    for group, costs in costs_of.items():
        if group not in stable:
            continue
        n = len(costs)
        expected = (n >= params["large_number_cases"] or n > params["min_stable_cases"]) and (
            grid_cv(costs) <= params["cv_limit"] + 1e-9
        )
        assert stable[group] == expected, group


def test_the_cases_frame_has_no_row_values_left(xuancheng: Settlement) -> None:
    """The row values an aggregate reads are not kept in the stage's frames."""
    for frame in xuancheng.stages["settlement"].frames.values():
        assert not [c for c in frame.columns if c.startswith("__values")], frame.columns
    assert isinstance(xuancheng.cases(), pl.DataFrame)


def test_a_total_read_by_several_definitions_is_summed_once(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`sum(settled_points)` over the whole period, read by `point_value`, `payable_total` and
    `total_points` (Xuancheng), is summed once per settlement (`StageRun.totals`), and each
    reads the grid sum of the cases' settled points."""
    summed: list[str] = []
    added = batch_windows.RowValues.added

    def spy(self, compiler, frame, keys):  # type: ignore[no-untyped-def]
        if not keys:
            summed.extend(str(v) for v in self.values.values())
        return added(self, compiler, frame, keys)

    monkeypatch.setattr(batch_windows.RowValues, "added", spy)
    result = _settled(POLICIES / "xuancheng" / "2024.policy")
    assert sum('col("settled_points")' in s for s in summed) == 1, summed
    stage = result.stages["settlement"]
    total = grid_sum(stage.cases["settled_points"].to_list())
    assert stage.value_frame("total_points")["total_points"].item() == total
    point_value = stage.value_frame("point_value")["point_value"].item()
    assert stage.value_frame("payable_total")["payable_total"].item() == total * point_value


#: Σ|whole| ≥ 2⁶²: the sum and the mean read the whole parts in two halves
OVERFLOWING = [1e15] * 5000 + [0.25, None]
#: the squared deviations (8.1e15 each, on the grid) overflow: their whole parts in two halves
SPREAD_OUT = [1e8 + 9e7, 1e8 - 9e7] * 500 + [None]


@pytest.mark.parametrize(
    ("values", "fns", "parts"),
    [
        (OVERFLOWING, ("sum", "mean"), 6),
        (SPREAD_OUT, ("sum", "mean", "cv"), 7),
        ([0.1, 0.2, 0.3, None, -7.5] * 100, ("sum", "mean", "cv"), 6),
    ],
)
def test_row_values_sum_mean_and_cv_whichever_way_they_are_summed(
    values: list[float | None], fns: tuple[str, ...], parts: int
) -> None:
    """A group-by's sums, means and cvs read the grid parts of their values
    (`engine.plan.exact.grid_parts`), or the values themselves where the parts' 64-bit sums
    could overflow: the grid's value either way, bit for bit."""
    frame = pl.DataFrame({"x": values}, schema={"x": pl.Float64})
    arg = ir.FieldRef(name="x", table="cases", column="x")
    rows = batch_windows.RowValues()
    made = {
        fn: rows.reduce(ir.Aggregate(fn=fn, arg=arg, source=["case"]), pl.col("x"), None)  # type: ignore[arg-type]
        for fn in fns
    }
    run = SimpleNamespace(data=SimpleNamespace(codes=KeyCodes({})), frames={})  # no case frame
    one_group = SimpleNamespace(run=run)
    added = rows.added(one_group, frame, [])  # type: ignore[arg-type]
    got = added.select(make().alias(fn) for fn, make in made.items()).row(0, named=True)
    taken = [v for v in values if v is not None]
    expected = {"sum": grid_sum, "mean": grid_mean, "cv": grid_cv}
    assert got == {fn: expected[fn](taken) for fn in fns}
    ends = ("_whole", "_whole_high", "_whole_low", "_steps")
    summed_as_parts = [c for c in added.columns if c.endswith(ends)]
    assert len(summed_as_parts) == parts, summed_as_parts
