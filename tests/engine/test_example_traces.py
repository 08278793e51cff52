"""A failing hospital or period value in an example shows its trace (`engine.explain_value`):
the formula, the values it reads at those keys, the definitions it reads, money to the fen."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from engine.examples import (
    Mismatch,
    example_files,
    grain_value,
    read_example,
    run_example,
    settle_example,
)
from engine.explain import citation_text
from engine.explain_value import explain_values
from engine.report_text import render_value_trace, show_money
from engine.trace import Trace, ValueTrace
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
    # H70: one case of 70,000.00; drg_payable fixed at 100,000 → 70% line 70,000.00 (the
    # actual cost is on it, so not below it), 90% line 90,000.00 → 70,000 × 110% = 77,000.00
    path = _failing_copy(
        tmp_path,
        "wuxi",
        "retention_bands.yaml",
        {"hospitals": {"H70": {"corrected_amount": 70000}}},
    )
    code, out, _ = run_cli(capsys, "test", str(path))
    assert code == 1
    policy = path.parent.parent / "2024.policy"
    declared = _definition(policy, "year_end", "corrected_amount")
    for expected in (
        "hospital H70 corrected_amount: expected 70,000.00, got 77,000.00",
        "corrected_amount at hospital H70 under wuxi 2024",
        "hospital_id H70, level 2, tier B",
        "corrected_amount = 77,000.00   结余留用校正后金额  [at hospital H70, from the batch run]",
        f"formula: {declared.text}",
        "inputs:  actual_cost = 70,000.00, full_cost_line = 70,000.00, bonus_line = 90,000.00, "
        "retain_bonus = 1.1, drg_payable = 100,000.00",
        "source:  " + "; ".join(citation_text(c) for c in declared.citations),
        f"at:      {policy}:{_line_of(policy, 'report corrected_amount')}",
        # one level down: the definitions it reads, each once
        "actual_cost = 70,000.00   实际发生费用",
        "formula: round_fen(sum(total_cost))",
        "inputs:  sum(total_cost) = 70,000.00",
        "formula: drg_payable * retain_full_below",
        "inputs:  drg_payable = 100,000.00, retain_full_below = 0.7",
        "formula: drg_payable * retain_bonus_below",
        "drg_payable = 100,000.00   DRG 应付金额  [at hospital H70, fixed from outside]",
    ):
        assert expected in out
    assert out.count("drg_payable = 100,000.00   DRG 应付金额") == 1


def test_the_hospital_trace_is_returned_as_data(tmp_path: Path) -> None:
    path = _failing_copy(
        tmp_path, "wuxi", "retention_bands.yaml", {"hospitals": {"H89": {"corrected_amount": 1}}}
    )
    (mismatch,) = run_example(path).mismatches
    assert (mismatch.money, mismatch.got) == (True, pytest.approx(98999.99))
    (trace,) = mismatch.traces
    assert isinstance(trace, ValueTrace)
    assert trace.keys == {"hospital_id": "H89"}
    names = [s.name for s in trace.steps]
    assert names == [
        "corrected_amount",
        "actual_cost",
        "full_cost_line",
        "bonus_line",
        "drg_payable",
    ]
    step = trace.step("corrected_amount")
    assert step.inputs == {
        "actual_cost": pytest.approx(89999.99),
        "full_cost_line": pytest.approx(70000),
        "bonus_line": pytest.approx(90000),
        "retain_bonus": pytest.approx(1.1),
        "drg_payable": pytest.approx(100000),
    }
    assert set(step.money) == {
        "corrected_amount",
        "actual_cost",
        "full_cost_line",
        "bonus_line",
        "drg_payable",
    }
    assert json.loads(json.dumps(trace.to_json()))["steps"][0]["name"] == "corrected_amount"


def test_a_failing_period_value_shows_its_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # DRG cases paid the period's 6,300.00; P1 by item 3,000 × 90% = 2,700.00;
    # inpatient 9,000.00; 70% line 6,300.00; 6,300.00 ≥ 6,300.00 → met
    expect = {"period": {"inpatient_paid": 9500, "drg_share_met": False}}
    path = _failing_copy(tmp_path, "wuhan", "drg_share_at_70.yaml", expect)
    code, out, _ = run_cli(capsys, "test", str(path))
    assert code == 1
    for expected in (
        "period inpatient_paid: expected 9,500.00, got 9,000.00",
        "period drg_share_met: expected false, got true",
        "drg_share_met at all under wuhan 2024",
        "drg_share_met = true   DRG 付费占比达到 70%  [at all, from the batch run]",
        "formula: drg_paid >= drg_share_line",
        "inputs:  drg_paid = 6,300.00, drg_share_line = 6,300.00",
        "formula: inpatient_paid * drg_share_target",
        "inputs:  inpatient_paid = 9,000.00, drg_share_target = 0.7",
        "formula: drg_paid + per_item_paid",
        "inputs:  drg_paid = 6,300.00, per_item_paid = 2,700.00",
        "inputs:  sum(drg_payment) = 6,300.00",
        "inputs:  sum(item_payment) = 2,700.00",
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
    # two cases of weight 1.0 at 10,000 元 per weight, in January and February
    expect = {"hospitals": {"H1": {"month_payable": 1}}}
    path = _failing_copy(tmp_path, "wuxi", "year_end_due.yaml", expect, stage="monthly")
    (mismatch,) = run_example(path).mismatches
    assert "expected 1.00, got 20,000.00" in mismatch.render()
    assert [t.keys.get("month") for t in mismatch.traces] == ["2024-01", "2024-02"]
    assert "month_payable = 10,000.00" in str(mismatch.trace)
    assert "[at hospital H1, month 2024-02, from the batch run]" in str(mismatch.trace)


def test_money_is_shown_to_the_fen_and_a_part_of_a_fen_is_kept() -> None:
    # 10,000.01 × 70% = 7,000.007 元: the line is compared, not paid, so it is not rounded
    _, result = settle_example(POLICIES / "wuhan/examples/drg_share_month.yaml")
    (trace,) = explain_values(result, "drg_share_met", {}, "settlement")
    text = render_value_trace(trace)
    assert "inputs:  drg_paid = 7,000.00, drg_share_line = 7,000.007" in text
    assert "inputs:  drg_paid = 7,000.00, per_item_paid = 3,000.01" in text
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
