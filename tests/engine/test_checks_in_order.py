"""A value that is not finite stops the run at the first definition, in stage order, that has
one: the check an engine computing several definitions together (docs/speed.md, ninth round)
must keep."""

from __future__ import annotations

from typing import Any

import pytest

from engine.inputs.rundata import Period
from engine.plan.polars import finite
from engine.plan.polars.batch import Settings
from engine.plan.polars.finite import NotFinite
from engine.run.settle import load_data, load_policy, settle
from tests.conftest import POLICIES, SAMPLE

XUANCHENG = load_policy(POLICIES / "xuancheng" / "2024.policy")
INPUTS = load_data(SAMPLE, XUANCHENG)
YEAR = Period.parse("2024")
#: `cost_ratio` infinite: the class points of a high-cost case (`base_points × cost_ratio`)
#: and the case values after them are infinite too
INFINITE = Settings(definitions={"cost_ratio": float("inf")})


def test_a_value_not_finite_names_the_first_definition_in_stage_order() -> None:
    with pytest.raises(NotFinite) as error:
        settle(XUANCHENG, INPUTS, YEAR, INFINITE)
    assert str(error.value).startswith("stage settlement: `cost_ratio` (")


def test_the_definitions_after_it_are_not_finite_either(monkeypatch: pytest.MonkeyPatch) -> None:
    """What makes the test above one that can fail: were the checks run in another order, a
    later definition would be named."""
    check = finite.check_values

    def ratio_unchecked(run: Any, definition: Any, grain: Any) -> None:
        if definition.name != "cost_ratio":
            check(run, definition, grain)

    monkeypatch.setattr(finite, "check_values", ratio_unchecked)
    with pytest.raises(NotFinite) as error:
        settle(XUANCHENG, INPUTS, YEAR, INFINITE)
    assert str(error.value).startswith("stage settlement: `class_points` (")
