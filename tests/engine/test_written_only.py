"""`settle(..., written_only=True)` (what `drgpolicy settle` runs): only the definitions the
outputs read are computed — not the indicator library's helpers that a policy without stages
takes in (`include "indicators"`), which the monitoring stage computes itself — and every value
the outputs read is the whole run's (the golden hashes: `test_output_hashes`)."""

from __future__ import annotations

import pytest

from engine.inputs.rundata import Period
from engine.run.settle import (
    Settlement,
    definitions_written,
    load_data,
    load_policy,
    settle,
    stages_for,
)
from tests.conftest import POLICIES, SAMPLE

XUANCHENG = POLICIES / "xuancheng" / "2024.policy"
#: The indicator library's helpers in Xuancheng 2024's settlement stage: no output reads them.
HELPERS = {"region_group_cost", "hospital_group_cost", "hospital_cost_cv", "low_risk_group"}


@pytest.fixture(scope="module")
def runs() -> tuple[Settlement, Settlement]:
    policy = load_policy(XUANCHENG)
    inputs = load_data(SAMPLE, policy)
    period = Period.parse("2024")
    return settle(policy, inputs, period), settle(policy, inputs, period, written_only=True)


def test_the_library_helpers_are_not_computed_and_the_outputs_are_the_same(
    runs: tuple[Settlement, Settlement],
) -> None:
    whole, written = runs
    computed = set(written.stages["settlement"].home)
    assert set(whole.stages["settlement"].home) >= HELPERS
    assert not HELPERS & computed
    assert set(whole.outputs()) <= computed
    assert written.cases().equals(whole.cases())
    assert written.indicators().equals(whole.indicators())
    frames = written.stages["settlement"].frames.values()
    assert not any(name in frame.columns for frame in frames for name in HELPERS)


def test_what_the_outputs_read_besides_the_per_case_outputs_is_written() -> None:
    """A classification (its fall-through counts are in the manifest), a report, an invariant's
    budget, what the indicators read of the settled stage (`settled.category`)."""
    policy = load_policy(XUANCHENG)
    stages = stages_for(policy, Period.parse("2024"))
    written = {name for _, name in definitions_written(policy, stages)}
    reports = {d.name for s in stages for d in s.definitions if d.report}
    budgets = {i.budget for i in policy.invariants if i.budget}
    assert {"category", "stable_group", "payment", "point_value"} <= written
    assert reports and reports <= written
    assert budgets <= written
    assert not HELPERS & written
    whole = {d.name for s in stages for d in s.definitions}
    assert written < whole
