"""Properties of the shipped city policies: every invariant a policy asserts holds on the bundled
sample and on generated data; Wuxi's surplus-retention correction is exactly the three-piece
rule (at any ratio, by the exact words "未达到70%" / "90%以上（含90%）"); Wuxi's monthly
prepayments are what twelve separate month runs pay, and the year total follows the slide's
order — the DRG payable at the floating rate × the clearing coefficient is the year payable, the
retention correction compares the actual cost with it, then the DRG assessment cut, the audit
deductions and the deposit kept — each recomputed here from the inputs."""

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

from engine.inputs.rundata import Period
from engine.plan.polars.batch import Settings
from engine.run.invariants import check_invariants
from engine.run.settle import load_data, load_policy, settle
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


XUANCHENG_2024 = POLICIES / "xuancheng" / "2024.policy"


def test_xuancheng_incentive_keeps_settled_points_rising() -> None:
    """Xuancheng 2024 compares an incentive case's points with the points it would settle at
    (group points × the hospital coefficient): at a filed coefficient of 0.8, a GB15 case (120
    points) is kept at 13 000 元 — 13 000 ÷ 12 003.83 × 100 = 108.3 incentive points > 96 — and
    settles at 108.3 points, coefficient 1; at 9 750 元 (81.2 < 96) it is no candidate and settles
    at 96 (120 × 0.8). Its settled points rise with its cost, its case points (120 → 108.3) do
    not: the invariant the 2024 file asserts is on the settled points (the 2023 one, on the case
    points, failed here)."""
    hospitals = [
        {
            "hospital_id": "H2",
            "level": 2,
            "is_new": False,
            "hist_avg_cost": 10000,
            "hist_cases": 100,
            "hist_weight_total": 100,
            "filed_coefficient": 0.8,
        }
    ]
    case = {"hospital_id": "H2", "drg_code": "GB15", "discharge_date": "2024-06-15"}
    cases = [
        {**case, "case_id": f"C{i:03d}", "total_cost": 12000.0, "incentive_approved": False}
        for i in range(260)  # 4‰ of 261 DRG cases: a quota of 1
    ] + [{**case, "case_id": "K", "total_cost": 13000.0, "incentive_approved": True}]
    data = {
        "hospitals": hospitals,
        "groups": [{"drg_code": "GB15", "weight": 1.2, "avg_cost": 12000}],
        "cases": cases,
        "budget": {"drg_fund": 1000000},
    }
    policy = COMPILED[XUANCHENG_2024]
    with tempfile.TemporaryDirectory() as folder:
        result = settle(
            policy, load_data(write_dataset(data, Path(folder)), policy), Period.parse("2024")
        )
    kept = result.stages["settlement"].cases.filter(pl.col("case_id") == "K")
    assert kept["settled_points"].item() == pytest.approx(13000 / (12000 * 260 + 13000) * 261e2)
    assert kept["coefficient"].item() == 1
    assert check_invariants(result, monotone_cases=300) == []


