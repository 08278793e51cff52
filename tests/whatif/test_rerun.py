"""Re-settlement from an earlier run equals a full settlement, value for value."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.inputs.contract import Inputs
from engine.inputs.rundata import Period
from engine.plan.polars.batch import Settings
from engine.run.settle import load_policy, settle
from engine.whatif.rerun import affected_definitions, resettle
from engine.whatif.runs import Outcome
from tests.whatif.conftest import NEW, OLD

POLICY = load_policy(NEW)
PARAMS = {
    "low_ratio_grassroots": [0.2, 0.35],
    "large_number_cases": [10.0, 300.0],
    "cost_share": [0.0, 0.5],
    "cv_limit": [0.5, 2.0],
}


def test_a_parameter_edit_redoes_only_what_reads_it(sample_inputs: Inputs) -> None:
    earlier = settle(POLICY, sample_inputs, Period.parse("2024"))
    affected = affected_definitions(earlier, POLICY, Settings(params={"cost_share": 0.3}))
    assert affected is not None
    redo = affected["settlement"]
    assert {"combined_coefficient", "hospital_coefficient", "payment"} <= redo
    assert not {"category", "stable_group", "class_points", "cost_coefficient"} & redo


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.dictionaries(st.sampled_from(sorted(PARAMS)), st.none(), min_size=1).flatmap(
        lambda chosen: st.fixed_dictionaries({k: st.sampled_from(PARAMS[k]) for k in chosen})
    )
)
def test_resettling_equals_settling(sample_inputs: Inputs, params: dict[str, float]) -> None:
    period = Period.parse("2024")
    earlier = settle(POLICY, sample_inputs, period)
    moved = Settings(params=params)
    again = Outcome.of(resettle(earlier, POLICY, moved))
    full = Outcome.of(settle(POLICY, sample_inputs, period, moved))
    assert again.cases.equals(full.cases)
    assert again.totals == full.totals


def test_another_version_resettles_from_a_run(sample_inputs: Inputs) -> None:
    period = Period.parse("2024")
    earlier = settle(load_policy(OLD), sample_inputs, period)
    again = Outcome.of(resettle(earlier, POLICY))
    assert again.cases.equals(Outcome.of(settle(POLICY, sample_inputs, period)).cases)
