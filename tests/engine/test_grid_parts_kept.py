"""The grid parts of a case column of the inputs (`sum(total_cost)`, `cv(total_cost)`) are made
once per dataset (`RunData.grid_parts`) and read by every aggregate that sums it."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from engine.inputs.rundata import Period
from engine.plan import exact
from engine.run.settle import load_data, load_policy, run_data, settle

XUANCHENG = Path(__file__).resolve().parents[2] / "policies" / "xuancheng" / "2024.policy"


def test_a_case_column_summed_twice_takes_its_parts_once_per_dataset(
    sample_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Xuancheng 2024 sums `total_cost` by group (`cv`, stable groups) and by hospital (cost per
    point): the first settlement makes its parts once per name of the parts, not at each sum;
    a second settlement of the same inputs not at all. The payments are the same each time,
    and the parts kept are those of the inputs' `total_cost`."""
    policy = load_policy(XUANCHENG)
    inputs = load_data(sample_dir, policy)
    period = Period.parse("2024")
    total_cost = run_data(inputs, period).cases["total_cost"]
    of_total_cost: list[str] = []
    original = exact.grid_parts

    def spied(values: pl.Series, name: str, rows: int | None = None) -> object:
        if values.equals(total_cost, check_names=False):
            of_total_cost.append(name)
        return original(values, name, rows)

    monkeypatch.setattr(exact, "grid_parts", spied)
    first = settle(policy, inputs, period).cases()
    made = list(of_total_cost)
    second = settle(policy, inputs, period).cases()
    assert first.equals(second)
    kept = {
        name: parts
        for (column, name), parts in run_data(inputs, period).grid_parts.items()
        if column == "total_cost"
    }
    assert sorted(made) == sorted(kept)  # once each
    assert of_total_cost == made  # and not again
    for name, parts in kept.items():
        fresh = original(total_cost, name)
        assert parts is not None and fresh is not None
        assert all(a.equals(b) for a, b in zip(parts[0], fresh[0], strict=True))


def test_a_mean_where_a_condition_holds_adds_the_kept_parts_of_those_cases_only(
    sample_dir: Path,
) -> None:
    """`all_avg_cost` = `mean(total_cost where not ungrouped)` reads the parts kept for every
    case with those of the ungrouped cases set to 0: the exact mean of the grouped cases'
    costs (`exact.exact_mean` over them alone), not of every case's."""
    policy = load_policy(XUANCHENG)
    inputs = load_data(sample_dir, policy)
    period = Period.parse("2024")
    result = settle(policy, inputs, period).stages["settlement"]
    cases = run_data(inputs, period).cases
    grouped = cases.filter(~pl.col("ungrouped"))["total_cost"]
    assert 0 < grouped.len() < cases.height  # some cases are left out
    expected = pl.select(exact.exact_mean(pl.lit(grouped))).item()
    assert result.frame_of("all_avg_cost")["all_avg_cost"].to_list() == [expected]
    assert expected != pl.select(exact.exact_mean(pl.lit(cases["total_cost"]))).item()