def _fen(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def three_piece(cost: Decimal, payable: Decimal) -> Decimal:
    """The slide's rule, computed independently and exactly in decimal: under 70% of the year
    payable the actual cost; from 70% (inclusive) to 90% 110% of it; from 90% (inclusive) the
    year payable. The bands compare cost with payable × 70% / 90% unrounded."""
    if cost < payable * Decimal("0.7"):
        return cost
    if cost < payable * Decimal("0.9"):
        return _fen(cost * Decimal("1.1"))
    return payable


def wuxi_corrected(cost: Decimal, payable: Decimal) -> Decimal:
    """Wuxi's year actual payment (年度实际支付总额) of one hospital whose cases cost `cost`, with
    its year payable (住院年度应支付总额) fixed at `payable`."""
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
        "assessments": [
            {"hospital_id": "H1", "assessment": name, "score": 100, "year": 2024}
            for name in ("drg_assessment", "insurance_assessment")
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
            Settings(definitions={"year_payable": float(payable)}),
        )
    frame = result.stages["year_end"].frame_of("year_actual_payment")
    return Decimal(str(frame["year_actual_payment"][0])).quantize(Decimal("0.01"))


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
    """At any cost between 30% and 150% of the year payable, the year actual payment is the rule
    of the band the exact ratio cost ÷ payable falls in."""
    cost = _fen(payable * ratio)
    corrected = wuxi_corrected(cost, payable)
    exact = cost / payable
    if exact < Decimal("0.7"):  # 未达到70%: the actual cost
        assert corrected == cost
    elif exact < Decimal("0.9"):  # 70%（含）至90%: 110% of the actual cost
        assert corrected == _fen(cost * Decimal("1.1"))
        assert cost < corrected <= payable
    else:  # 90%以上（含90%）: the year payable
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
    """The clearing coefficient of each hospital from the hospitals table, written out: the tier
    averages of (1 + growth), each divided by the hospital's own value (层级平均 ÷ 本院), and the
    hospital's accuracy divided by its tier's average (本院 ÷ 层级平均), weighted 40/40/20 and
    kept within [0.9, 1.1]."""
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


def _sample_scores() -> dict[tuple[str, str], Decimal]:
    """(hospital, assessment) → the 2024 score in the sample's assessments.csv."""
    frame = pl.read_csv(SAMPLE / "assessments.csv", infer_schema=False)
    return {
        (row["hospital_id"], row["assessment"]): Decimal(row["score"])
        for row in frame.iter_rows(named=True)
        if row["year"] == "2024"
    }


def _sample_audit_deductions() -> dict[str, Decimal]:
    """Per hospital, the sum of the sample's 2024 deductions of kind audit_deduction."""
    frame = pl.read_csv(SAMPLE / "deductions.csv", infer_schema=False)
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for row in frame.iter_rows(named=True):
        if row["kind"] == "audit_deduction" and row["date"].startswith("2024-"):
            sums[row["hospital_id"]] += Decimal(row["amount"])
    return sums


def test_wuxi_year_total_is_recomputed_from_the_inputs(
    wuxi_sample: tuple[Any, Any],
    wuxi_year: dict[str, dict[str, Any]],
    wuxi_months: dict[str, dict[str, Decimal]],
) -> None:
    """year_total = year_actual_payment − drg_assessment_deduction − audit_deduction −
    (deposit_withheld − deposit_returned), every term recomputed here: the DRG payable from the
    year-end case payments, the clearing coefficient from the hospitals table, the year payable
    (DRG payable × coefficient, to the fen), the actual cost from the cases file, the three-piece
    correction in decimal against the year payable, the DRG assessment cut (1‰ of the year actual
    payment per point under 90, at most 3%) from assessments.csv, the audit deductions from
    deductions.csv, the deposit from the twelve month runs and the insurance assessment score."""
    _, inputs = wuxi_sample
    costs = _sum_by_hospital(inputs.cases, "total_cost")
    coefficients = _clearing_coefficients(inputs.hospitals)
    scores = _sample_scores()
    audits = _sample_audit_deductions()
    assert sum(audits.values()) > 0  # the sample has audit deductions for Wuxi to apply
    cuts = 0
    for hospital, row in wuxi_year.items():
        payable = row["payments"]
        assert _money(row["drg_payable"]) == payable
        assert row["clearing_coefficient"] == pytest.approx(coefficients[hospital], rel=1e-12)
        year_payable = _fen(payable * Decimal(repr(coefficients[hospital])))
        assert _money(row["year_payable"]) == year_payable, hospital
        assert _money(row["actual_cost"]) == costs[hospital]
        actual = three_piece(costs[hospital], year_payable)
        assert _money(row["year_actual_payment"]) == actual, hospital
        short = max(Decimal(90) - scores[hospital, "drg_assessment"], Decimal(0))
        cut = _fen(actual * min(short * Decimal("0.001"), Decimal("0.03")))
        cuts += cut > 0
        assert _money(row["drg_assessment_deduction"]) == cut, hospital
        audit = audits.get(hospital, Decimal(0))
        assert _money(row["audit_deduction"]) == audit, hospital
        withheld = wuxi_months["deposit"][hospital]
        share = min(max(scores[hospital, "insurance_assessment"] / 100, Decimal(0)), Decimal(1))
        returned = _fen(withheld * share)
        assert _money(row["deposit_returned"]) == returned, hospital
        expected = actual - cut - audit - (withheld - returned)
        assert _money(row["year_total"]) == expected, hospital
        assert _money(row["year_end_due"]) == expected - wuxi_months["payment"][hospital]
    assert cuts > 0  # some hospitals score under 90 in the sample: the cut is exercised
