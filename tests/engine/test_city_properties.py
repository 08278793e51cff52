"""Properties of the shipped city policies: every invariant a policy asserts holds on the bundled
sample and on generated data; Wuxi's surplus-retention correction is exactly the three-piece
rule (at any ratio, by the exact words "未达到70%" / "90%以上（含90%）"); Wuxi's monthly
prepayments are what twelve separate month runs pay, and the year total is the corrected amount
× the clearing coefficient less the deposit kept, each recomputed here from the inputs."""

from __future__ import annotations

import tempfile
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.batch import Settings
from engine.invariants import check_invariants
from engine.rundata import Period
from engine.settle import load_data, load_policy, settle
from tests.conftest import POLICIES, SAMPLE, shipped_policies
from tests.engine.datasets import datasets, write_dataset

COMPILED = {path: load_policy(path) for path in shipped_policies()}
WUXI = POLICIES / "wuxi" / "2024.policy"


@pytest.mark.parametrize("path", list(COMPILED), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_invariants_hold_on_the_sample(path: Path) -> None:
    policy = COMPILED[path]
    result = settle(policy, load_data(SAMPLE, policy), Period.parse("2024"))
    assert check_invariants(result, monotone_cases=60) == []


@pytest.mark.parametrize("path", list(COMPILED), ids=lambda p: f"{p.parent.name}/{p.stem}")
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=datasets())
def test_invariants_hold_on_generated_data(path: Path, data: dict[str, Any]) -> None:
    policy = COMPILED[path]
    with tempfile.TemporaryDirectory() as folder:
        result = settle(
            policy, load_data(write_dataset(data, Path(folder)), policy), Period.parse("2024")
        )
    assert check_invariants(result, monotone_cases=20) == []


