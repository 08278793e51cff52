"""`whatif --backend`: a what-if settled on DuckDB gives the polars what-if, frame for frame."""

from __future__ import annotations

from pathlib import Path

from engine.inputs.rundata import Period
from engine.plan.sql.duckdb_runner import DuckDB
from engine.run.settle import load_data, load_policy
from engine.whatif import Runs, compare
from engine.whatif.runs import inputs_policy
from tests.conftest import POLICIES, run_cli


def test_the_impact_of_a_new_version_is_the_same_on_duckdb(sample_cut: Path) -> None:
    base = load_policy(POLICIES / "xuancheng" / "2023.policy")
    new = load_policy(POLICIES / "xuancheng" / "2024.policy")
    inputs = load_data(sample_cut, inputs_policy(base, new))
    on_polars = compare(Runs(inputs, Period.parse("2024")), base, new)
    database = DuckDB()
    try:
        on_duckdb = compare(Runs(inputs, Period.parse("2024"), backend=database), base, new)
    finally:
        database.close()
    assert on_duckdb.new.settlement.backend == "duckdb"
    for name in ("cases", "hospitals", "levels", "groups", "categories", "transitions"):
        assert getattr(on_duckdb, name).equals(getattr(on_polars, name)), name


def test_the_command_takes_a_backend(capsys, sample_cut: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    reports = {}
    for backend in ("polars", "duckdb"):
        out = tmp_path / backend
        code, _, _ = run_cli(
            capsys, "whatif", "--base", str(POLICIES / "xuancheng" / "2023.policy"),
            "--new", str(POLICIES / "xuancheng" / "2024.policy"), "--data", str(sample_cut),
            "--out", str(out), "--no-exposure", "--backend", backend,
        )  # fmt: skip
        assert code == 0
        reports[backend] = (out / "whatif.json").read_bytes()
    assert reports["duckdb"] == reports["polars"]
