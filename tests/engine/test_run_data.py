"""The case data cut to a period and keyed by integer codes is made once per dataset and period
(`engine.run.settle.run_data`) and re-used by every settlement of the same inputs, which it never
changes: a settlement after others is the same as one on fresh inputs."""

from __future__ import annotations

import dataclasses

import polars as pl

from engine.inputs.contract import Inputs
from engine.inputs.rundata import Period
from engine.run.settle import load_data, load_policy, run_data, settle
from tests.conftest import POLICIES, SAMPLE

XUANCHENG = load_policy(POLICIES / "xuancheng" / "2024.policy")


def test_one_dataset_is_prepared_once_per_period() -> None:
    inputs = load_data(SAMPLE, XUANCHENG)
    year, march = Period.parse("2024"), Period.parse("2024-03")
    first = settle(XUANCHENG, inputs, year)
    again = settle(XUANCHENG, inputs, year)
    assert first.data is again.data is run_data(inputs, year)
    assert run_data(inputs, march) is not first.data
    assert run_data(inputs, march).cases.height < first.data.cases.height
    assert set(inputs.prepared) == {year, march}


def test_a_replaced_input_gets_its_own() -> None:
    inputs = load_data(SAMPLE, XUANCHENG)
    year = Period.parse("2024")
    prepared = run_data(inputs, year)
    fewer = dataclasses.replace(inputs, cases=inputs.cases.head(5_000))
    assert fewer.prepared == {}
    assert run_data(fewer, year) is not prepared
    assert run_data(fewer, year).cases.height == 5_000 - _outside(fewer, year)


def _outside(inputs: Inputs, period: Period) -> int:
    return inputs.cases.filter(~pl.col("month").is_in(period.month_labels())).height


def test_settlements_after_others_are_as_on_fresh_inputs() -> None:
    year = Period.parse("2024")
    shared = load_data(SAMPLE, XUANCHENG)
    settle(XUANCHENG, shared, year)  # prepares the data, evaluates on it
    settle(XUANCHENG, shared, Period.parse("2024-03"))
    reused = settle(XUANCHENG, shared, year).cases()
    fresh = settle(XUANCHENG, load_data(SAMPLE, XUANCHENG), year).cases()
    assert reused.equals(fresh)
