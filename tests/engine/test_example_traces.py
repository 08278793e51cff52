"""A failing hospital or period value in an example shows its trace
(`engine.explainer.explain_value`): the formula, the values it reads at those keys, the definitions
it reads, money to the fen."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from engine.explainer.explain import citation_text
from engine.explainer.explain_value import explain_values
from engine.explainer.report_text import render_value_trace, show_money
from engine.explainer.trace import Trace, ValueTrace
from engine.run.examples import (
    Mismatch,
    example_files,
    grain_value,
    read_example,
    run_example,
    settle_example,
)
from policy_dsl import ir
from policy_dsl.lower import compile_file
from tests.conftest import POLICIES, run_cli


def _failing_copy(
    tmp_path: Path, city: str, example: str, expect: dict[str, object], **fields: object
) -> Path:
    """A copy of a shipped example (and of its city's policies, which an example is read
    beside) whose `expect` (and other `fields`) are replaced."""
    folder = tmp_path / city
    shutil.copytree(POLICIES / city, folder, ignore=shutil.ignore_patterns("examples"))
    document = yaml.safe_load((POLICIES / city / "examples" / example).read_text("utf-8"))
    document.update(fields, expect=expect)
    path = folder / "examples" / example
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def _definition(policy: Path, stage: str, name: str) -> ir.Definition:
    definitions = compile_file(policy).stage(stage).definitions
    return next(d for d in definitions if d.name == name)


def _line_of(policy: Path, declaration: str) -> int:
    lines = policy.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if declaration in line)


def test_a_failing_hospital_value_shows_its_formula_inputs_and_what_they_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # H70: one case of 70,000.00; year_payable fixed at 100,000 → 70% line 70,000.00 (the
    # actual cost is on it, so not below it), 90% line 90,000.00 → 70,000 × 110% = 77,000.00
    path = _failing_copy(
        tmp_path,
        "wuxi",
        "retention_bands.yaml",
        {"hospitals": {"H70": {"year_actual_payment": 70000}}},
    )
    code, out, _ = run_cli(capsys, "test", str(path))
    assert code == 1
    policy = path.parent.parent / "2024.policy"
    declared = _definition(policy, "year_end", "year_actual_payment")
    for expected in (
        "hospital H70 year_actual_payment: expected 70,000.00, got 77,000.00",
        "year_actual_payment at hospital H70 under wuxi 2024",
        "hospital_id H70, level 2, tier B",
        "year_actual_payment = 77,000.00   年度实际支付总额（结余留用修正后）  "
        "[at hospital H70, from the batch run]",
        f"formula: {declared.text}",
        "inputs:  actual_cost = 70,000.00, full_cost_line = 70,000.00, bonus_line = 90,000.00, "
        "retain_bonus = 1.1, year_payable = 100,000.00",
        "source:  " + "; ".join(citation_text(c) for c in declared.citations),
        f"at:      {policy}:{_line_of(policy, 'report year_actual_payment')}",
        # one level down: the definitions it reads, each once
        "actual_cost = 70,000.00   实际发生的全年住院医疗费用总额（含个人负担部分）",
        "formula: round_fen(sum(total_cost))",
        "inputs:  sum(total_cost) = 70,000.00",
        "formula: year_payable * retain_full_below",
        "inputs:  year_payable = 100,000.00, retain_full_below = 0.7",
        "formula: year_payable * retain_bonus_below",
        "year_payable = 100,000.00   住院年度应支付总额（浮动费率 × 年终清算系数）  "
        "[at hospital H70, fixed from outside]",
    ):
        assert expected in out
    assert out.count("year_payable = 100,000.00   住院年度应支付总额") == 1
    # a value fixed from outside reads nothing: what its formula would read is not traced
    assert "drg_payable =" not in out and "clearing_coefficient =" not in out


def test_the_hospital_trace_is_returned_as_data(tmp_path: Path) -> None:
    path = _failing_copy(
        tmp_path,
        "wuxi",
        "retention_bands.yaml",
        {"hospitals": {"H89": {"year_actual_payment": 1}}},
    )
    (mismatch,) = run_example(path).mismatches
    assert (mismatch.money, mismatch.got) == (True, pytest.approx(98999.99))
    (trace,) = mismatch.traces
    assert isinstance(trace, ValueTrace)
    assert trace.keys == {"hospital_id": "H89"}
    names = [s.name for s in trace.steps]
    assert names == [
        "year_actual_payment",
        "actual_cost",
        "full_cost_line",
        "bonus_line",
        "year_payable",
    ]
    step = trace.step("year_actual_payment")
    assert step.inputs == {
        "actual_cost": pytest.approx(89999.99),
        "full_cost_line": pytest.approx(70000),
        "bonus_line": pytest.approx(90000),
        "retain_bonus": pytest.approx(1.1),
        "year_payable": pytest.approx(100000),
    }
    assert set(step.money) == {
        "year_actual_payment",
        "actual_cost",
        "full_cost_line",
        "bonus_line",
        "year_payable",
    }
    fixed = trace.step("year_payable")
    assert (fixed.source, fixed.inputs) == ("fixed", {})
    assert json.loads(json.dumps(trace.to_json()))["steps"][0]["name"] == "year_actual_payment"


def test_a_failing_period_value_shows_its_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a month's budget 10,000.00; P1 per diem 5 days × 350 = 1,750.00, C1 the DRG rest
    # 8,250.00; fund paid: C1 8,250.00, P1 1,750.00 − 294.12 = 1,455.88 → 9,705.88
    expect = {"period": {"inpatient_fund_paid": 9800, "drg_fund_paid": 8000}}
    path = _failing_copy(tmp_path, "wuhan", "fund_share_month.yaml", expect)
    code, out, _ = run_cli(capsys, "test", str(path))
    assert code == 1
    for expected in (
        "period inpatient_fund_paid: expected 9,800.00, got 9,705.88",
        "period drg_fund_paid: expected 8,000.00, got 8,250.00",
        "inpatient_fund_paid at all under wuhan 2024",
        "formula: round_fen(sum(drg_payment - patient_paid where category is not per_diem))",
        "inputs:  sum(drg_payment - patient_paid where category is not per_diem) = 8,250.00",
        "formula: round_fen(sum(payment - patient_paid))",
        "inputs:  sum(payment - patient_paid) = 9,705.88",
    ):
        assert expected in out


def test_an_aggregate_of_hospital_values_is_shown_as_written(tmp_path: Path) -> None:
    # deposits withheld 500.00 at each of three hospitals; returned 80%, 100%, 60% of them
    expect = {"period": {"total_deposit_kept": 200}}
    path = _failing_copy(tmp_path, "wuxi", "year_summary.yaml", expect)
    (mismatch,) = run_example(path).mismatches
    assert "expected 200.00, got 300.00" in mismatch.render()
    assert "formula: sum(deposit_withheld) - sum(deposit_returned)" in str(mismatch.trace)
    assert "sum(deposit_withheld) = 1,500.00, sum(deposit_returned) = 1,200.00" in str(
        mismatch.trace
    )


def test_a_monthly_value_checked_for_a_hospital_shows_each_month(tmp_path: Path) -> None:
    # two cases of weight 1.0 at 10,000 元 per weight, in January and February; the audit
    # deductions of June and November give H1 a row in those months too (a monthly statement
    # has a row for each month a deduction falls in, engine/CONTRACT.md), with nothing payable
    expect = {"hospitals": {"H1": {"month_payable": 1}}}
    path = _failing_copy(tmp_path, "wuxi", "year_end_due.yaml", expect, stage="monthly")
    (mismatch,) = run_example(path).mismatches
    assert "expected 1.00, got 20,000.00" in mismatch.render()
    months = [t.keys.get("month") for t in mismatch.traces]
    assert months == ["2024-01", "2024-02", "2024-06", "2024-11"]
    assert [t.value("month_payable") for t in mismatch.traces] == [10000, 10000, 0, 0]
    assert "month_payable = 10,000.00" in str(mismatch.trace)
    assert "[at hospital H1, month 2024-02, from the batch run]" in str(mismatch.trace)


def test_money_is_shown_to_the_fen_and_a_part_of_a_fen_is_kept() -> None:
    # 100.06 × 70% = 70.042 元, × 90% = 90.054 元: the lines are compared, not paid, so they
    # are not rounded
    _, result = settle_example(POLICIES / "wuxi/examples/retention_sub_fen.yaml")
    keys = {"hospital_id": "H7004"}
    (trace,) = explain_values(result, "year_actual_payment", keys, "year_end")
    text = render_value_trace(trace)
    assert (
        "inputs:  actual_cost = 70.04, full_cost_line = 70.042, bonus_line = 90.054, "
        "retain_bonus = 1.1, year_payable = 100.06"
    ) in text
    assert "full_cost_line = 70.042   70% 界限金额" in text
    assert "inputs:  year_payable = 100.06, retain_full_below = 0.7" in text
    assert [show_money(v) for v in (70000, 98999.99, -4600, None)] == [
        "70,000.00",
        "98,999.99",
        "-4,600.00",
        "missing",
    ]


def test_a_failing_case_value_shows_money_to_the_fen_and_its_trace_as_data(tmp_path: Path) -> None:
    expect = {"cases": {"C1": {"payment": 1801}}}
    path = _failing_copy(tmp_path, "xuancheng", "bilateral.yaml", expect)
    (mismatch,) = run_example(path).mismatches
    assert "case C1 payment: expected 1,801.00, got 1,800.00" in mismatch.render()
    assert [type(t) for t in mismatch.traces] == [Trace]
    assert "Case C1 under xuancheng 2024" in str(mismatch.trace)


def test_a_failing_case_shows_the_path_to_its_wrong_value_not_every_definition(
    tmp_path: Path,
) -> None:
    """The case's trace began with the standard indicators' `grouped` and `died` (`include
    "indicators"`), which decide nothing of a payment, and held every case definition of the
    stage: it now holds the wrong values and the steps they read, in the order explained."""
    expect = {"cases": {"C1": {"payment": 1801}}}
    path = _failing_copy(tmp_path, "xuancheng", "bilateral.yaml", expect)
    (mismatch,) = run_example(path).mismatches
    (trace,) = mismatch.traces
    assert isinstance(trace, Trace)
    shown = [step.name for step in trace.steps]
    assert {"grouped", "died"}.isdisjoint(shown), shown
    assert {"category", "case_points", "settled_points", "payment"} <= set(shown), shown
    assert shown.index("category") < shown.index("case_points") < shown.index("payment")
    assert "died = " not in str(mismatch.trace) and "payment = 1,800" in str(mismatch.trace)


def _expects_values(path: Path) -> bool:
    expect = read_example(path).expect
    return bool(expect.hospitals or expect.period)


@pytest.mark.parametrize(
    "path",
    [p for p in example_files(POLICIES) if _expects_values(p)],
    ids=lambda p: f"{p.parent.parent.name}/{p.stem}",
)
def test_every_expected_hospital_and_period_value_traces_as_settled(path: Path) -> None:
    """The trace of each value an example expects reads the batch run's values: the value
    itself, and each definition it reads as that definition's own step shows it."""
    example, result = settle_example(path)
    stage = example.stage or result.settling_stages()[-1]
    wanted = [({"hospital_id": h}, names) for h, names in example.expect.hospitals.items()]
    for keys, names in [*wanted, ({}, example.expect.period)]:
        for name in names:
            traces = explain_values(result, name, keys, stage)
            got = grain_value(result.stages[stage], name, keys)
            values = [t.value(name) for t in traces]
            assert (sum(values) if len(values) > 1 else values[0]) == pytest.approx(got)
            for trace in traces:
                _check_inputs(trace)


def _check_inputs(trace: ValueTrace) -> None:
    steps = {s.name: s for s in trace.steps}
    for step in trace.steps:
        for read, value in step.inputs.items():
            if read in steps:
                assert value == pytest.approx(steps[read].value) or value == steps[read].value


def test_mismatch_without_a_trace_renders_one_line() -> None:
    assert Mismatch("period", "x", 1, 2).render() == "  period x: expected 1, got 2"
