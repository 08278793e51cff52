"""Properties of deductions on generated cities and on a cut of the bundled sample, under the
test policy and every shipped policy that declares a deduction: adding a deduction never raises
what its hospital is paid or reported (a report that only totals deductions aside), and the
deductions a statement shows add up, per kind, to the rows of the period — computed here from the
rows themselves, exactly in decimal — and to what deductions.csv lists."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.inputs.rundata import Period
from engine.inputs.supervision import Declared
from engine.plan import money
from engine.run.outputs import stage_tables
from engine.run.settle import Settlement, load_data, load_policy, settle
from engine.run.supervision_outputs import applied_deductions
from policy_dsl.check import check_path
from policy_dsl.check.deduction_signs import Signs
from tests.conftest import SAMPLE, shipped_policies
from tests.engine.datasets import datasets, write_dataset
from tests.supervision.data import POLICY_PATH, deduction_rows, write_supervision

#: The test policy, and the shipped ones once they declare deductions (issue 9 §3).
PATHS = [POLICY_PATH] + [p for p in shipped_policies() if Declared.of(load_policy(p)).deductions]
COMPILED = {path: load_policy(path) for path in PATHS}
IDS = [f"{p.parent.name}/{p.stem}" for p in PATHS]
PROPERTY = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def deduction_totals(path: Path) -> set[tuple[str | None, str]]:
    """The definitions that only total deductions (`sum(audit_deduction)`): they rise with a
    deduction, as they should."""
    checked = check_path(path)
    signs = Signs(checked.scope)
    return {
        (e.stage, e.decl.name)
        for e in checked.resolved.entries
        if signs.definition(e).deductions_only and signs.definition(e).signs
    }


TOTALS = {path: deduction_totals(path) for path in PATHS}


@st.composite
def cities(draw: st.DrawFn, path: Path) -> dict[str, Any]:
    """A generated city with the policy's declared deductions and scores, and one more
    deduction to add."""
    declared = Declared.of(COMPILED[path])
    city = draw(datasets())
    hospitals = [h["hospital_id"] for h in city["hospitals"]]
    kinds = list(declared.deductions)
    city["deductions"] = deduction_rows(draw, hospitals, draw(st.integers(0, 8)), kinds)
    city["assessments"] = [
        {"hospital_id": h, "assessment": name, "score": draw(st.sampled_from([0, 55, 90, 100]))}
        for h in hospitals
        for name in declared.assessments
    ]
    city["extra"] = deduction_rows(draw, hospitals, 1, kinds)[0]
    return city


def settled(path: Path, folder: Path) -> Settlement:
    policy = COMPILED[path]
    return settle(policy, load_data(folder, policy), Period(2024))


def both(path: Path, city: dict[str, Any], write: Any) -> tuple[Settlement, Settlement]:
    """The city settled without and with its extra deduction."""
    with tempfile.TemporaryDirectory() as root:
        runs = []
        for extra in (False, True):
            folder = write(city, Path(root) / str(extra))
            rows = city["deductions"] + ([city["extra"]] if extra else [])
            write_supervision(folder, rows, city["assessments"])
            runs.append(settled(path, folder))
    return runs[0], runs[1]


def write_city(city: dict[str, Any], folder: Path) -> Path:
    return write_dataset(city, folder)


# ---- a deduction never raises what its hospital is paid --------------------------------------


def hospital_money(result: Settlement, path: Path, hospital: str) -> dict[tuple[str, str], int]:
    """Per settling stage, the hospital's payment and each money report (months added up) in
    fen, totals of deductions and the deduction columns themselves left out."""
    found = {}
    deductions = set(Declared.of(result.policy).deductions)
    for stage in result.settling_stages():
        statement = stage_tables(result, stage)["hospitals"].filter(
            pl.col("hospital_id") == hospital
        )
        names = ["payment"] + [
            d.name
            for d in result.stages[stage].stage.definitions
            if d.report and d.type.is_money and not _totals_deductions(path, stage, d.name)
        ]
        for name in names:
            if name in statement.columns and name not in deductions:
                column = statement[name]
                fen = column if name == "payment" else statement.select(money.to_fen(pl.col(name)))
                found[(stage, name)] = int(pl.Series(fen).sum())
    return found


def _totals_deductions(path: Path, stage: str, name: str) -> bool:
    return (stage, name) in TOTALS[path] or (None, name) in TOTALS[path]


def check_never_raises(
    path: Path, city: dict[str, Any], write: Any
) -> tuple[Settlement, Settlement]:
    """Settle the city without and with its extra deduction; assert the second pays its
    hospital nothing more (and less, where a stage applies the deduction). Both runs."""
    without, with_extra = both(path, city, write)
    hospital = city["extra"]["hospital_id"]
    before = hospital_money(without, path, hospital)
    after = hospital_money(with_extra, path, hospital)
    assert before.keys() == after.keys()
    risen = {k: (before[k], after[k]) for k in before if after[k] > before[k]}
    assert not risen, f"{city['extra']} raised {risen}"
    assert any(after[k] < before[k] for k in before) or not _applied(with_extra, city["extra"])
    return without, with_extra


def _applied(result: Settlement, row: dict[str, Any]) -> bool:
    """Whether a stage of the run reads the row's kind (it then lowers some amount)."""
    listed = applied_deductions(result).filter(pl.col("kind") == row["kind"])
    return bool((listed["stage"] != "").any())


