"""DuckDB's case steps carry only the columns of the cases the stage reads
(`engine.plan.sql.narrow`), and the stage read back still holds every column, in the polars
frame's order, with the same values."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from sqlglot import exp

from engine.inputs.rundata import Period
from engine.plan.sql.duckdb_runner import DuckDB
from engine.run.settle import load_data, settle
from policy_dsl.lower import compile_text
from tests.backends.conformance import same_outputs
from tests.dsl.demo_policy import DEMO_HEAD

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
let coefficient "医疗机构系数" : ratio at case = 1
let settled_points "结算点数" : points at case = case_points * coefficient
input budget drg_fund "本期基金预算" : money
let point_value "点值" : point_value at all = drg_fund / sum(settled_points)
let payment "病例支付额" : money at case = settled_points * point_value
""",
    "demo/2024.policy",
)
#: By hand: the keys of the grains (case, hospital, group, month, level, tier) and the case
#: fields the definitions read (`total_cost`, `bilateral`, `los`; `avg_cost` and `weight` are
#: the groups'), in the order of the cases table.
CARRIED = ["case_id", "hospital_id", "drg_code", "total_cost", "bilateral", "los"]
CARRIED += ["month", "level", "tier"]
CASE = frozenset({"case"})


class Recording(DuckDB):
    """A DuckDB that records the columns of every table and view the plan creates."""

    def __init__(self) -> None:
        super().__init__()
        self.created: dict[str, list[str]] = {}

    def create(self, name: str, query: exp.Select) -> list[str]:
        self.created[name] = super().create(name, query)
        return self.created[name]


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
