"""DuckDB's case steps carry only the columns of the cases the stage reads
(`engine.plan.sql.narrow`), and the stage read back still holds every column, in the polars
frame's order, with the same values."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from sqlglot import exp

from engine.inputs.rundata import Period
from engine.plan.sql.duckdb_runner import DuckDB
from engine.run.outputs import fill_outputs
from engine.run.settle import load_data, load_policy, settle
from policy_dsl.grains import CASE
from policy_dsl.lower import compile_text
from tests.backends.conformance import same_outputs
from tests.conftest import POLICIES, SAMPLE
from tests.dsl.demo_policy import DEMO_HEAD, DEMO_SETTLED

POLICY = compile_text(
    DEMO_HEAD
    + """\
let cost_ratio "费用倍率" : ratio at case = total_cost / avg_cost
let hospital_cost "医院次均费用" : money at hospital = mean(total_cost where bilateral)
let base_points "基准点数" : points at group = weight * 100 pt assumption "每单位权重 100 点"
classify category "病例类型"
  class long "长住院病例" when los > 30
  class normal "正常病例" otherwise
let case_points "病例点数" : points at case = if_missing(base_points, 0 pt)
"""
    + DEMO_SETTLED,
    "demo/2024.policy",
)
#: By hand: the keys of the grains (case, hospital, group, month, level, tier), the case
#: fields the definitions read (`total_cost`, `bilateral`, `los`; `avg_cost` and `weight` are
#: the groups') and the amount the cases file reads besides (`patient_paid`), in the order of
#: the cases table.
CARRIED = ["case_id", "hospital_id", "drg_code", "total_cost", "bilateral", "patient_paid"]
CARRIED += ["los", "month", "level", "tier"]


class Recording(DuckDB):
    """A DuckDB that records the columns of every table and view the plan creates."""

    def __init__(self) -> None:
        super().__init__(cases_on_demand=True)
        self.created: dict[str, list[str]] = {}

        self.reads: dict[str, set[str]] = {}
        self.copied: list[set[str]] = []

    def create(self, name: str, query: exp.Select) -> list[str]:
        self.created[name] = super().create(name, query)
        self.reads[name] = {t.name for t in query.find_all(exp.Table)}
        return self.created[name]

    def execute(self, statement: exp.Expression) -> None:
        self.copied.append({t.name for t in statement.find_all(exp.Table)})
        super().execute(statement)

    def read_by(self, names: set[str]) -> set[str]:
        """Every table and view these read, through the views they read."""
        found, todo = set(), list(names)
        while todo:
            if (name := todo.pop()) not in found:
                found.add(name)
                todo += self.reads.get(name, ())
        return found


def test_case_steps_carry_only_the_inputs_the_stage_reads(sample_cut: Path) -> None:
    data = load_data(sample_cut, POLICY)
    inputs = data.cases.columns
    assert {"person_id", "insurance_type", "drug_cost"} <= set(inputs)  # read by no definition
    database = Recording()
    result = settle(POLICY, data, Period.parse("2024"), backend=database)
    steps = {n: c for n, c in database.created.items() if n.startswith("t") and "case_id" in c}
    first = next(iter(steps.values()))
    assert first == CARRIED
    for columns in steps.values():  # every case step: no input but those read
        assert set(columns) & set(inputs) <= set(CARRIED)
    polars = settle(POLICY, data, Period.parse("2024")).stages["settlement"].frames[CASE]
    read_back = result.stages["settlement"].frames[CASE]
    assert read_back.equals(polars.select(pl.exclude("^__code_.*$")))  # wide again, in order
    database.close()
    assert same_outputs(POLICY, sample_cut, "2024", DuckDB) is None


def test_the_cases_file_and_the_monitoring_stage_read_the_steps_without_a_join(
    tmp_path: Path,
) -> None:
    """Xuancheng's settling stage carries what its cases file and the monitoring stage read of
    the cases (`narrow.later_reads`: `patient_paid`, `person_id`, `drug_cost`…, read by no
    definition of it): neither reads the stage's case table, which joins the other inputs back
    to its steps by `case_id` — and the outputs are polars'."""
    policy = load_policy(POLICIES / "xuancheng" / "2024.policy")
    database = Recording()
    try:
        data = load_data(SAMPLE, policy, database=database)
        result = settle(policy, data, Period.parse("2024"), backend=database)
        result.indicators()
        fill_outputs(result, tmp_path)
        joined = {n for n, read in database.reads.items() if len(read) == 2 and n.startswith("in")}
        joined = {n for n in joined if "case_id" in database.created[n]}
        assert joined  # the settled stage's case table, and the monitoring stage's
        steps = {n for n in database.created if n.startswith("t")}
        assert database.copied and not any(database.read_by(c) & joined for c in database.copied)
        assert not database.read_by(steps) & joined
    finally:
        database.close()
    assert same_outputs(policy, SAMPLE, "2024", DuckDB) is None
