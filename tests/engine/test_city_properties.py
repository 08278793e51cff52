"""Properties of the shipped city policies: every invariant a policy asserts holds on the bundled
sample and on generated data; Wuxi's surplus-retention correction is exactly the three-piece
rule; the year-end due plus the monthly payments is the year total."""

from __future__ import annotations

import tempfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

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
    """The seed's rule, computed independently in decimal: under 70% the actual cost; from 70%
    (inclusive) to 90% 110% of it; from 90% (inclusive) the DRG payable."""
    if cost < _fen(payable * Decimal("0.7")):
        return cost
    if cost < _fen(payable * Decimal("0.9")):
        return _fen(cost * Decimal("1.1"))
    return payable


def wuxi_corrected(cost: Decimal, payable: Decimal) -> Decimal:
    data = {
        "hospitals": [{"hospital_id": "H1", "level": 2, "tier": "B"}],
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


@pytest.mark.parametrize("cost", ["69999.99", "70000.00", "89999.99", "90000.00"])
def test_wuxi_correction_jumps_exactly_at_70_and_90_percent(cost: str) -> None:
    payable = Decimal("100000.00")
    assert wuxi_corrected(Decimal(cost), payable) == three_piece(Decimal(cost), payable)


def test_wuxi_due_plus_monthly_paid_is_the_year_total() -> None:
    policy = COMPILED[WUXI]
    result = settle(policy, load_data(SAMPLE, policy), Period.parse("2024"))
    year_end = result.stages["year_end"]
    names = ["year_end_due", "monthly_paid", "year_total"]
    frame = year_end.frames[year_end.home["year_total"]].select("hospital_id", *names)
    assert frame.height == 13
    for row in frame.iter_rows(named=True):
        due, paid, total = (Decimal(str(row[n])).quantize(Decimal("0.01")) for n in names)
        assert due + paid == total
        assert paid > 0
