"""The benchmark's hand-written polars plan (`bench/handwritten.py`) settles Xuancheng 2024 exactly
as the engine does: per case the same category, case points, coefficient, settled points and
payment (payments equal to the fen, points within 1e-9 relative), and the same statements."""

from __future__ import annotations

import dataclasses
import itertools
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings

from bench import handwritten
from bench.simple import handwritten as simple
from engine.inputs.contract import load_inputs
from engine.inputs.rundata import Period
from engine.plan import money
from engine.run.outputs import stage_tables, write_outputs
from engine.run.settle import Settlement, load_data, load_policy, policy_fields, settle
from engine.synthetic.sample import generate_sample
from policy_dsl import ir
from tests.conftest import POLICIES
from tests.engine.datasets import datasets, write_dataset

POLICY = POLICIES / "xuancheng" / "2024.policy"
POINTS = ["base_points", "case_points", "coefficient", "settled_points", "point_value"]
RELATIVE = 1e-9


@pytest.fixture(scope="module")
def policy() -> ir.Policy:
    return load_policy(POLICY)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("city50k")
    generate_sample(folder, cases=50_000, seed=11, fmt="parquet")
    return folder


def both(policy: ir.Policy, data: Path) -> tuple[Settlement, handwritten.Result]:
    engine = settle(policy, load_data(data, policy), Period.parse("2024"))
    # the policy's own hospital columns too (filed_coefficient, hospital_type)
    inputs = load_inputs(data, extra=policy_fields(policy)[0], budget_names=["drg_fund"])
    hand = handwritten.settle(inputs, 2024)
    return engine, hand


def case_disagreements(engine: Settlement, hand: handwritten.Result) -> dict[str, Any]:
    """Per output, the number of cases that differ (and a few of their ids)."""
    expected = engine.cases().with_columns(
        money.to_fen(pl.col("payment")).alias("payment"), pl.col("category").cast(pl.String)
    )
    got = hand.cases.with_columns(pl.col("category").cast(pl.String))
    assert expected["case_id"].to_list() == got["case_id"].to_list()
    joined = expected.join(got, on="case_id", suffix="_hand", maintain_order="left")
    found: dict[str, Any] = {}
    for name in ["category", "payment", *POINTS]:
        a, b = pl.col(name), pl.col(f"{name}_hand")
        if name in POINTS:  # Float64: a value missing on every row is a column of dtype Null
            a, b = a.cast(pl.Float64), b.cast(pl.Float64)
            same = ((a - b).abs() <= RELATIVE * pl.max_horizontal(a.abs(), b.abs())) | (
                a.is_null() & b.is_null()
            )
        else:
            same = a.eq_missing(b)
        bad = joined.filter(~same.fill_null(False))
        if bad.height:
            found[name] = (bad.height, bad["case_id"].head(5).to_list())
    return found


def assert_same(engine: Settlement, hand: handwritten.Result) -> None:
    assert case_disagreements(engine, hand) == {}
    tables = stage_tables(engine, "settlement")
    statements = {
        "hospitals": handwritten.hospital_statement(hand),
        "summary": handwritten.period_summary(hand),
    }
    for name, got in statements.items():
        expected = tables[name]
        assert got.columns == expected.columns, name
        assert got.height == expected.height, name
        exact = [
            c for c, t in expected.schema.items() if not t.is_float() or c == "horse_race_rank"
        ]
        assert got.select(exact).cast(pl.String).equals(expected.select(exact).cast(pl.String)), (
            name
        )
        for column in set(expected.columns) - set(exact) - {"budget"}:
            a, b = expected[column], got[column]
            assert ((a - b).abs() <= RELATIVE * a.abs()).fill_null(True).all(), (name, column)
            assert a.null_count() == b.null_count(), (name, column)


def test_sample_settles_the_same(policy: ir.Policy, sample_dir: Path) -> None:
    engine, hand = both(policy, sample_dir)
    assert hand.cases.height == 20_000
    assert_same(engine, hand)


