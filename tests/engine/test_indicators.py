"""The run-monitoring indicators of a settlement (`indicators.csv`), against values computed by
hand: the low-risk group rule, growth rates across two runs, targets, and what is not available.
(CMI, both consumption indices and the patient burden rate on five hospitals and three groups:
`policies/suzhou/examples/monitoring_indicators.yaml`.)"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from engine.inputs.previous import Previous, PreviousError
from engine.inputs.rundata import Period
from engine.run.outputs import write_outputs
from engine.run.settle import Settlement, load_data, load_policy, settle
from tests.conftest import run_cli
from tests.engine.datasets import write_dataset

REPO = Path(__file__).resolve().parents[2]
SUZHOU = REPO / "policies" / "suzhou" / "2024.policy"
WUHAN = REPO / "policies" / "wuhan" / "2024.policy"


def settled(folder: Path, period: str = "2024", **kwargs: Any) -> Settlement:
    policy = load_policy(SUZHOU)
    return settle(policy, load_data(folder, policy), Period.parse(period), **kwargs)


def value(result: Settlement, indicator: str, grain: str, key: str | None = None) -> float | None:
    """One row's value (the city's by default); None if the row is empty or absent."""
    table = result.indicators()
    rows = table.filter(
        (pl.col("indicator") == indicator)
        & (pl.col("grain") == grain)
        & (pl.col("key") == (key or result.policy.city))
    )
    cell = rows["value"][0] if rows.height else None
    return None if cell is None else float(cell)


def near(expected: float) -> Any:
    """As written to `indicators.csv`: to 10 significant digits (half a unit of the tenth is at
    most 5e-10 of the value)."""
    return pytest.approx(expected, rel=1e-9, abs=1e-12)


def note(result: Settlement, indicator: str, grain: str = "city") -> str:
    rows = result.indicators().filter(
        (pl.col("indicator") == indicator) & (pl.col("grain") == grain)
    )
    return str(rows["note"][0])


def city(cases: list[dict[str, Any]], groups: list[dict[str, Any]]) -> dict[str, Any]:
    hospitals = [{"hospital_id": h, "level": 3} for h in sorted({c["hospital_id"] for c in cases})]
    return {"hospitals": hospitals, "groups": groups, "cases": cases, "budget": {"drg_fund": 1e6}}


def case(n: int, hospital: str, group: str, **fields: Any) -> dict[str, Any]:
    base = {
        "case_id": f"C{n:05d}",
        "hospital_id": hospital,
        "drg_code": group,
        "total_cost": 10000.0,
        "discharge_date": "2024-03-15",
    }
    return base | fields


# ---- low-risk groups (低风险组) -----------------------------------------------------------------


def test_low_risk_groups_are_those_below_minus_one_standard_deviation_of_log_mortality(
    tmp_path: Path,
) -> None:
    """Five groups' mortality: A 0/20, B 1/100, C 1/10, D 5/10, E 2/10. The logs of B–E are
    −4.60517, −2.302585, −0.693147, −1.609438: mean −2.302585, population sd 1.446776, so
    z = −1.5915 (B), 0 (C), 1.1127 (D), 0.4792 (E). Low risk: B (z < −1) and A (no death).
    Their mortality: 1 death in 120 cases. H1 has A and half of B (0 of 70), H2 the rest."""
    deaths = {"A": (0, 20), "B": (1, 100), "C": (1, 10), "D": (5, 10), "E": (2, 10)}
    cases, n = [], 0
    for group, (died, count) in deaths.items():
        for i in range(count):
            hospital = "H1" if group == "A" or (group == "B" and i >= 50) else "H2"
            outcome = 5 if i < died else 1
            cases.append(case(n, hospital, group, discharge_outcome=outcome))
            n += 1
    groups = [{"drg_code": g, "weight": 1.0, "avg_cost": 10000} for g in deaths]
    result = settled(write_dataset(city(cases, groups), tmp_path))
    listed = result.indicators().filter(pl.col("indicator") == "low_risk_groups")
    assert listed["key"].to_list() == ["A", "B"]
    assert listed["value"].to_list() == ["20", "100"]
    assert value(result, "low_risk_mortality", "city") == near(1 / 120)
    assert value(result, "low_risk_mortality", "hospital", "H1") == 0
    assert value(result, "low_risk_mortality", "hospital", "H2") == near(1 / 50)
    assert value(result, "mortality", "city") == near(9 / 150)


def test_a_group_whose_z_is_just_above_minus_one_is_not_low_risk(tmp_path: Path) -> None:
    """Two groups with deaths, 1/100 and 1/10: their logs are the mean ∓ sd (z = ∓1, judged
    within the comparisons' tolerance), and `z < −1` is strict: 1/100 is not low risk — only
    the group without deaths is."""
    deaths = {"A": (0, 10), "B": (1, 100), "C": (1, 10)}
    cases = []
    for group, (died, count) in deaths.items():
        for i in range(count):
            outcome = 5 if i < died else 1
            cases.append(case(len(cases), "H1", group, discharge_outcome=outcome))
    groups = [{"drg_code": g, "weight": 1.0, "avg_cost": 10000} for g in deaths]
    result = settled(write_dataset(city(cases, groups), tmp_path))
    listed = result.indicators().filter(pl.col("indicator") == "low_risk_groups")
    z = (math.log(0.01) - (math.log(0.01) + math.log(0.1)) / 2) / (
        abs(math.log(0.01) - math.log(0.1)) / 2
    )
    assert z == pytest.approx(-1)
    assert listed["key"].to_list() == ["A"]


def test_groups_whose_log_mortality_averages_zero_settle(tmp_path: Path) -> None:
    """Every case of A died (mortality 1, log 0) and none of B: the logs' mean is 0, where the
    standard deviation once came from `cv × mean` — NaN, and the run (payments included) was
    stopped. Now the spread is a variance (0 here): no group is low risk by its z, B by having
    no death; the payments are made."""
    cases = [case(n, "H1", "A", discharge_outcome=5) for n in range(2)]
    cases += [case(n, "H1", "B", discharge_outcome=1) for n in range(2, 12)]
    groups = [{"drg_code": g, "weight": 1.0, "avg_cost": 10000} for g in ("A", "B")]
    result = settled(write_dataset(city(cases, groups), tmp_path))
    listed = result.indicators().filter(pl.col("indicator") == "low_risk_groups")
    assert listed["key"].to_list() == ["B"]
    assert value(result, "mortality", "city") == near(2 / 12)
    assert result.cases()["payment"].sum() == pytest.approx(1e6)


# ---- growth rates across two runs -------------------------------------------------------------


def two_months(tmp_path: Path) -> tuple[Path, Path]:
    """March: H1 G1 ×4 (weight 1), H2 G2 ×6 (weight 2); 12 persons... April: H1 G1 ×3 and G2
    ×2, H2 G2 ×6. Costs 10000 each, except April's G2 cases at H2 (12000)."""
    groups = [
        {"drg_code": "G1", "weight": 1.0, "avg_cost": 10000},
        {"drg_code": "G2", "weight": 2.0, "avg_cost": 20000},
    ]
    march = [case(i, "H1", "G1", person_id=f"P{i % 2}") for i in range(4)]
    march += [case(10 + i, "H2", "G2", person_id=f"Q{i}") for i in range(6)]
    april = [case(20 + i, "H1", "G1", person_id=f"P{i}") for i in range(3)]
    april += [case(30 + i, "H1", "G2", person_id=f"P{i}") for i in range(2)]
    april += [case(40 + i, "H2", "G2", total_cost=12000.0, person_id=f"Q{i}") for i in range(6)]
    for row in april:
        row["discharge_date"] = "2024-04-15"
    return (
        write_dataset(city(march, groups), tmp_path / "march"),
        write_dataset(city(april, groups), tmp_path / "april"),
    )


def test_growth_rates_read_the_previous_run(tmp_path: Path) -> None:
    """CMI: March (4 + 12) / 10 = 1.6, April (3 + 4 + 12) / 11 = 19/11 → growth 19/17.6 − 1.
    H1's cases 4 → 5 (+25%); group G1 4 → 3 (−25%). Cost per weight: March 100000 / 16 = 6250,
    April (50000 + 72000) / 19 → growth. Admissions per person: March 10 / 8 = 1.25; April
    11 / 9 → growth (11/9) / 1.25 − 1."""
    march, april = two_months(tmp_path)
    first = settled(march, "2024-03")
    write_outputs(first, tmp_path / "out-03")
    second = settled(april, "2024-04", previous=Previous.read(tmp_path / "out-03", "suzhou"))
    assert value(first, "cmi", "city") == near(1.6)
    assert value(second, "cmi", "city") == near(19 / 11)
    assert value(second, "cmi_growth", "city") == near((19 / 11) / 1.6 - 1)
    assert value(second, "case_growth", "hospital", "H1") == near(0.25)
    assert value(second, "case_growth", "group", "G1") == near(-0.25)
    assert value(second, "unit_weight_cost_growth", "city") == near((122000 / 19) / 6250 - 1)
    assert value(first, "admissions_per_person", "city") == near(1.25)
    assert value(second, "admissions_per_person_growth", "city") == near((11 / 9) / 1.25 - 1)


def test_without_a_previous_run_a_growth_rate_is_not_available_never_zero(tmp_path: Path) -> None:
    march, _ = two_months(tmp_path)
    result = settled(march, "2024-03")
    rows = result.indicators().filter(pl.col("indicator") == "cmi_growth")
    assert rows["value"].to_list() == [None] * rows.height
    assert rows["key"].to_list() == [""] * rows.height
    assert note(result, "cmi_growth").startswith("not available: no previous run")


def test_a_previous_run_of_another_city_is_refused(tmp_path: Path) -> None:
    march, _ = two_months(tmp_path)
    write_outputs(settled(march, "2024-03"), tmp_path / "out-03")
    with pytest.raises(PreviousError, match="is a run of suzhou, not of wuhan"):
        Previous.read(tmp_path / "out-03", "wuhan")
    with pytest.raises(PreviousError, match="not a folder"):
        Previous.read(tmp_path / "nowhere", "suzhou")


@pytest.mark.parametrize("period", ["2024-03", "2024-02", "2024"])
def test_a_previous_run_that_does_not_end_before_the_period_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], period: str
) -> None:
    """March's run as the `--previous` of March, February or the year was taken (exit 0), its
    values the "growth" compared with."""
    march, april = two_months(tmp_path)
    write_outputs(settled(march, "2024-03"), tmp_path / "out-03")
    argv = ["settle", "--policy", str(SUZHOU), "--data", str(april), "--period", period]
    code, _, err = run_cli(
        capsys, *argv, "--out", str(tmp_path / "out"), "--previous", str(tmp_path / "out-03")
    )
    assert code == 1 and f"settled 2024-03, which does not end before {period}" in err, err
    assert not (tmp_path / "out").exists()
    assert Previous.read(tmp_path / "out-03", "suzhou", Period.parse("2024-04")).period == "2024-03"


