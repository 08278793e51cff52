"""DuckDB keeps a stage's steps as views (`Database.lazy`): a table is computed only when two
steps read it, when views stack too deep, or at the stage's end — but not a step that only
projects a table already computed (a copy of all its columns) — and the steps no table reads
any more are dropped, so a run leaves one table per grain of each stage, or a projection of
one."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.inputs.rundata import Period
from engine.plan.sql.duckdb_runner import DuckDB
from engine.run.settle import load_data, load_policy, settle
from tests.conftest import POLICIES

XUANCHENG = POLICIES / "xuancheng" / "2024.policy"


class Counting(DuckDB):
    """A DuckDB that counts the views it computes."""

    def __init__(self) -> None:
        super().__init__()
        self.computed: list[str] = []

    def keep(self, name: str) -> str:
        self.computed.append(name)
        return super().keep(name)


@pytest.mark.parametrize("lazy", [24, 0])
def test_steps_stay_views_until_read_twice_and_only_the_grains_tables_remain(
    sample_cut: Path, lazy: int
) -> None:
    policy = load_policy(XUANCHENG)
    database = Counting()
    database.lazy = lazy
    result = settle(policy, load_data(sample_cut, policy), Period.parse("2024"), backend=database)
    definitions = sum(len(s.definitions) for s in policy.stages)
    if lazy:
        # computed: the grains' tables at the end and the tables two steps read — far fewer
        # than one per definition (Xuancheng: 24 of 78 definitions)
        assert len(database.computed) < definitions / 2
    else:
        assert len(database.computed) >= definitions
    tables = [n for (n,) in database.con.sql("SELECT table_name FROM duckdb_tables()").fetchall()]
    views = database.con.sql("SELECT view_name, sql FROM duckdb_views() WHERE NOT internal")
    step_tables = [name for name in tables if name.startswith("t")]
    step_views = {name: sql.upper() for name, sql in views.fetchall() if name.startswith("t")}
    grains = sum(len(r.frames) for r in result.stages.values())
    if lazy:
        # a grain's table that only projects a computed table (the settled cases: a few new
        # columns beside some forty) stays a view of it, with the projections it reads
        assert step_views and len(step_tables) <= grains
        for sql in step_views.values():
            assert not any(word in sql for word in (" JOIN ", "GROUP BY", " OVER ", "DISTINCT"))
    else:
        assert not step_views and len(step_tables) == grains
    database.close()