def test_generated_50k_settles_the_same(policy: ir.Policy, generated: Path) -> None:
    engine, hand = both(policy, generated)
    assert hand.cases.height == 50_000
    # the rules this city exercises, so that agreement means something
    counts = hand.cases["category"].value_counts()
    assert set(counts["category"].cast(pl.String)) == set(handwritten.CLASSES)
    assert_same(engine, hand)


@pytest.mark.parametrize("plan", [handwritten, simple], ids=["xuancheng", "simple"])
def test_the_same_bits_however_the_cases_are_chunked(
    generated: Path, policy: ir.Policy, plan: Any
) -> None:
    """A float sum's last bits follow the order of its additions — the frame's chunks and polars'
    threads (at 10M, two payments moved a fen between runs): each hand-written plan's results
    (the Xuancheng statements too) are the same bits from one chunk as from many."""
    inputs = load_inputs(generated, extra=policy_fields(policy)[0], budget_names=["drg_fund"])
    prepared = plan.prepare(inputs, 2024)
    whole = prepared.cases.rechunk()
    cuts = [i * whole.height // 16 for i in range(17)]
    chunked = pl.concat([whole.slice(a, b - a) for a, b in itertools.pairwise(cuts)], rechunk=False)
    assert chunked.n_chunks() == 16 and chunked.equals(whole)
    one = plan.settle_prepared(dataclasses.replace(prepared, cases=whole))
    many = plan.settle_prepared(dataclasses.replace(prepared, cases=chunked))
    for field in dataclasses.fields(one):
        a, b = getattr(one, field.name), getattr(many, field.name)
        assert a.equals(b) if isinstance(a, pl.DataFrame) else a == b, field.name
    if plan is handwritten:
        assert handwritten.hospital_statement(one).equals(handwritten.hospital_statement(many))


def test_payments_close_the_budget(policy: ir.Policy, generated: Path) -> None:
    engine, hand = both(policy, generated)
    fund = Decimal(str(engine.inputs.budget["values"]["drg_fund"]))
    assert hand.budget_fen == int(fund * 100)  # the year's budget, to the fen
    assert hand.cases["payment"].sum() == hand.budget_fen
    assert engine.cases().select(money.to_fen(pl.col("payment")).sum()).item() == hand.budget_fen


def test_a_province_budget_is_not_moved_by_the_rounding_tolerance() -> None:
    """1.7e12 fen (a 170-million-yuan-a-month province): exact to the fen."""
    assert handwritten.round_half_away(1_738_855_926_200.0) == 1_738_855_926_200
    assert handwritten.round_half_away(100.5) == 101
    assert handwritten.round_half_away(1.005 * 100) == 101  # 100.49999999999999


def test_written_files_agree(policy: ir.Policy, sample_dir: Path, tmp_path: Path) -> None:
    """Same files, same columns; the same payment text for every case."""
    engine, hand = both(policy, sample_dir)
    write_outputs(engine, tmp_path / "engine")
    handwritten.write_outputs(hand, tmp_path / "hand", handwritten.Stamp(hash=policy.hash))
    for name in ("rejects.csv", "settlement/cases.csv", "settlement/hospitals.csv"):
        expected = pl.read_csv(tmp_path / "engine" / name, infer_schema=False)
        got = pl.read_csv(tmp_path / "hand" / name, infer_schema=False)
        assert got.columns == expected.columns, name
        money_columns = [c for c in ("payment", "total_cost") if c in got.columns]
        assert got.select(money_columns).equals(expected.select(money_columns)), name


def boundary_city() -> dict[str, Any]:
    """Cases exactly at (and a fen either side of) every threshold of the 2023/2024 rules."""
    hospitals = [
        {
            "hospital_id": "H1",
            "level": 1,
            "is_new": False,
            "hist_avg_cost": 8000,
            "hist_cases": 90,
            "hist_weight_total": 60,
            "filed_coefficient": None,
        },
        {
            "hospital_id": "H2",
            "level": 2,
            "is_new": False,
            "hist_avg_cost": 9000,
            "hist_cases": 200,
            "hist_weight_total": 180,
            "filed_coefficient": None,
        },
        {
            "hospital_id": "H3",
            "level": 3,
            "is_new": False,
            "hist_avg_cost": 12000,
            "hist_cases": 500,
            "hist_weight_total": 700,
            "filed_coefficient": None,
        },
        {
            "hospital_id": "H4",
            "level": 2,
            "is_new": True,
            "hist_avg_cost": 0,
            "hist_cases": 0,
            "hist_weight_total": 0,
            "filed_coefficient": 0.5,
        },
        {
            "hospital_id": "H5",
            "level": 1,
            "is_new": False,
            "hist_avg_cost": 0,
            "hist_cases": 0,
            "hist_weight_total": 0,
            "filed_coefficient": 1.5,
        },
    ]
    groups = [  # every benchmark 10 000 元, so cost ratios are exact
        {"drg_code": "GB11", "weight": 1.6, "avg_cost": 10000},
        {"drg_code": "GB15", "weight": 0.8, "avg_cost": 10000},  # 100 cases, CV ≤ 1: stable
        {"drg_code": "HC23", "weight": 1.0, "avg_cost": 10000},  # 6 cases, CV ≤ 1: stable
        {"drg_code": "ES35", "weight": 3.0, "avg_cost": 10000},  # base points 300: k = 2
        {"drg_code": "FV25", "weight": 0.5, "avg_cost": 10000},  # 5 cases, CV ≤ 1: unstable
        {"drg_code": "FV23", "weight": 0.7, "avg_cost": 10000},  # 100 cases, CV > 1: unstable
    ]
    cases: list[dict[str, Any]] = []

    def case(case_id: str, hospital: str, code: str, cost: float, **flags: Any) -> None:
        cases.append(
            {
                "case_id": case_id,
                "hospital_id": hospital,
                "drg_code": code,
                "total_cost": cost,
                "discharge_date": "2024-06-15",
                "bilateral": flags.get("bilateral", False),
                "multi_site": flags.get("multi_site", False),
                "secondary_drg": flags.get("secondary_drg", ""),
                "incentive_approved": flags.get("incentive", False),
                "special_review": flags.get("special", False),
                "unreasonable_cost": flags.get("unreasonable", 0.0),
            }
        )

    boundary = [
        ("B01", "H1", "GB15", 3000.00),  # level 1, exactly 0.3×: low (以下 includes 0.3×)
        ("B02", "H1", "GB15", 2999.99),  # level 1, below 0.3×: low
        ("B12", "H1", "GB15", 3000.01),  # level 1, above 0.3×: normal
        ("B03", "H2", "GB15", 4000.00),  # level 2, exactly 0.4×: low (inclusive)
        ("B04", "H2", "GB15", 4000.01),  # level 2, above 0.4×: normal
        ("B05", "H1", "GB15", 3500.00),  # level 1, between 0.3× and 0.4×: normal
        ("B06", "H2", "GB15", 30000.00),  # base points 80, exactly 3×: high (inclusive)
        ("B07", "H2", "GB15", 29999.99),  # just below: normal
        ("B08", "H2", "HC23", 25000.00),  # base points 100, exactly 2.5×: high
        ("B09", "H2", "HC23", 24999.99),
        ("B10", "H3", "ES35", 20000.00),  # base points 300, exactly 2×: high
        ("B11", "H3", "ES35", 19999.99),
    ]
    for case_id, hospital, code, cost in boundary:
        case(case_id, hospital, code, cost)
    case("M01", "H2", "GB15", 10000, multi_site=True, secondary_drg="GB11")  # + 50% of GB15
    # HC2 has no 5/9 group in this catalog: no no-CC group, the secondary adds nothing
    case("M02", "H2", "GB15", 10000, multi_site=True, secondary_drg="HC23")
    case("M03", "H2", "GB15", 10000, bilateral=True)
    case("M04", "H2", "GB15", 10000, bilateral=True, multi_site=True, secondary_drg="GB11")
    case("M05", "H2", "GB15", 2000, bilateral=True)  # low, bilateral
    # new, filed 0.5: below the level's lowest (H2's, the only level-2 hospital with history)
    case("M06", "H4", "GB15", 9000)
    case("M07", "H5", "GB15", 9500)  # no history, filed 1.5: above the level's lowest (H1's)
    case("M08", "H2", "FV25", 30000, bilateral=True)  # unstable: no bilateral
    case("S01", "H2", "GB15", 20000, special=True, unreasonable=1000)
    case("U01", "H3", "0000", 15000)
    case("U02", "H3", "GQY", 15000, incentive=True)
    case("I01", "H3", "GB15", 40000, incentive=True)  # equal points: I01 kept (quota 1)
    case("I02", "H3", "GB15", 40000, incentive=True)
    # high, 1500 points by its group: its incentive points are fewer, so it is no candidate
    case("I03", "H3", "ES35", 60000, incentive=True)
    for i in range(4):
        case(f"K{i:02d}", "H3", "HC23", [9000, 11000, 12000, 10000][i])
        case(f"E{i:02d}", "H3", "ES35", 10000)
    for i in range(4):  # with M08, 5 cases
        case(f"P{i:02d}", "H3", "FV25", 10000 + i)
    filler = 100 - sum(c["drg_code"] == "GB15" for c in cases)
    for i in range(filler):
        case(f"R{i:03d}", "H3", "GB15", 5000)
    for i in range(100):  # the large-number threshold reached, CV > 1: unstable all the same
        case(f"V{i:03d}", "H3", "FV23", 200000 if i < 5 else 1000)
    return {
        "hospitals": hospitals,
        "groups": groups,
        "cases": cases,
        "budget": {"drg_fund": 1234567.89},
    }


def test_every_boundary_settles_the_same(policy: ir.Policy, tmp_path: Path) -> None:
    engine, hand = both(policy, write_dataset(boundary_city(), tmp_path))
    assert case_disagreements(engine, hand) == {}
    category = dict(hand.cases.select("case_id", pl.col("category").cast(pl.String)).iter_rows())
    expected = {
        "B01": "low",
        "B02": "low",
        "B12": "normal",
        "B03": "low",
        "B04": "normal",
        "B05": "normal",
        "B06": "high",
        "B07": "normal",
        "B08": "high",
        "B09": "normal",
        "B10": "high",
        "B11": "normal",
        "M08": "unstable",
        "P00": "unstable",
        "V000": "unstable",
        "R000": "normal",
        "K00": "normal",
        "S01": "special",
        "U01": "ungrouped",
        "U02": "ungrouped",
    }
    assert {k: category[k] for k in expected} == expected
    points = dict(hand.cases.select("case_id", "case_points").iter_rows())
    assert points["M01"] == pytest.approx(80 + 40)
    assert points["M02"] == pytest.approx(80)
    assert points["M03"] == pytest.approx(120)
    # bilateral 1.5 × 80 = 120, then multi-site the higher of 120 and 80 + 40: 120
    assert points["M04"] == pytest.approx(80 * 1.5)
    assert points["M05"] == pytest.approx(80 * 1.5)  # low (16 points), bilateral: 1.5 × base
    assert points["M08"] == pytest.approx(points["P00"] * 3, rel=1e-3)  # by cost, no bilateral
    # quota 1 at H3: of two equal incentive cases the smaller id is kept, the other is high
    assert points["I01"] > 300
    assert points["I02"] == pytest.approx(80 + (4 - 3) * 80)
    assert points["I03"] == pytest.approx(300 + (6 - 2) * 300)
    # H2's cost per weight 9000 × 200 ÷ 180 = 10 000, the city's 8 520 000 ÷ 940: the level-2
    # coefficient, H2's, and the lowest; a new hospital's filed coefficient is held to it
    settled = dict(hand.cases.select("case_id", "settled_points").iter_rows())
    assert settled["M06"] == pytest.approx(80 * 10000 * 940 / 8_520_000)
    assert settled["M07"] == pytest.approx(80 * 1.5)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=datasets())
def test_boundaries_settle_the_same(policy: ir.Policy, tmp_path_factory: Any, data: Any) -> None:
    """Small cities with costs at and around every threshold, new hospitals, incentives."""
    folder = write_dataset(data, tmp_path_factory.mktemp("boundaries"))
    engine, hand = both(policy, folder)
    assert case_disagreements(engine, hand) == {}