@pytest.mark.parametrize(("period", "months"), [("2024-Q2", "3 months"), ("2025", "12 months")])
def test_a_previous_run_of_another_length_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], period: str, months: str
) -> None:
    """March's run as the `--previous` of the second quarter or of 2025 was taken (exit 0):
    case_growth compared a quarter's or a year's cases with a month's."""
    march, april = two_months(tmp_path)
    write_outputs(settled(march, "2024-03"), tmp_path / "out-03")
    argv = ["settle", "--policy", str(SUZHOU), "--data", str(april), "--period", period]
    code, _, err = run_cli(
        capsys, *argv, "--out", str(tmp_path / "out"), "--previous", str(tmp_path / "out-03")
    )
    expected = f"settled 2024-03 (1 month), not a period as long as {period} ({months})"
    assert code == 1 and expected in err and "Traceback" not in err, err
    assert not (tmp_path / "out").exists()


def test_a_previous_run_two_months_back_is_refused_a_year_back_taken(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """March's run as the `--previous` of May was taken (exit 0): its "growth rate" spanned two
    months. The period just before (环比) or the same period a year earlier (同比) is taken."""
    march, april = two_months(tmp_path)
    write_outputs(settled(march, "2024-03"), tmp_path / "out-03")
    argv = ["settle", "--policy", str(SUZHOU), "--data", str(april), "--period", "2024-05"]
    code, _, err = run_cli(
        capsys, *argv, "--out", str(tmp_path / "out"), "--previous", str(tmp_path / "out-03")
    )
    expected = (
        "settled 2024-03, not the period just before 2024-05 nor the same period a year "
        "earlier: growth rates compare 2024-05 with 2024-04 or 2023-05 (环比: the period "
        "before; 同比: a year earlier)"
    )
    assert code == 1 and expected in err and "Traceback" not in err, err
    assert not (tmp_path / "out").exists()
    for period in ("2024-04", "2025-03"):
        taken = Previous.read(tmp_path / "out-03", "suzhou", Period.parse(period))
        assert taken.period == "2024-03"
    with pytest.raises(PreviousError, match="compare 2025-Q2 with 2025-Q1 or 2024-Q2"):
        quarter = tmp_path / "out-q"
        write_outputs(settled(march, "2024-Q1"), quarter)
        Previous.read(quarter, "suzhou", Period.parse("2025-Q2"))


# ---- not available, targets -------------------------------------------------------------------


def test_an_indicator_whose_column_is_absent_is_not_available_and_says_which(
    tmp_path: Path,
) -> None:
    cases = [case(i, "H1", "G1", los=4 + i) for i in range(3)]
    groups = [{"drg_code": "G1", "weight": 1.0, "avg_cost": 10000}]
    result = settled(write_dataset(city(cases, groups), tmp_path))
    assert value(result, "avg_los", "city") == 5
    for name, column in [
        ("patient_burden_rate", "patient_paid"),
        ("mortality", "discharge_outcome"),
        ("admissions_per_person", "person_id"),
        ("self_paid_share", "self_paid"),
        ("drug_share", "drug_cost"),
        ("targeted_groups", "targeted_therapy"),
    ]:
        grain = "group" if name == "targeted_groups" else "city"
        assert value(result, name, grain) is None
        expected = "groups.csv" if grain == "group" else "cases.csv"
        assert note(result, name, grain) == f"not available: {expected} has no column {column}"


def test_wuhan_checks_its_grouping_rate_floor_per_month(tmp_path: Path) -> None:
    """March 9 of 10 cases grouped (90%: met, "90%以上" includes 90%), April 8 of 10 (not)."""
    cases = [case(i, "H1", "G1" if i not in (0,) else "0000") for i in range(10)]
    cases += [
        case(20 + i, "H1", "G1" if i > 1 else "0000", discharge_date="2024-04-10")
        for i in range(10)
    ]
    groups = [{"drg_code": "G1", "weight": 1.0, "avg_cost": 10000}]
    folder = write_dataset(city(cases, groups), tmp_path)
    policy = load_policy(WUHAN)
    result = settle(policy, load_data(folder, policy), Period.parse("2024"))
    rows = result.indicators().filter(
        (pl.col("indicator") == "grouping_rate") & (pl.col("grain") == "month")
    )
    assert rows.select("key", "value", "target", "met").rows() == [
        ("2024-03", "0.9", ">= 0.9", True),
        ("2024-04", "0.8", ">= 0.9", False),
    ]
    assert result.monitoring() is not None
    summary = result.indicators().filter(
        (pl.col("indicator") == "grouping_rate") & (pl.col("grain") == "city")
    )
    assert summary.select("value", "met").row(0) == ("0.85", False)