def _fen(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def three_piece(cost: Decimal, payable: Decimal) -> Decimal:
    """The seed's rule, computed independently and exactly in decimal: under 70% of the DRG
    payable the actual cost; from 70% (inclusive) to 90% 110% of it; from 90% (inclusive) the
    DRG payable. The bands compare cost with payable × 70% / 90% unrounded."""
    if cost < payable * Decimal("0.7"):
        return cost
    if cost < payable * Decimal("0.9"):
        return _fen(cost * Decimal("1.1"))
    return payable


def wuxi_corrected(cost: Decimal, payable: Decimal) -> Decimal:
    data = {
        "hospitals": [
            {
                "hospital_id": "H1",
                "level": 2,
                "tier": "B",
                "hist_avg_cost": 10000,
                "hist_cases": 100,
                "hist_weight_total": 100,
                "admission_ratio_growth": 0.0,
                "cost_per_weight_growth": 0.0,
                "list_accuracy": 1.0,
                "assessment_score": 100,
            }
        ],
        "groups": [{"drg_code": "GB15", "weight": 1.0, "avg_cost": 10000}],
        "cases": [
            {
                "case_id": "C1",
                "hospital_id": "H1",
                "drg_code": "GB15",
                "total_cost": str(cost),
                "discharge_date": "2024-06-15",
            }
        ],
        "budget": {"drg_fund": 1000.0, "tier_budget": {"A": 1.0, "B": 1000.0, "C": 1.0}},
    }
    policy = COMPILED[WUXI]
    with tempfile.TemporaryDirectory() as folder:
        inputs = load_data(write_dataset(data, Path(folder)), policy)
        result = settle(
            policy,
            inputs,
            Period.parse("2024"),
            Settings(definitions={"drg_payable": float(payable)}),
        )
    frame = result.stages["year_end"].frame_of("corrected_amount")
    return Decimal(str(frame["corrected_amount"][0])).quantize(Decimal("0.01"))


PAYABLES = st.decimals(min_value=Decimal("100.00"), max_value=Decimal("5000000.00"), places=2)


@settings(max_examples=40, deadline=None)
@given(
    payable=PAYABLES,
    ratio=st.sampled_from(
        ["0.5", "0.6999", "0.7", "0.7001", "0.8", "0.8999", "0.9", "0.9001", "1.0", "1.3"]
    ),
)
def test_wuxi_correction_is_the_three_piece_rule(payable: Decimal, ratio: str) -> None:
    cost = _fen(payable * Decimal(ratio))
    assert wuxi_corrected(cost, payable) == three_piece(cost, payable)


@settings(max_examples=60, deadline=None)
@given(
    payable=PAYABLES,
    ratio=st.decimals(min_value=Decimal("0.3"), max_value=Decimal("1.5"), places=6),
)
def test_wuxi_correction_at_random_ratios_follows_each_band(
    payable: Decimal, ratio: Decimal
) -> None:
    """At any cost between 30% and 150% of the DRG payable, the corrected amount is the rule of
    the band the exact ratio cost ÷ payable falls in."""
    cost = _fen(payable * ratio)
    corrected = wuxi_corrected(cost, payable)
    exact = cost / payable
    if exact < Decimal("0.7"):  # 未达到70%: the actual cost
        assert corrected == cost
    elif exact < Decimal("0.9"):  # 70%（含）至90%: 110% of the actual cost
        assert corrected == _fen(cost * Decimal("1.1"))
        assert cost < corrected <= payable
    else:  # 90%以上（含90%）: the DRG payable
        assert corrected == payable


@pytest.mark.parametrize("cost", ["69999.99", "70000.00", "89999.99", "90000.00"])
def test_wuxi_correction_jumps_exactly_at_70_and_90_percent(cost: str) -> None:
    payable = Decimal("100000.00")
    assert wuxi_corrected(Decimal(cost), payable) == three_piece(Decimal(cost), payable)


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _sum_by_hospital(frame: pl.DataFrame, column: str) -> dict[str, Decimal]:
    """Exact decimal sums of a money column per hospital."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for hospital, value in frame.select("hospital_id", column).iter_rows():
        sums[hospital] += _money(value)
    return sums


@pytest.fixture(scope="module")
def wuxi_sample() -> tuple[Any, Any]:
    policy = COMPILED[WUXI]
    inputs = load_data(SAMPLE, policy)
    return policy, inputs


@pytest.fixture(scope="module")
def wuxi_year(wuxi_sample: tuple[Any, Any]) -> dict[str, dict[str, Any]]:
    """The year run's hospital statement of the year-end stage, by hospital id."""
    policy, inputs = wuxi_sample
    result = settle(policy, inputs, Period.parse("2024"))
    year_end = result.stages["year_end"]
    frame = year_end.frame_of("year_total")
    statement = {row["hospital_id"]: row for row in frame.iter_rows(named=True)}
    payments = _sum_by_hospital(result.cases("year_end"), "payment")
    for hospital, row in statement.items():
        row["payments"] = payments.get(hospital, Decimal(0))
    return statement


@pytest.fixture(scope="module")
def wuxi_months(wuxi_sample: tuple[Any, Any]) -> dict[str, dict[str, Decimal]]:
    """Per hospital, the prepayments and deposits of twelve separate month runs
    (`--period 2024-01` … `2024-12`), summed exactly."""
    policy, inputs = wuxi_sample
    paid: dict[str, Decimal] = defaultdict(Decimal)
    kept: dict[str, Decimal] = defaultdict(Decimal)
    for month in range(1, 13):
        result = settle(policy, inputs, Period.parse(f"2024-{month:02d}"))
        assert result.settling_stages() == ["monthly"]
        monthly = result.stages["monthly"].cases
        for hospital, value in _sum_by_hospital(monthly, "payment").items():
            paid[hospital] += value
        for hospital, value in _sum_by_hospital(monthly, "deposit").items():
            kept[hospital] += value
    return {"payment": dict(paid), "deposit": dict(kept)}


def test_wuxi_monthly_paid_is_what_twelve_month_runs_paid(
    wuxi_year: dict[str, dict[str, Any]], wuxi_months: dict[str, dict[str, Decimal]]
) -> None:
    assert len(wuxi_year) == 13
    assert set(wuxi_months["payment"]) == set(wuxi_year)
    for hospital, row in wuxi_year.items():
        assert _money(row["monthly_paid"]) == wuxi_months["payment"][hospital] > 0, hospital
        assert _money(row["deposit_withheld"]) == wuxi_months["deposit"][hospital] > 0, hospital


def _clearing_coefficients(hospitals: pl.DataFrame) -> dict[str, float]:
    """The clearing coefficient of each hospital from the hospitals table, written out: tier
    averages of (1 + growth) and of the accuracy, each set against the hospital's own value,
    weighted 40/40/20 and kept within [0.9, 1.1]."""
    rows = list(hospitals.iter_rows(named=True))
    by_tier: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_tier[row["tier"]].append(row)

    def mean(values: list[float]) -> float:
        return sum(values) / len(values)

    found = {}
    for row in rows:
        peers = by_tier[row["tier"]]
        admission = mean([1 + p["admission_ratio_growth"] for p in peers])
        cost = mean([1 + p["cost_per_weight_growth"] for p in peers])
        accuracy = mean([p["list_accuracy"] for p in peers])
        value = (
            0.4 * admission / (1 + row["admission_ratio_growth"])
            + 0.4 * cost / (1 + row["cost_per_weight_growth"])
            + 0.2 * row["list_accuracy"] / accuracy
        )
        found[row["hospital_id"]] = min(max(value, 0.9), 1.1)
    return found


def test_wuxi_year_total_is_recomputed_from_the_inputs(
    wuxi_sample: tuple[Any, Any],
    wuxi_year: dict[str, dict[str, Any]],
    wuxi_months: dict[str, dict[str, Decimal]],
) -> None:
    """year_total = year_amount − (deposit_withheld − deposit_returned), every term recomputed
    here: the DRG payable from the year-end case payments, the actual cost from the cases file,
    the three-piece correction in decimal, the clearing coefficient from the hospitals table, the
    deposit from the twelve month runs and the assessment score."""
    _, inputs = wuxi_sample
    costs = _sum_by_hospital(inputs.cases, "total_cost")
    hospitals = inputs.hospitals
    coefficients = _clearing_coefficients(hospitals)
    scores = dict(hospitals.select("hospital_id", "assessment_score").iter_rows())
    for hospital, row in wuxi_year.items():
        payable = row["payments"]
        assert _money(row["drg_payable"]) == payable
        assert _money(row["actual_cost"]) == costs[hospital]
        corrected = three_piece(costs[hospital], payable)
        assert _money(row["corrected_amount"]) == corrected, hospital
        assert row["clearing_coefficient"] == pytest.approx(coefficients[hospital], rel=1e-12)
        year_amount = _fen(corrected * Decimal(repr(coefficients[hospital])))
        withheld = wuxi_months["deposit"][hospital]
        share = min(max(Decimal(str(scores[hospital])) / 100, Decimal(0)), Decimal(1))
        returned = _fen(withheld * share)
        expected = year_amount - (withheld - returned)
        assert _money(row["year_amount"]) == year_amount, hospital
        assert _money(row["deposit_returned"]) == returned, hospital
        assert _money(row["year_total"]) == expected, hospital
        assert _money(row["year_end_due"]) == expected - wuxi_months["payment"][hospital]
