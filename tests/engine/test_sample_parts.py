"""`drgpolicy sample --parts`: a city's cases drawn and written part by part into one Parquet
file, the same files for the same arguments, a budget from every part's costs."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import yaml

from engine.run.settle import load_data, load_policy
from engine.synthetic.sample_parts import generate_in_parts
from tests.conftest import POLICIES


def test_parts_give_one_loadable_file_the_same_every_time(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    summary = generate_in_parts(first, cases=3001, seed=7, parts=4)
    generate_in_parts(second, cases=3001, seed=7, parts=4)
    for name in ("cases.parquet", "hospitals.parquet", "groups.parquet", "budget.yaml"):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    cases = pl.read_parquet(first / "cases.parquet")
    assert cases.height == 3001 == summary["cases"]
    assert cases["case_id"].to_list() == [f"C{i:06d}" for i in range(1, 3002)]
    inputs = load_data(first, load_policy(POLICIES / "wuxi" / "2024.policy"))
    assert inputs.rejects.height == 0 and inputs.cases.height == 3001


def test_the_budget_is_97_percent_of_every_part_s_suitable_cost(tmp_path: Path) -> None:
    generate_in_parts(tmp_path, cases=2000, seed=3, parts=3)
    cases = pl.read_parquet(tmp_path / "cases.parquet")
    suitable = sum(Decimal(str(c)) for c in cases.filter("drg_suitable")["total_cost"])
    budget = yaml.safe_load((tmp_path / "budget.yaml").read_text(encoding="utf-8"))["values"]
    assert budget["drg_fund"] == round(Decimal("0.97") * suitable)
