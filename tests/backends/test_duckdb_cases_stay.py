"""The accepted cases left in DuckDB (`engine.inputs.stored`, the settle command's path): the
run reads them in the database and gives polars' outputs; read back, they are the frames the
polars path makes (the inputs', and the run's cut to the period with its codes)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlglot import exp

from bench.simple import handwritten as simple
from engine.explainer.explain import explain
from engine.inputs.rundata import Period
from engine.inputs.stored import store_of
from engine.plan.polars import keys
from engine.plan.polars.batch import Compiler, StageRun
from engine.plan.sql.duckdb_runner import DuckDB
from engine.plan.sql.results import OnDemand
from engine.run.outputs import fill_outputs
from engine.run.settle import Settlement, load_data, load_policy, settle
from engine.run.summary import level_rows, stage_rows
from policy_dsl import ir
from policy_dsl.grains import CASE
from tests.conftest import POLICIES, SAMPLE
from tests.supervision.data import POLICY as SUPERVISED
from tests.supervision.data import scores_for
from tests.supervision.test_inputs import folder_with
from tests.supervision.test_settle import DEDUCTIONS


def outputs(result: Settlement) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="drgpolicy-stored-") as out:
        manifest = fill_outputs(result, Path(out))
    manifest.pop("backend")
    return {**manifest, "rows": stage_rows(result), "levels": level_rows(result)}


def both(policy: ir.Policy, folder: Path, period: Period) -> tuple[Settlement, Settlement, DuckDB]:
    """A polars run, and a DuckDB run whose cases stayed in the database (open: close it)."""
    polars = settle(policy, load_data(folder, policy), period)
    db = DuckDB(cases_on_demand=True)
    inputs = load_data(folder, policy, database=db)
    assert store_of(inputs) is not None
    return polars, settle(policy, inputs, period, backend=db), db


def test_xuancheng_settles_as_polars_and_reads_back_the_same_frames() -> None:
    policy = load_policy(POLICIES / "xuancheng" / "2024.policy")
    polars, duck, db = both(policy, SAMPLE, Period.parse("2024-Q2"))
    try:
        assert store_of(duck.data) is not None
        assert outputs(duck) == outputs(polars)
        # settled and written (indicators too) without the cases read back whole
        assert "_cases_read" not in vars(duck.data) and "_cases_read" not in vars(duck.inputs)
        assert {k: v.to_list() for k, v in duck.data.codes.values.items()} == {
            k: v.to_list() for k, v in polars.data.codes.values.items()
        }
        case_id = polars.data.cases["case_id"][7]  # the explainer reads the frames back
        assert explain(duck, case_id).to_json() == explain(polars, case_id).to_json()
        assert duck.inputs.cases.equals(polars.inputs.cases)
        assert duck.data.cases.equals(polars.data.cases)
        months = duck.data.cases["month"].unique().sort().to_list()
        assert months == ["2024-04", "2024-05", "2024-06"]
    finally:
        db.close()


def test_months_with_a_deduction_and_no_case_are_rows_of_the_hospital_months(
    tmp_path: Path,
) -> None:
    """H2's refusal of April and H1's deduction of March fall in months without their cases:
    the hospital × month tables get rows for them, in the database as in polars."""
    folder = folder_with(tmp_path / "data", DEDUCTIONS, scores_for(["H1", "H2", "H3"]))
    polars, duck, db = both(SUPERVISED, folder, Period(2024))
    try:
        assert not polars.data.deduction_months.is_empty()
        assert duck.data.deduction_months.equals(polars.data.deduction_months)
        assert outputs(duck) == outputs(polars)
        monthly = pl.DataFrame(duck.stages["monthly"].frames[frozenset({"hospital", "month"})])
        assert ("H2", "2024-04") in monthly.select("hospital_id", "month").rows()
    finally:
        db.close()


def test_a_rekey_by_the_codes_of_a_text_function_leaves_the_cases_in_the_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`base_points[group = no_cc(secondary_drg)]` evaluated again on a DuckDB run's settled
    cases (as the invariants, the exposure and the explainer do: `StageRun.resume`) goes by the
    codes of the distinct texts, kept with the run's data, and asks the database the cases'
    columns and count: the cases are not read back. Its values are those of a join on the
    function computed row by row over the polars run."""
    policy = load_policy(simple.POLICY)
    polars, duck, db = both(policy, SAMPLE, Period.parse("2024"))
    try:
        stage, rekey = next(
            (s.name, node)
            for s in policy.stages
            for d in s.definitions
            for node in ir.walk(d.expr)
            if isinstance(node, ir.Rekey)
        )

        def evaluated(result: Settlement, small: int) -> pl.Series:
            monkeypatch.setattr(keys, "SMALL", small)
            s = result
            run = StageRun.resume(s.policy, s.stages[stage], s.data, s.stages, s.settings)
            value = Compiler(run, CASE).expr(rekey)  # brings the values to the case frame
            return run.frame(CASE).select(value).to_series()

        by_codes = evaluated(duck, 0)
        assert "_cases_read" not in vars(duck.data)
        assert len(duck.data.text_codes) == 1  # the codes of the whole period's cases, kept
        assert by_codes.equals(evaluated(polars, 10**9))
        assert by_codes.drop_nulls().n_unique() > 1
    finally:
        db.close()


def test_the_indicators_are_evaluated_in_the_database_no_case_read_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The monitoring stage of a run whose cases stayed in DuckDB (the settle command's path)
    runs there: every row read back during it is a coarse grain's (a hospital, a group, a
    hospital's group…), never a case's — and its indicators are polars', at some grains alone
    (what they read evaluated alone: the what-if's) and whole."""
    policy = load_policy(POLICIES / "xuancheng" / "2024.policy")
    polars, duck, db = both(policy, SAMPLE, Period.parse("2024"))
    read: list[tuple[list[str], int]] = []
    fetch = DuckDB.fetch

    def spy(self: DuckDB, query: exp.Select) -> pl.DataFrame:
        found = fetch(self, query)
        read.append((found.columns, found.height))
        return found

    monkeypatch.setattr(DuckDB, "fetch", spy)
    try:
        shown = ["city", "level"]
        assert duck.indicators(shown).equals(polars.indicators(shown))
        assert duck.kept_monitoring(None) is None  # evaluated at those grains alone
        evaluated = duck.monitoring()
        assert evaluated is not None and duck.indicators().equals(polars.indicators())
        assert read and max(height for _, height in read) < polars.data.cases.height
        assert not [columns for columns, _ in read if "case_id" in columns]
        frames = evaluated.result.frames  # its case table left in the database
        assert isinstance(frames, OnDemand) and CASE in frames.pending
    finally:
        db.close()


def test_the_run_summary_reads_the_statements_the_outputs_made(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The settle command's summary (`stage_rows`, `level_rows`) after the outputs are written
    reads the statements made for them (`outputs.stage_statements`), not every case from the
    database again — and says what polars' says, made afresh."""
    policy = load_policy(POLICIES / "xuancheng" / "2024.policy")
    polars, duck, db = both(policy, SAMPLE, Period.parse("2024"))
    try:
        fill_outputs(duck, tmp_path)
        read: list[list[str]] = []
        fetch = DuckDB.fetch

        def spy(self: DuckDB, query: exp.Select) -> pl.DataFrame:
            found = fetch(self, query)
            read.append(found.columns)
            return found

        monkeypatch.setattr(DuckDB, "fetch", spy)
        assert not polars.statements
        assert stage_rows(duck) == stage_rows(polars)
        assert level_rows(duck) == level_rows(polars)
        assert not [columns for columns in read if "case_id" in columns]
    finally:
        db.close()
