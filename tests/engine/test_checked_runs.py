"""What the checker accepts, the engine runs: each crash the fuzz suite
(`tests/dsl/test_fuzz_policies.py`) found in a policy that checked clean, fixed at its root —
refused by the checker, or run, or stopped with a project error."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.inputs.rundata import Period
from engine.plan.polars.finite import NotFinite
from engine.run.settle import load_data, settle
from policy_dsl.check import check_path
from policy_dsl.diagnostics import PolicyErrors
from policy_dsl.lower import compile_file
from tests.conftest import POLICIES, run_cli

XUANCHENG_2023 = (POLICIES / "xuancheng" / "2023.policy").read_text(encoding="utf-8")
WUXI = (POLICIES / "wuxi" / "2024.policy").read_text(encoding="utf-8")
COEFFICIENT = 'let coefficient "适用系数" : ratio at case =\n'


def write(tmp_path: Path, text: str, name: str = "xuancheng/2023.policy") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_settlement_output_given_as_a_parameter_is_refused(tmp_path: Path) -> None:
    """Regression: `param coefficient … = 1` checked clean, then settle: KeyError."""
    assert COEFFICIENT in XUANCHENG_2023
    text = XUANCHENG_2023.replace(
        COEFFICIENT,
        'param coefficient "适用系数" : ratio = 1\n  assumption "一律为 1"\n'
        'let unused_coefficient "原适用系数" : ratio at case =\n',
    )
    found = [d for d in check_path(write(tmp_path, text)).diagnostics if d.code == "E802"]
    assert len(found) == 1
    assert (
        "settlement output `coefficient` must be a definition, not a parameter" in found[0].message
    )
    assert "let coefficient" in (found[0].hint or "")


def test_a_formula_is_evaluated_after_the_classification_it_is_by(
    tmp_path: Path, sample_cut: Path
) -> None:
    """Regression: with `total_points` declared before the classification, `class_points …
    by category` was evaluated before `category` (the `by` was no dependency): KeyError."""
    line = 'report total_points "总结算点数" : points at all = sum(settled_points)\n'
    anchor = 'let cost_ratio "费用倍率" : ratio at case = total_cost / benchmark_cost\n'
    assert line in XUANCHENG_2023 and anchor in XUANCHENG_2023
    text = XUANCHENG_2023.replace(line, "").replace(anchor, anchor + line)
    policy = compile_file(write(tmp_path, text))
    order = [d.name for d in policy.stages[0].definitions]
    assert order.index("category") < order.index("class_points")
    result = settle(policy, load_data(sample_cut, policy), Period.parse("2024"))
    assert result.missing_outputs() == {}


def test_a_payment_beyond_money_stops_the_run(tmp_path: Path, sample_cut: Path) -> None:
    """Regression: a ratio of 10^18 (still ≥ 0, its type's range) made every monthly payment
    10^22 元, and the run failed in polars while writing (`conversion from f64 to i64`). The
    language now refuses a number that large (E011); a ratio of 10^12 (10^14 %), which it
    accepts, still makes each payment about 10^16 元, beyond money: the run stops."""
    line = 'param prepay_share "月度预付比例" : ratio = 95%'
    assert line in WUXI
    refused = WUXI.replace(line, line.replace("95%", "100000000000000000000%"))
    with pytest.raises(PolicyErrors, match=r"error E011: `100000000000000000000%` is too large"):
        compile_file(write(tmp_path, refused, "refused/2024.policy"))
    huge = WUXI.replace(line, line.replace("95%", "100000000000000%"))
    policy = compile_file(write(tmp_path, huge, "wuxi/2024.policy"))
    with pytest.raises(
        NotFinite,
        match=r"stage monthly: `payment` .* is money beyond 90,071,992,547,409\.92 元.* at case "
        r".*prepay_share = 1,000,000,000,000\.00",
    ):
        settle(policy, load_data(sample_cut, policy), Period.parse("2024"))


#: 10^300 as a product of numbers the language accepts (each below 10^15, E011).
E300 = " * ".join(["1e14"] * 21 + ["1e6"])


def test_a_budget_split_beyond_money_stops_the_run(tmp_path: Path, sample_cut: Path) -> None:
    """Regression: settled points of 10^300 made the split of the budget fail in polars. The
    literal 1e300 is now refused (E011), a product of accepted numbers is not."""
    assert "then 1 else hospital_coefficient" in XUANCHENG_2023
    literal = XUANCHENG_2023.replace("then 1 else hospital_coefficient", "then 1 else 1e300")
    with pytest.raises(PolicyErrors, match=r"error E011: `1e300` is too large"):
        compile_file(write(tmp_path, literal, "refused/2023.policy"))
    text = XUANCHENG_2023.replace("then 1 else hospital_coefficient", f"then 1 else {E300}")
    policy = compile_file(write(tmp_path, text))
    with pytest.raises(NotFinite, match=r"`payment` .* is NaN \(not a number\)"):
        settle(policy, load_data(sample_cut, policy), Period.parse("2024"))


def test_finite_values_whose_sum_overflows_are_checked_one_by_one(
    tmp_path: Path, sample_cut: Path
) -> None:
    """Regression: a coefficient of 10^308 at each case is finite, but its sum over the cases is
    not; the check took the infinite sum for a wrong value, found no row to name and crashed
    (polars OutOfBoundsError). Now the coefficient stands, and the settled points (55 pt ×
    10^308, infinite) stop the run, named."""
    e308 = " * ".join(["1e14"] * 22)
    text = XUANCHENG_2023.replace("then 1 else hospital_coefficient", f"then 1 else {e308}")
    policy = compile_file(write(tmp_path, text))
    with pytest.raises(
        NotFinite,
        match=r"`settled_points` .* is inf, not a finite number at case .*"
        r"coefficient = 1e\+308",
    ):
        settle(policy, load_data(sample_cut, policy), Period.parse("2024"))


def test_a_fixed_point_value_too_large_for_money_is_a_message(
    tmp_path: Path, sample_cut: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = POLICIES / "xuancheng" / "2024.policy"
    args = ["settle", "--policy", str(path), "--data", str(sample_cut), "--period", "2024"]
    code, _, err = run_cli(
        capsys, *args, "--out", str(tmp_path / "o"), "--fix", "point_value=1e300"
    )
    assert code == 1
    assert "`payable_total` (本期应付总额, " in err
    assert "is money beyond 90,071,992,547,409.92 元" in err
    assert "there it reads point_value = 1e+300" in err and "a value set with --set/--fix" in err
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()
