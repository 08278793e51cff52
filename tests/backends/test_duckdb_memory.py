"""DuckDB settles a city larger than its memory limit: a million cases under a 200 MB limit
spill to disk, settle, and equal the polars plan's `<stage>/*.csv` byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.plan.sql.duckdb_runner import DuckDB
from engine.run.settle import load_data, load_policy
from engine.synthetic.sample import generate_sample
from tests.backends.conformance import same_outputs
from tests.conftest import POLICIES

CASES = 1_000_000
LIMIT_MB = 200


@pytest.fixture(scope="module")
def million(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("million")
    generate_sample(folder, cases=CASES, seed=2024, fmt="parquet")
    return folder


def test_a_million_cases_settle_under_a_200_mb_limit_as_polars_does(million: Path) -> None:
    policy = load_policy(POLICIES / "xuancheng" / "2024.policy")
    assert load_data(million, policy).cases.height == CASES
    opened: list[DuckDB] = []

    def limited() -> DuckDB:
        database = DuckDB(memory_limit=f"{LIMIT_MB}MB")
        database.close = lambda: None  # type: ignore[method-assign]  # kept open: checked below
        opened.append(database)
        return database

    assert same_outputs(policy, million, "2024", limited) is None
    (database,) = opened
    setting = database.con.execute("SELECT current_setting('memory_limit')").fetchone()
    # the inputs take 66 MB in polars, the stage's case table with its values (about 50
    # columns of a million rows) some 400 MB: DuckDB wrote what did not fit to disk
    spilled = database.con.execute("SELECT sum(size) FROM duckdb_temporary_files()").fetchone()
    assert setting is not None and setting[0] in ("190.7 MiB", "200.0 MB", "200MB")
    assert spilled is not None and (spilled[0] or 0) > 0  # it spilled: the data did not fit
    DuckDB.close(database)
