"""A construct a backend cannot run is refused by name — the construct, the backend and the
policy line — before anything runs, never approximated (`engine.plan.sql.refuse`)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from sqlglot import exp

from engine.inputs.rundata import Period
from engine.plan.sql import refuse
from engine.plan.sql.refuse import BackendRefusal
from engine.run.settle import load_data, load_policy, settle
from tests.conftest import POLICIES, run_cli

SUZHOU = POLICIES / "suzhou" / "2024.policy"


class Recording:
    """A database that records what it is asked to do (and does nothing)."""

    name, dialect, version, big_integer, ln = "duckdb", "duckdb", "test", "HUGEINT", "LN"
    map_lookup = True

    def __init__(self) -> None:
        self.calls: list[str] = []

    def register(self, name: str, frame: pl.DataFrame) -> None:
        self.calls.append(f"register {name}")

    def create(self, name: str, query: exp.Select) -> list[str]:
        self.calls.append(f"create {name}")
        return []

    def keep(self, name: str) -> str:
        return name

    def drop(self, name: str) -> None: ...

    def fetch(self, query: exp.Select) -> pl.DataFrame:
        raise AssertionError("nothing may run")

    def close(self) -> None: ...


@pytest.fixture
def no_allocate(monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB made unable to run `allocate` (every construct lowers today)."""
    refused = {"duckdb": {"allocate": "no window functions in this test"}, "spark": {}}
    monkeypatch.setattr(refuse, "REFUSED", refused)


@pytest.mark.usefixtures("no_allocate")
def test_a_refused_construct_is_named_with_backend_and_line_before_anything_runs() -> None:
    policy = load_policy(SUZHOU)
    database = Recording()
    with pytest.raises(BackendRefusal) as refused:
        settle(policy, load_data("sample", policy), Period.parse("2024"), backend=database)
    line = next(
        n
        for n, text in enumerate(SUZHOU.read_text(encoding="utf-8").splitlines(), start=1)
        if "= allocate(" in text
    )
    assert str(refused.value) == (
        f"{SUZHOU}:{line}: `drg_payment` (stage settlement) uses `allocate`, which the duckdb "
        "backend cannot run (no window functions in this test); settle it with --backend polars"
    )
    assert database.calls == []  # refused before a table was registered


@pytest.mark.usefixtures("no_allocate")
def test_the_command_refuses_it_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, _, err = run_cli(
        capsys, "settle", "--policy", str(SUZHOU), "--data", "sample", "--period", "2024",
        "--out", str(out), "--any-date", "--backend", "duckdb",
    )  # fmt: skip
    assert code != 0 and "uses `allocate`, which the duckdb backend cannot run" in err
    assert not out.exists()


def test_every_construct_of_the_shipped_policies_lowers() -> None:
    for path in sorted(POLICIES.rglob("*.policy")):
        policy = load_policy(path)
        for backend in ("duckdb", "spark"):
            refuse.check_lowerable(policy, policy.stages, backend)  # raises nothing
