"""Threshold exposure and parameter sweeps."""

from __future__ import annotations

import polars as pl
import pytest

from engine.inputs.contract import Inputs
from engine.inputs.rundata import Period
from engine.run.settle import load_policy
from engine.whatif import Runs, declared_types, exposure, sweep
from engine.whatif.exposure import step_for
from engine.whatif.sweep import SweepError
from engine.whatif.thresholds import threshold_uses
from policy_dsl.loader import read_policy_file, resolve
from tests.conftest import POLICIES
from tests.whatif.conftest import NEW


def test_thresholds_are_found_generically() -> None:
    found = {(s.definition, s.text) for s in threshold_uses(load_policy(NEW))}
    assert ("category", "cost_ratio <= low_ratio_grassroots") in found  # ≤ 0.3 (以下)
    assert ("category", "cost_ratio <= low_ratio_standard") in found
    assert ("category", "cost_ratio >= high_ratio_k[base_points]") in found
    assert ("incentive_kept", "incentive_rank <= incentive_quota") in found
    assert ("stable_group", "count(case) >= large_number_cases") in found
    wuxi = {
        (s.definition, s.text, s.reads)
        for s in threshold_uses(load_policy(POLICIES / "wuxi" / "2024.policy"))
    }
    # the lines are the year payable × 70% / 90%, and the year payable is the DRG payable ×
    # the clearing coefficient: a line moves with the coefficient's weights and bounds too
    clearing = ("accuracy_weight", "admission_weight", "clearing_cap", "clearing_floor")
    full = (*clearing, "cost_weight", "retain_full_below")
    bonus = (*clearing, "cost_weight", "retain_bonus_below")
    assert ("year_actual_payment", "actual_cost < full_cost_line", full) in wuxi
    assert ("year_actual_payment", "actual_cost < bonus_line", bonus) in wuxi


def test_steps() -> None:
    assert step_for(0.3, "ratio") == 0.05
    assert step_for(0.004, "ratio") == 0.001
    assert step_for(100, "count") == 1
    assert step_for(1.0, "number") == 0.05
    assert step_for(12000, "money") == 600


def test_exposure_counts_cases_near_and_shifts(sample_inputs: Inputs) -> None:
    policy = load_policy(NEW)
    types = declared_types(resolve(read_policy_file(NEW)))
    found = exposure(Runs(sample_inputs, Period.parse("2024")), policy, types=types)
    grassroots = next(t for t in found.thresholds if t.threshold.label == "low_ratio_grassroots")
    assert grassroots.threshold.step == 0.05 and grassroots.grain == "case"
    # near 0.3 and deciding: level-1 cases of stable groups, neither special nor ungrouped nor high
    assert grassroots.near > 0 and set(grassroots.near_levels) == {1}
    assert grassroots.up is not None and grassroots.up.moved_cases > 0
    assert sum(grassroots.up.levels.values()) == grassroots.up.delta == 0  # the budget closes
    assert grassroots.up.levels[1] < 0  # a higher threshold makes more level-1 cases low
    rows = {t.threshold.label for t in found.thresholds}
    assert {"high_ratio_k [100, 300)", "incentive_share[3]", "large_number_cases"} <= rows


def test_a_sweep_tabulates_each_value(sample_inputs: Inputs) -> None:
    policy = load_policy(NEW)
    runs = Runs(sample_inputs, Period.parse("2024"))
    result = sweep(runs, policy, {"low_ratio_grassroots": [0.25, 0.3, 0.35]})
    table = result.table
    assert table["low_ratio_grassroots"].to_list() == [0.25, 0.3, 0.35]
    written = table.filter(pl.col("low_ratio_grassroots") == 0.3)
    assert written["delta_level_1"].to_list() == [0]
    assert table["cases_low"].to_list() == sorted(table["cases_low"].to_list())
    grid = sweep(runs, policy, {"low_ratio_grassroots": [0.25, 0.35], "cost_share": [0.1, 0.2]})
    assert grid.table.height == 4
    with pytest.raises(SweepError, match=r"low_ratio_grasroots.*did you mean"):
        sweep(runs, policy, {"low_ratio_grasroots": [0.3]})
