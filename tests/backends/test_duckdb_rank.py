"""`rank … where` on the SQL backends: the window sorts the chosen rows alone (a UNION ALL of the
chosen rows, ranked, and the others, with no position: `SqlStageRun.over_chosen`), not every row
with all its columns; the positions are polars', ties by the row key, with and without `where`,
at the case grain and at a coarser one."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from sqlglot import exp

from engine.inputs.rundata import Period
from engine.plan.sql.duckdb_runner import DuckDB
from engine.run.settle import load_data, settle
from policy_dsl.grains import CASE
from policy_dsl.lower import compile_text
from tests.backends.conformance import same_outputs
from tests.dsl.demo_policy import DEMO_HEAD, DEMO_SETTLED

POLICY = compile_text(
    DEMO_HEAD
    + """\
let chosen_rank "双侧病例序号" : count at case =
  rank(total_cost desc within hospital where bilateral)
let los_rank "住院日序号" : count at case = rank(los desc within hospital)
let long_rank "长住院病例序号" : count at case = rank(los asc within group where los > 10)
let hospital_cost "医院总费用" : money at hospital = sum(total_cost)
let hospital_rank "医院序号" : count at hospital =
  rank(hospital_cost asc within level where hospital_cost > 0)
let base_points "基准点数" : points at group = weight * 100 pt assumption "每单位权重 100 点"
classify category "病例类型"
  class chosen "双侧病例" when bilateral
  class normal "正常病例" otherwise
let case_points "病例点数" : points at case = if_missing(chosen_rank, 0) * 1 pt
"""
    + DEMO_SETTLED,
    "demo/2024.policy",
)


class Recording(DuckDB):
    """A DuckDB that records the query of every view the plan creates."""

    def __init__(self) -> None:
        super().__init__(cases_on_demand=True)
        self.queries: list[exp.Select] = []

    def create(self, name: str, query: exp.Select) -> list[str]:
        self.queries.append(query)
        return super().create(name, query)


def test_a_rank_where_sorts_the_chosen_rows_alone_and_equals_polars(sample_cut: Path) -> None:
    data = load_data(sample_cut, POLICY)
    database = Recording()
    try:
        result = settle(POLICY, data, Period.parse("2024"), backend=database)
        windows = [w for q in database.queries for w in q.find_all(exp.Window)]
        assert len(windows) == 4  # one a rank
        chosen = [w for w in windows if w.find_ancestor(exp.Select).args.get("where")]
        assert len(chosen) == 3  # those with `where`: over the rows it keeps
        polars = settle(POLICY, data, Period.parse("2024")).stages["settlement"]
        for grain, frame in polars.frames.items():
            read_back = result.stages["settlement"].frames[grain]
            assert read_back.equals(frame.select(pl.exclude("^__code_.*$")))
        ranks = polars.frames[CASE].select("chosen_rank", "los_rank", "long_rank")
        assert ranks.null_count().row(0)[1] == 0 and 0 < ranks.null_count().row(0)[0] < len(ranks)
    finally:
        database.close()
    assert same_outputs(POLICY, sample_cut, "2024", DuckDB) is None
