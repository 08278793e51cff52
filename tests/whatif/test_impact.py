"""Comparing versions: a version against itself changes nothing; the frames add up."""

from __future__ import annotations

import polars as pl

from engine.inputs.contract import Inputs
from engine.inputs.rundata import Period
from engine.run.settle import load_policy
from engine.whatif import Runs, compare
from tests.whatif.conftest import NEW, OLD


def test_a_version_against_itself_changes_nothing(sample_inputs: Inputs) -> None:
    policy = load_policy(NEW)
    impact = compare(Runs(sample_inputs, Period.parse("2024")), policy, policy)
    assert impact.delta == 0
    assert impact.base.totals == impact.new.totals
    for frame in (impact.hospitals, impact.levels, impact.groups, impact.categories):
        assert frame["delta"].to_list() == [0] * frame.height
    assert impact.cases["delta"].abs().sum() == 0
    assert impact.moved().is_empty()
    assert impact.winners().is_empty() and impact.losers().is_empty()


def test_every_breakdown_adds_up_to_the_cases(sample_inputs: Inputs) -> None:
    runs = Runs(sample_inputs, Period.parse("2024"))
    impact = compare(runs, load_policy(OLD), load_policy(NEW))
    case_total = int(impact.cases["delta"].sum())
    assert case_total == impact.delta
    for frame in (impact.hospitals, impact.levels, impact.groups, impact.categories):
        assert int(frame["delta"].sum()) == case_total
    assert int(impact.transitions["cases"].sum()) == impact.cases.height
    matrix = impact.matrix()
    assert int(matrix.select(pl.exclude("from")).sum_horizontal().sum()) == impact.cases.height
    winners = impact.winners()["delta"].to_list()
    assert winners == sorted(winners, reverse=True) and all(d > 0 for d in winners)
