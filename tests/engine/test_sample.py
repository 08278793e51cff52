"""The synthetic city: realistic shape, loads cleanly, byte-identical by seed."""

from __future__ import annotations

import math
import re
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from engine.inputs.contract import Inputs, load_inputs
from engine.synthetic.sample import generate_sample

SAMPLE = Path(__file__).resolve().parents[2] / "sample"
FILES = (
    "cases.csv",
    "hospitals.csv",
    "groups.csv",
    "deductions.csv",
    "assessments.csv",
    "budget.yaml",
    "README.md",
    "sample.json",
)
BASE_GROUPS = {
    "CB59": "晶状体手术",
    "ES35": "呼吸系统感染／炎症，不伴合并症或并发症",
    "EX15": "哮喘及喘息性支气管炎，不伴合并症或并发症",
    "FV25": "高血压，不伴合并症或并发症",
    "GE29": "阑尾切除术",
    "GF39": "腹股沟疝及股疝手术",
    "HC25": "胆囊切除手术，不伴合并症或并发症",
    "IU29": "颈腰背疾病",
    "LR15": "肾功能不全，不伴合并症或并发症",
    "OB19": "剖宫产术",
    "OC29": "阴道分娩伴手术操作",
    "BR25": "其他脑缺血性疾病，不伴合并症或并发症",
    "DT19": "中耳炎及上呼吸道感染",
    "GS15": "胃肠出血，不伴合并症或并发症",
}


def number(value: object) -> float:
    """A statistic polars returns loosely typed, as a float."""
    assert isinstance(value, int | float)
    return float(value)


@pytest.fixture(scope="module")
def sample() -> Inputs:
    return load_inputs(SAMPLE, budget_names=["drg_fund", "inpatient_fund", "tier_budget"])


def test_bundled_sample_is_what_the_generator_makes_byte_for_byte(tmp_path: Path) -> None:
    summary = generate_sample(tmp_path, cases=20_000, seed=2024)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes(), name
    assert (summary["cases"], summary["hospitals"], summary["groups"]) == (20_000, 13, 602)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES)  # no temporary files left


def test_parquet_generation_is_reproducible_and_depends_on_the_seed(tmp_path: Path) -> None:
    runs = {}
    for folder, seed in (("a", 5), ("b", 5), ("c", 6)):
        generate_sample(tmp_path / folder, cases=3_000, seed=seed, fmt="parquet", hospitals=20)
        runs[folder] = (tmp_path / folder / "cases.parquet").read_bytes()
    assert runs["a"] == runs["b"]
    assert runs["a"] != runs["c"]
    assert load_inputs(tmp_path / "a").cases.height == 3_000


def test_switching_format_leaves_one_file_per_table(tmp_path: Path) -> None:
    generate_sample(tmp_path, cases=500, seed=1)
    generate_sample(tmp_path, cases=500, seed=1, fmt="parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "README.md",
        "assessments.parquet",
        "budget.yaml",
        "cases.parquet",
        "deductions.parquet",
        "groups.parquet",
        "hospitals.parquet",
        "sample.json",
    ]


def test_too_small_a_sample_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 100 cases and 3 hospitals"):
        generate_sample(tmp_path, cases=50, seed=1)


def test_bundled_sample_is_small_and_loads_without_rejects(sample: Inputs) -> None:
    assert (SAMPLE / "cases.csv").stat().st_size < 3_000_000
    assert sample.rejects.is_empty()
    assert sample.rows_read == {"hospitals": 13, "groups": 602, "cases": 20_000}


def test_weights_are_skewed_like_a_real_catalog(sample: Inputs) -> None:
    weight = sample.groups["weight"]
    assert 0.7 <= number(weight.median()) <= 1.1
    assert number(weight.min()) <= 0.25 and number(weight.max()) >= 20
    assert number(weight.mean()) > number(weight.median())  # long right tail
    ratio = sample.groups["avg_cost"] / (weight * 12_000)
    assert number(ratio.min()) > 0.8 and number(ratio.max()) < 1.25


def test_codes_are_chs_drg_shaped_and_the_14_base_groups_are_real(sample: Inputs) -> None:
    groups = sample.groups
    assert groups["drg_code"].str.contains(r"^[A-Z]{2}[1-9][1359]$").all()
    base = dict(groups.filter("base_group").select("drg_code", "name").iter_rows())
    assert base == BASE_GROUPS
    siblings = {
        "ES31",
        "ES33",
        "GS11",
        "GS13",
        "HC23",
        "FV23",
        "EX13",
        "LR13",
        "BR21",
        "BR23",
        "GB29",
        "IC29",
        "FM39",
        "BR11",
        "BR13",
        "BR15",
    }
    assert siblings <= set(groups["drg_code"])
    severities = groups.group_by(pl.col("drg_code").str.slice(0, 3).alias("adrg")).agg(
        split=pl.col("drg_code").str.slice(3, 1).sort().str.join("")
    )
    assert set(severities["split"]) == {"9", "135", "35"}


