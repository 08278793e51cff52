"""DuckDB keeps a stage's steps as views (`Database.lazy`): a table is computed only when two
steps read it, when views stack too deep, or at the stage's end — but not a step that only
projects a table already computed (a copy of all its columns), or brings it the whole period's
one row — and the steps no table reads any more are dropped, so a run leaves one table per
grain of each stage, or a projection of one."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlglot import exp

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
        # columns beside some forty) stays a view of it, with the projections it reads — the
        # whole period's one row brought to each row (`payable_total`, a CROSS JOIN) among them
        assert step_views and len(step_tables) <= grains
        assert any(" CROSS JOIN " in sql for sql in step_views.values())
        for sql in step_views.values():
            sql = sql.replace(" CROSS JOIN ", " ")
            assert not any(word in sql for word in (" JOIN ", "GROUP BY", " OVER ", "DISTINCT"))
    else:
        assert not step_views and len(step_tables) == grains
    database.close()


class Grouping(DuckDB):
    """A DuckDB that notes each GROUP BY of the cases' steps that reads views holding a join or
    a window although a computed step table of the cases already holds every column it reads."""

    def __init__(self) -> None:
        super().__init__()
        self.queries: dict[str, exp.Select] = {}
        self.through_views: list[str] = []

    def joins(self, name: str) -> bool:
        """Whether reading `name` evaluates a join or a window (a view's, or one it reads) — not
        a CROSS JOIN, which brings the whole period's one row to each row, as a projection."""
        query = self.queries.get(name) if self._kinds.get(name) == "VIEW" else None
        if query is None:
            return False
        read = {t.name for t in query.find_all(exp.Table)}
        joined = any(j.args.get("kind") != "CROSS" for j in query.find_all(exp.Join))
        return joined or query.find(exp.Window) is not None or any(map(self.joins, read))

    def create(self, name: str, query: exp.Select) -> list[str]:
        read = {t.name for t in query.find_all(exp.Table)}
        if query.args.get("group") and any(map(self.joins, read)):
            columns = {c.name for c in query.find_all(exp.Column)} | {"case_id"}
            held = self.con.sql(
                "SELECT table_name FROM duckdb_columns() WHERE table_name LIKE 't%' "
                "GROUP BY table_name HAVING list(column_name) @> ?",
                params=[sorted(columns)],
            ).fetchall()
            if any(self._kinds.get(t) == "TABLE" for (t,) in held):
                self.through_views.append(self.sql(query))
        self.queries[name] = query
        return super().create(name, query)


def test_a_group_by_of_columns_a_computed_table_holds_reads_that_table(sample_cut: Path) -> None:
    """Xuancheng counts its cases by group and by hospital after steps that joined values to
    them: each GROUP BY reads the cases' table computed before those steps (the same rows, the
    columns unchanged), so the steps since stay views, not a copy of forty columns computed
    because a second step read them."""
    policy = load_policy(XUANCHENG)
    database = Grouping()
    settle(policy, load_data(sample_cut, policy), Period.parse("2024"), backend=database)
    assert database.through_views == []
    database.close()
