"""Properties of the standard indicators on generated cities (hypothesis): the consumption
indices are 1 where every hospital has the region's averages; CMI does not depend on the order
of the cases; a case whose group weighs exactly the CMI leaves the CMI as it was."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.inputs.rundata import Period
from engine.run.settle import Settlement, load_data, load_policy, settle
from tests.engine.datasets import write_dataset

ROOT = Path(__file__).resolve().parents[2]
POLICY = load_policy(ROOT / "policies" / "suzhou" / "2024.policy")
SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
INDEXED = ("city", "tier", "level", "hospital", "month")


@st.composite
def cities(draw: st.DrawFn, *, same_within_group: bool = False) -> dict[str, Any]:
    """2–4 hospitals of levels 2–3 in tiers A/B, 1–4 groups, 3–30 cases in two months; with
    `same_within_group`, every case of a group costs the same and stays as long."""
    hospitals = [
        {
            "hospital_id": f"H{i}",
            "level": draw(st.integers(2, 3)),
            "tier": draw(st.sampled_from("AB")),
        }
        for i in range(draw(st.integers(2, 4)))
    ]
    groups = [
        {
            "drg_code": f"G{i}",
            "weight": draw(st.sampled_from([0.3, 0.75, 1.0, 1.37, 2.5, 6.1])),
            "avg_cost": 10000,
            "cost": draw(st.sampled_from([3000.0, 8123.45, 12000.0, 40000.1])),
            "los": draw(st.integers(1, 30)),
        }
        for i in range(draw(st.integers(1, 4)))
    ]
    cases = []
    for n in range(draw(st.integers(3, 30))):
        group = draw(st.sampled_from(groups)) if n else groups[0]  # the first group has a case
        cost = (
            group["cost"]
            if same_within_group
            else draw(st.sampled_from([2000.0, 9876.54, 25000.0]))
        )
        los = group["los"] if same_within_group else draw(st.integers(1, 40))
        cases.append(
            {
                "case_id": f"C{n:03d}",
                "hospital_id": draw(st.sampled_from(hospitals))["hospital_id"],
                "drg_code": group["drg_code"],
                "total_cost": cost,
                "los": los,
                "discharge_date": draw(st.sampled_from(["2024-03-10", "2024-04-20"])),
            }
        )
    catalog = [{k: g[k] for k in ("drg_code", "weight", "avg_cost")} for g in groups]
    return {"hospitals": hospitals, "groups": catalog, "cases": cases, "budget": {"drg_fund": 1e6}}


def run(data: dict[str, Any], *, reverse: bool = False) -> Settlement:
    with tempfile.TemporaryDirectory() as folder:
        inputs = load_data(write_dataset(data, Path(folder), reverse=reverse), POLICY)
    return settle(POLICY, inputs, Period.parse("2024"))


def rows(result: Settlement, indicator: str) -> pl.DataFrame:
    return result.indicators().filter(pl.col("indicator") == indicator)


@SETTINGS
@given(cities(same_within_group=True))
def test_indices_are_1_where_every_hospital_has_the_regions_averages(data: dict[str, Any]) -> None:
    result = run(data)
    for name in ("cost_index", "time_index"):
        found = rows(result, name)
        assert set(found["grain"]) == set(INDEXED)
        values = found.filter(pl.col("value").is_not_null())["value"].cast(pl.Float64)
        assert values.len() > 0
        assert values.to_list() == pytest.approx([1.0] * values.len(), abs=1e-9)


@SETTINGS
@given(cities())
def test_cmi_does_not_depend_on_the_order_of_the_cases(data: dict[str, Any]) -> None:
    forward, backward = run(data), run(data, reverse=True)
    assert rows(forward, "cmi").equals(rows(backward, "cmi"))
    assert forward.indicators().equals(backward.indicators())


@SETTINGS
@given(cities(), st.integers(0, 3))
def test_a_case_whose_group_weighs_the_cmi_leaves_it_unchanged(
    data: dict[str, Any], hospital: int
) -> None:
    before = run(data)
    cmi = float(rows(before, "cmi").filter(pl.col("grain") == "city")["value"][0])
    grouped = [c for c in data["cases"] if c["drg_code"] != "0000"]
    weight = sum(
        next(g["weight"] for g in data["groups"] if g["drg_code"] == c["drg_code"]) for c in grouped
    ) / len(grouped)
    assert cmi == pytest.approx(weight, rel=1e-9)  # written to 10 significant digits
    extra = {
        "case_id": "C999",
        "hospital_id": data["hospitals"][hospital % len(data["hospitals"])]["hospital_id"],
        "drg_code": "GCMI",
        "total_cost": 5000.0,
        "los": 3,
        "discharge_date": "2024-03-10",
    }
    grown = {
        **data,
        "groups": [*data["groups"], {"drg_code": "GCMI", "weight": weight, "avg_cost": 10000}],
        "cases": [*data["cases"], extra],
    }
    after = run(grown)
    again = float(rows(after, "cmi").filter(pl.col("grain") == "city")["value"][0])
    assert again == pytest.approx(cmi, rel=1e-9)
