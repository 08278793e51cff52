"""The what-if report's indicator deltas: a new version that moves the low-ratio share (Xuancheng
2023 → 2024: the grassroots low-ratio line lowered to 0.3), and one that moves the CMI (a
version counting only the normal cases in it), against the categories and weights of the cases
themselves."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from engine.inputs.contract import Inputs
from engine.inputs.rundata import Period
from engine.run.settle import load_policy
from engine.whatif import Runs, compare
from engine.whatif.indicators import indicator_deltas, indicator_section
from policy_dsl.lower import compile_text
from tests.whatif.conftest import NEW, OLD, XUANCHENG


def row(deltas: pl.DataFrame, indicator: str, grain: str = "city", key: str = "") -> dict:
    found = deltas.filter(
        (pl.col("indicator") == indicator) & (pl.col("grain") == grain) & (pl.col("key") == key)
    )
    assert found.height == 1
    return found.row(0, named=True)


def test_the_low_ratio_share_moves_as_the_cases_categories_do(sample_inputs: Inputs) -> None:
    runs = Runs(sample_inputs, Period.parse("2024"))
    impact = compare(runs, load_policy(OLD), load_policy(NEW))
    deltas = indicator_deltas(impact)
    cases = impact.cases
    low_base = float((cases["category_base"] == "low").mean())
    low_new = float((cases["category_new"] == "low").mean())
    assert low_base != low_new
    low = row(deltas, "low_ratio_share")
    assert (low["base"], low["new"]) == (pytest.approx(low_base), pytest.approx(low_new))
    level_1 = cases.filter(pl.col("level") == 1)
    at_1 = row(deltas, "low_ratio_share", "level", "1")
    assert at_1["new"] == pytest.approx(float((level_1["category_new"] == "low").mean()))
    assert row(deltas, "cmi")["delta"] == 0  # the groups' weights do not change
    section = indicator_section(impact)
    assert "低倍率病例占比" in section.lead[0] and section.charts


def test_a_version_that_defines_the_cmi_otherwise_moves_it(sample_inputs: Inputs) -> None:
    text = (
        'policy xuancheng version "2025"\n  effective 2025-01-01\n  extends "2024"\n'
        "  method points\n\n"
        'override indicator cmi "CMI（正常病例）" : ratio\n'
        "  for city, tier, level, hospital, month =\n"
        "  sum(weight where settled.category is normal)\n"
        "    / count(case where settled.category is normal)\n"
        '  assumption "示例：只计正常病例"\n'
    )
    other = compile_text(text, str(XUANCHENG / "2025.policy"))
    runs = Runs(sample_inputs, Period.parse("2024"))
    impact = compare(runs, load_policy(NEW), other)
    cmi = row(indicator_deltas(impact), "cmi")
    normal = impact.new.settlement.cases().filter(pl.col("category") == "normal")
    weights = normal.join(sample_inputs.groups.select("drg_code", "weight"), on="drg_code")
    assert cmi["new"] == pytest.approx(float(weights["weight"].mean()), rel=1e-9)
    assert cmi["delta"] != 0


def test_the_report_json_lists_every_indicator_of_both_versions(report_dir: Path) -> None:
    document = json.loads((report_dir / "whatif.json").read_text(encoding="utf-8"))
    names = {r["indicator"] for r in document["indicators"]}
    assert {"cmi", "low_ratio_share", "cost_index", "grouping_rate"} <= names
    assert "Indicators" in (report_dir / "summary.md").read_text(encoding="utf-8")