# ---- what the statements show adds up to the rows ---------------------------------------------


def expected_totals(rows: list[dict[str, Any]]) -> dict[str, Decimal]:
    """Σ amount per kind of the rows dated in 2024, exactly."""
    totals: dict[str, Decimal] = {}
    for row in rows:
        if str(row["date"]).startswith("2024-"):
            kind = row["kind"]
            totals[kind] = totals.get(kind, Decimal(0)) + Decimal(str(row["amount"]))
    return totals


def check_totals(result: Settlement, rows: list[dict[str, Any]]) -> None:
    expected = expected_totals(rows)
    listed = applied_deductions(result)
    for stage in result.settling_stages():
        statement = stage_tables(result, stage)["hospitals"]
        for kind in Declared.of(result.policy).deductions:
            want = expected.get(kind, Decimal(0))
            shown = statement.select(money.to_fen(pl.col(kind)).sum()).item()
            assert Decimal(shown) / 100 == want, (stage, kind)
            applied = listed.filter(pl.col("kind") == kind, pl.col("stage") == stage)
            if applied.height:
                assert Decimal(str(round(applied["amount"].sum(), 2))) == want
    year_end = result.stages.get("year_end")
    if year_end is not None and "total_deducted" in year_end.home:
        reported = year_end.frame_of("total_deducted")["total_deducted"][0]
        assert Decimal(str(round(reported, 2))) == sum(expected.values(), Decimal(0))


def check_city(path: Path, city: dict[str, Any], write: Any) -> None:
    """Both properties on one city, without and with its extra deduction."""
    without, with_extra = check_never_raises(path, city, write)
    check_totals(without, city["deductions"])
    check_totals(with_extra, [*city["deductions"], city["extra"]])


@pytest.mark.parametrize("path", PATHS, ids=IDS)
@PROPERTY
@given(data=st.data())
def test_on_generated_cities_a_deduction_lowers_and_adds_up(
    path: Path, data: st.DataObject
) -> None:
    check_city(path, data.draw(cities(path)), write_city)


# ---- the same on a cut of the bundled sample ---------------------------------------------------

SAMPLE_HOSPITALS = pl.read_csv(SAMPLE / "hospitals.csv", infer_schema=False)
SAMPLE_CASES = pl.read_csv(SAMPLE / "cases.csv", infer_schema=False).head(1500)


def write_sample_cut(city: dict[str, Any], folder: Path) -> Path:
    """The first 1,500 cases of the sample with all its hospitals, groups and budget."""
    folder.mkdir(parents=True, exist_ok=True)
    SAMPLE_CASES.write_csv(folder / "cases.csv")
    for name in ("hospitals.csv", "groups.csv", "budget.yaml"):
        (folder / name).write_bytes((SAMPLE / name).read_bytes())
    return folder


@st.composite
def sample_cuts(draw: st.DrawFn, path: Path) -> dict[str, Any]:
    declared = Declared.of(COMPILED[path])
    hospitals = SAMPLE_HOSPITALS["hospital_id"].to_list()
    kinds = list(declared.deductions)
    sample_rows = pl.read_csv(SAMPLE / "deductions.csv", infer_schema=False)
    rows = [r for r in sample_rows.to_dicts() if r["kind"] in kinds]
    scores = pl.read_csv(SAMPLE / "assessments.csv", infer_schema=False).to_dicts()
    return {
        "deductions": rows + deduction_rows(draw, hospitals, draw(st.integers(0, 4)), kinds),
        "assessments": [s for s in scores if s["assessment"] in declared.assessments],
        "extra": deduction_rows(draw, hospitals, 1, kinds)[0],
    }


@pytest.mark.parametrize("path", PATHS, ids=IDS)
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_on_the_sample_a_deduction_lowers_and_adds_up(path: Path, data: st.DataObject) -> None:
    check_city(path, data.draw(sample_cuts(path)), write_sample_cut)