def test_hospitals_cover_levels_new_ones_and_the_tier_rule(sample: Inputs) -> None:
    hospitals = sample.hospitals
    assert set(hospitals["level"]) == {1, 2, 3}
    new = hospitals.filter("is_new")
    assert new.height >= 1
    assert (new["hist_avg_cost"] == 0).all() and (new["hist_weight_total"] == 0).all()
    level3_median = hospitals.filter((pl.col("level") == 3) & ~pl.col("is_new"))[
        "hist_avg_cost"
    ].median()
    for level, cost, tier in hospitals.select("level", "hist_avg_cost", "tier").iter_rows():
        expected = "A" if level == 3 or (level == 2 and cost > level3_median) else "BC"[2 - level]
        assert tier == expected
    assert hospitals.filter((pl.col("level") == 2) & (pl.col("tier") == "A")).height >= 1
    assert hospitals["list_accuracy"].is_between(0.85, 1.0).all()
    assert hospitals["assessment_score"].is_between(60, 100).all()


def test_tertiary_hospitals_are_bigger_and_see_heavier_groups(sample: Inputs) -> None:
    by_level = (
        sample.cases.join(sample.hospitals, on="hospital_id")
        .join(sample.groups, on="drg_code")
        .group_by("level")
        .agg(pl.len() / pl.col("hospital_id").n_unique(), pl.mean("weight"))
        .sort("level")
    )
    cases_per_hospital, mean_weight = by_level["len"].to_list(), by_level["weight"].to_list()
    assert cases_per_hospital == sorted(cases_per_hospital)
    assert mean_weight == sorted(mean_weight)


def test_group_sizes_include_tiny_and_heavy_tailed_groups(sample: Inputs) -> None:
    stats = (
        sample.cases.filter(~pl.col("ungrouped"))
        .group_by("drg_code")
        .agg(n=pl.len(), cv=pl.col("total_cost").std(ddof=0) / pl.col("total_cost").mean())
    )
    assert stats.filter(pl.col("n") <= 5).height >= 4
    assert stats.filter(pl.col("cv") > 1).height >= 3


def test_case_mix_rates(sample: Inputs) -> None:
    cases = sample.cases
    share = {
        name: number(cases[name].mean())
        for name in ("bilateral", "multi_site", "incentive_approved", "special_review")
    }
    assert 0.006 <= number(cases["drg_code"].eq("0000").mean()) <= 0.014
    assert 0.002 <= number(cases["drg_code"].str.contains("QY$").mean()) <= 0.008
    assert 0.012 <= share["bilateral"] <= 0.03
    assert 0.008 <= share["multi_site"] <= 0.025
    assert 0.0015 <= share["incentive_approved"] <= 0.006
    assert 0.0005 <= share["special_review"] <= 0.004
    assert 0.005 <= number((~cases["drg_suitable"]).mean()) <= 0.015
    assert set(cases["insurance_type"]) == {"employee", "resident"}
    assert (cases["los"] >= 1).all()


def test_some_hospital_exceeds_the_6_permille_incentive_quota(sample: Inputs) -> None:
    per_mille = sample.cases.group_by("hospital_id").agg(
        pl.col("incentive_approved").sum() / pl.len() * 1000
    )
    assert number(per_mille["incentive_approved"].max()) > 6


def test_multi_site_cases_name_a_surgical_group_at_another_site(sample: Inputs) -> None:
    multi = sample.cases.filter("multi_site")
    assert multi.height > 0
    for main, secondary in multi.select("drg_code", "secondary_drg").iter_rows():
        assert re.fullmatch(r"[B-Z][A-K][1-9][1359]", secondary)
        assert secondary[:3] != main[:3]
    assert (sample.cases.filter(~pl.col("multi_site"))["secondary_drg"] == "").all()


def test_money_is_to_the_fen_and_shares_are_plausible(sample: Inputs) -> None:
    cases = sample.cases
    for column in ("total_cost", "unreasonable_cost", "patient_paid"):
        fen = cases[column] * 100
        assert ((fen - fen.round()).abs() < 1e-6).all()
    assert (cases["unreasonable_cost"] <= cases["total_cost"] * 0.05 + 0.01).all()
    paid = cases["patient_paid"] / cases["total_cost"]
    assert number(paid.min()) >= 0.249 and number(paid.max()) <= 0.401


def test_dates_span_the_year_in_case_id_order(sample: Inputs) -> None:
    cases = sample.cases
    assert cases["case_id"].to_list() == [f"C{i:06d}" for i in range(1, 20_001)]
    assert cases["discharge_date"].is_sorted()
    first, last = cases.select(first=pl.min("discharge_date"), last=pl.max("discharge_date")).row(0)
    assert date(2024, 1, 1) <= first <= last <= date(2024, 12, 31)
    assert cases["month"].n_unique() == 12


def test_budget_follows_the_documented_formulas(sample: Inputs) -> None:
    values = sample.budget["values"]
    suitable = sample.cases.filter("drg_suitable").join(sample.hospitals, on="hospital_id")
    total = math.fsum(suitable["total_cost"].to_list())
    assert values["drg_fund"] == round(0.97 * total)
    assert values["inpatient_fund"] == round(values["drg_fund"] / 0.8)
    for tier, amount in values["tier_budget"].items():
        tier_total = math.fsum(suitable.filter(pl.col("tier") == tier)["total_cost"].to_list())
        assert abs(amount - 0.97 * tier_total) <= 1
    assert sample.budget["year"] == 2024
