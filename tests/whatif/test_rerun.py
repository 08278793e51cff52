"""Re-settlement from an earlier run equals a full settlement, value for value."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.inputs.contract import Inputs
from engine.inputs.rundata import Period
from engine.plan.polars import keys
from engine.plan.polars.batch import Settings, StageRun
from engine.run.settle import load_policy, settle
from engine.whatif.changed_cases import ChangedCases
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
    """2024 declares inputs 2023 does not (a filed coefficient, a hospital type): it still
    shares 2023's run, re-evaluating what reads them and what changed."""
    period = Period.parse("2024")
    earlier = settle(load_policy(OLD), sample_inputs, period)
    affected = affected_definitions(earlier, POLICY, Settings())
    assert affected is not None
    assert "hospital_coefficient" in affected["settlement"]  # reads filed_coefficient
    assert not {"cost_ratio", "benchmark_cost", "base_points"} & affected["settlement"]
    again = Outcome.of(resettle(earlier, POLICY))
    assert again.cases.equals(Outcome.of(settle(POLICY, sample_inputs, period)).cases)


def test_a_moved_threshold_redoes_the_points_of_the_cases_it_moves_alone(
    sample_inputs: Inputs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Moving the low-ratio threshold of the grassroots hospitals moves a few cases to another
    class: their points, coefficient and settled points are evaluated on those cases alone
    (`changed_cases`), and every per-case value equals a full settlement's."""
    period = Period.parse("2024")
    earlier = settle(POLICY, sample_inputs, period)
    moved = Settings(params={"low_ratio_grassroots": 0.35})
    evaluated: dict[str, int] = {}
    merged = ChangedCases.merged

    def counting(self: ChangedCases, name: str, *args: Any) -> pl.DataFrame:
        evaluated[name] = int(args[1].sum())
        return merged(self, name, *args)

    monkeypatch.setattr(ChangedCases, "merged", counting)
    again = resettle(earlier, POLICY, moved).stages["settlement"].cases
    full = settle(POLICY, sample_inputs, period, moved).stages["settlement"].cases
    cases = full.height
    assert {"class_points", "case_points", "coefficient", "settled_points"} <= set(evaluated)
    assert 0 < evaluated["class_points"] < cases / 10
    for name in [*evaluated, "category", "payment"]:
        assert again[name].equals(full[name]), name


def test_the_changed_cases_alone_take_no_codes_made_for_every_case(
    sample_inputs: Inputs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The multi-site step's key (`no_cc(secondary_drg)`) goes by the codes of its texts, made
    once per dataset for the whole case frame (`RunData.text_codes`); re-evaluated on the
    changed cases alone, it must take codes of those cases, not the whole frame's. `SMALL` 0:
    by codes at any size, as a city's changed cases are."""
    monkeypatch.setattr(keys, "SMALL", 0)
    period = Period.parse("2024")
    earlier = settle(POLICY, sample_inputs, period)
    moved = Settings(params={"low_ratio_grassroots": 0.35})
    again = resettle(earlier, POLICY, moved).stages["settlement"].cases
    full = settle(POLICY, sample_inputs, period, moved).stages["settlement"].cases
    for name in ["case_points", "settled_points", "payment"]:
        assert again[name].equals(full[name]), name


def test_a_step_that_moves_nothing_evaluates_only_what_reads_the_step(
    sample_inputs: Inputs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No group of the sample has a million cases: moving the large-number line from one
    million to one more changes no group's stability, so the stable-group test is evaluated
    again and found unchanged, and the classes, points and payments are the earlier run's
    (not evaluated), every value equal to a full settlement's."""
    period = Period.parse("2024")
    earlier = settle(POLICY, sample_inputs, period, Settings(params={"large_number_cases": 1e6}))
    moved = Settings(params={"large_number_cases": 1e6 + 1})
    evaluated: list[str] = []
    define = StageRun.define

    def counting(self: StageRun, definition: Any) -> None:
        evaluated.append(definition.name)
        define(self, definition)

    monkeypatch.setattr(StageRun, "define", counting)
    again = resettle(earlier, POLICY, moved)
    assert evaluated == ["stable_group"]
    monkeypatch.setattr(StageRun, "define", define)
    full = settle(POLICY, sample_inputs, period, moved)
    for name in ["stable_group", "category", "case_points", "settled_points", "payment"]:
        stage = again.stages["settlement"]
        assert stage.frame_of(name)[name].equals(full.stages["settlement"].frame_of(name)[name])
    assert Outcome.of(again).totals == Outcome.of(full).totals


def test_a_value_found_changed_is_evaluated_downstream(sample_inputs: Inputs) -> None:
    """The other way: a step that does move groups re-evaluates what reads them (a cutoff
    that took an unchanged value for a changed one would keep the earlier classes)."""
    period = Period.parse("2024")
    earlier = settle(POLICY, sample_inputs, period)
    moved = Settings(params={"large_number_cases": 5.0})
    again = Outcome.of(resettle(earlier, POLICY, moved))
    full = Outcome.of(settle(POLICY, sample_inputs, period, moved))
    assert not again.cases["category"].equals(Outcome.of(earlier).cases["category"])
    assert again.cases.equals(full.cases)


def test_changed_cases_are_told_by_value_missing_and_sign_of_zero() -> None:
    before = pl.DataFrame({"x": [0.0, 1.0, None, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]})
    cases = ChangedCases(before)
    cases.record("x", pl.DataFrame({"x": [-0.0, 1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]}))
    assert cases.changed["x"].to_list() == [True, False, True, *[False] * 6]
    assert cases.rows(["x"]) is not None  # 2 of 9 changed
    cases.record("x", pl.DataFrame({"x": [-0.0, 9.0, 2.0, 9.0, 3.0, 4.0, 5.0, 6.0, 7.0]}))
    assert cases.rows(["x"]) is None  # 4 of 9: more than MOST, every case evaluated
    assert cases.rows(["x", "y"]) is None  # y not known per case
