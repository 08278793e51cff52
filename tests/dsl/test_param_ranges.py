"""Parameter ranges in the language: `param low_ratio "…" : ratio in [0, 1] = 40%` — parsed,
checked (E310–E312, and each type's default range), formatted, compared by the diff and carried
into the IR; a table range cannot start at `inf`."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from engine.cli import main
from policy_dsl import ast as a
from policy_dsl import ir
from policy_dsl.check import check
from policy_dsl.diagnostics import PolicyErrors
from policy_dsl.diff import diff_versions
from policy_dsl.format import format_policy
from policy_dsl.loader import PolicyFile, policy_from_text, resolve
from policy_dsl.lower import lower
from policy_dsl.parser import parse
from policy_dsl.ranges import DEFAULT_RANGES, default_range, param_range
from tests.conftest import POLICIES
from tests.dsl.demo_policy import DEMO_HEAD

OUTPUTS = """
let base_points "基准点数" : points at group = weight * 100 pt assumption "每单位权重 100 点"
classify category "病例类型"
  class ungrouped "未入组" when ungrouped
  class low "低倍率病例" when total_cost / avg_cost <= low_ratio
    source notice "第五条"
  class normal "正常病例" otherwise
let case_points "病例点数" : points at case = base_points
let coefficient "医疗机构系数" : ratio at case = 1
let settled_points "结算点数" : points at case = case_points * coefficient
input budget fund "本期基金预算" : money
let point_value "点值" : point_value at all = fund / sum(settled_points)
let payment "病例支付额" : money at case = settled_points * point_value
"""


def policy(param: str, extra: str = "") -> str:
    declared = f'param low_ratio "低倍率" : {param}\n  source notice "第五条"\n'
    return DEMO_HEAD + declared + extra + OUTPUTS


def codes(text: str) -> list[tuple[str, str]]:
    checked = check(resolve(policy_from_text(text, "demo/2024.policy")))
    return [(d.code, d.message) for d in checked.diagnostics]


def compiled(text: str) -> ir.Policy:
    checked = check(resolve(policy_from_text(text, "demo/2024.policy")))
    assert checked.ok, [d.render() for d in checked.diagnostics]
    return lower(checked)


def test_a_declared_range_is_parsed_with_its_bounds() -> None:
    decl = param_of(policy("ratio in [0%, 100%) = 40%"))
    assert decl.range == a.ParamRange(
        a.Number(Decimal(0), "percent"), True, a.Number(Decimal(100), "percent"), False
    )
    unbounded = param_of(policy("ratio in (0, inf) = 40%")).range
    assert unbounded is not None and unbounded.high is None and not unbounded.low_closed


def param_of(text: str) -> a.Param:
    return next(d for _, d in parse(text).declarations() if isinstance(d, a.Param))


def test_the_ir_carries_the_declared_type_and_range_in_the_types_units() -> None:
    param = compiled(policy("ratio in [0%, 100%] = 40%")).param("low_ratio")
    assert param.declared_type == "ratio"
    assert param.range == ir.ValueRange(low=0.0, high=1.0)
    assert param_range(param) == ir.ValueRange(low=0.0, high=1.0)
    undeclared = compiled(policy("ratio = 40%")).param("low_ratio")
    assert undeclared.range is None and param_range(undeclared) == ir.ValueRange(low=0.0)
    assert "range" in ir.json_schema()["$defs"]["Param"]["properties"]


def test_the_formatter_writes_the_range_canonically() -> None:
    text = policy("ratio  in  [ 0 ,1 ]  = 40%")
    formatted = format_policy(parse(text), text)
    assert 'param low_ratio "低倍率" : ratio in [0, 1] = 40%' in formatted
    assert parse(formatted) == parse(text)


def test_a_changed_range_is_a_change_of_the_parameter() -> None:
    old = resolve(policy_from_text(policy("ratio in [0, 1] = 40%"), "demo/2024.policy"))
    new = resolve(policy_from_text(policy("ratio in [0, 0.5] = 40%"), "demo/2024.policy"))
    changes = diff_versions(old, new)
    assert [(c.clause, c.kind) for c in changes] == [("param:low_ratio", "changed")]
    assert "[0, 1]" in changes[0].describe() and "[0, 0.5]" in changes[0].describe()


@pytest.mark.parametrize(
    ("param", "code", "words"),
    [
        ("ratio in [0, 1] = 40", "E310", "outside its range: in [0, 1]"),
        ("ratio in [0, 1] = 120%", "E310", "`p` is 120%"),
        ("ratio = -10%", "E310", "outside a ratio's default range: ≥ 0"),
        ("point_value = -5", "E310", "outside a point_value's default range: > 0"),
        ("money = -1 元", "E310", "outside a money's default range: ≥ 0"),
        ("count = 2.5", "E310", "a whole number ≥ 0"),
        ("level = 4", "E310", "a whole number in [0, 3]"),
        ("count in [0, 2.5] = 2", "E311", "whole-number bounds"),
        ("bool in [0, 1] = true", "E311", "only a number has a range"),
        ("ratio in [1, 0] = 40%", "E312", "holds no value"),
        ("ratio in (1, 1] = 1", "E312", "holds no value"),
    ],
)
def test_a_value_outside_its_range_or_a_range_that_does_not_fit(
    param: str, code: str, words: str
) -> None:
    text = policy(
        "ratio = 40%",
        f'param p "p" : {param.replace("low_ratio", "p")}\n  source notice "第五条"\n',
    )
    found = [(c, m) for c, m in codes(text) if c != "W101"]
    assert [c for c, _ in found] == [code], found
    assert words in found[0][1]


@pytest.mark.parametrize(
    ("param", "column"),
    [("number = 1e999", 24), ("ratio in [0, 1e999] = 40%", 28)],
)
def test_a_number_no_double_holds_is_refused_before_its_range_is_checked(
    param: str, column: int
) -> None:
    """A value or a bound of `1e999` (infinite as a double) is refused by the parser (E011: a
    number must be below 10^15), so neither E310 nor E311 is reached from text."""
    text = policy("ratio = 40%", f'param p "p" : {param}\n  source notice "第五条"\n')
    with pytest.raises(PolicyErrors) as caught:
        policy_from_text(text, "demo/2024.policy")
    (d,) = caught.value.diagnostics
    assert (d.code, d.line, d.column) == ("E011", 14, column)
    assert "`1e999` is too large" in d.message


@pytest.mark.parametrize(
    ("param", "code", "words"),
    [
        ("number = 777", "E310", "any finite number"),
        ("ratio in [0, 777] = 40%", "E311", "not made of two numbers"),
    ],
)
def test_the_checker_refuses_a_non_finite_value_or_bound_in_a_tree(
    param: str, code: str, words: str
) -> None:
    """A tree built other than by the parser (a patch, a program) can hold a number no double
    holds: the checker refuses it on its own, as E310 (value) or E311 (bound)."""
    text = policy("ratio = 40%", f'param p "p" : {param}\n  source notice "第五条"\n')
    file = policy_from_text(text, "demo/2024.policy")
    infinite = _replace_number(file.tree, Decimal(777), Decimal("1e999"))
    assert infinite != file.tree
    checked = check(resolve(PolicyFile(file.path, file.text, infinite)))
    found = [(d.code, d.message) for d in checked.diagnostics if d.code != "W101"]
    assert [c for c, _ in found] == [code], found
    assert words in found[0][1]


def _replace_number(node: Any, old: Decimal, new: Decimal) -> Any:
    """`node` with every number literal of value `old` given the value `new`."""
    if isinstance(node, tuple):
        return tuple(_replace_number(n, old, new) for n in node)
    if isinstance(node, a.Number) and node.value == old:
        return dataclasses.replace(node, value=new)
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        changes = {
            f.name: _replace_number(getattr(node, f.name), old, new)
            for f in dataclasses.fields(node)
        }
        return dataclasses.replace(node, **changes)
    return node


@pytest.mark.parametrize(
    "param",
    [
        "ratio in [0, 1] = 40%",
        "ratio in [0%, 100%] = 0.4",
        "ratio in [-1, 1] = -20%",  # a declared range replaces the default
        "ratio in [1, 1] = 100%",
        "ratio in (0, inf) = 300%",
        "ratio = 0",
    ],
)
def test_a_value_within_its_range_checks_clean(param: str) -> None:
    assert codes(policy(param)) == []


def test_every_shipped_parameter_lies_in_its_range() -> None:
    for path in sorted(POLICIES.rglob("*.policy")):
        assert not [c for c, _ in codes_of(path) if c.startswith("E31")], path


def codes_of(path: Path) -> list[tuple[str, str]]:
    from policy_dsl.check import check_path

    return [(d.code, d.message) for d in check_path(path).diagnostics]


def test_the_default_ranges_are_one_table() -> None:
    assert str(default_range("ratio")) == "≥ 0"
    assert str(default_range("count")) == "a whole number ≥ 0"
    assert str(default_range("point_value")) == default_range("rate").__str__() == "> 0"
    assert str(default_range("number")) == "any finite number"
    assert default_range("bool") is None
    assert set(DEFAULT_RANGES) == {
        "number",
        "ratio",
        "weight",
        "money",
        "points",
        "count",
        "level",
        "point_value",
        "rate",
    }


# ---- a table range that starts at inf -----------------------------------------------------------

INF_LOW = (
    (POLICIES / "xuancheng" / "2023.policy")
    .read_text(encoding="utf-8")
    .replace("[0, 100) -> 300%", "[inf, 100) -> 300%")
)


def test_a_table_range_cannot_start_at_inf(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Regression: `[inf, 100)` checked clean, then `settle`, `fmt` and `diff` crashed."""
    path = tmp_path / "xuancheng" / "2023.policy"
    path.parent.mkdir()
    path.write_text(INF_LOW, encoding="utf-8")
    assert main(["check", str(path)]) == 1
    shown = "".join(capsys.readouterr())
    assert "E001" in shown and "unexpected `inf`" in shown
    assert main(["fmt", "--check", str(path)]) == 1
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("value", ["30%", "6‰", "-30%"])
@pytest.mark.parametrize("typ", ["money", "points", "point_value"])
def test_a_share_given_to_a_value_with_a_unit_is_an_error(value: str, typ: str) -> None:
    """`: money = 30%` is not 0.30 元: E303 at its value, as `--set per_diem_rate=30%` is refused
    (`engine.plan.overrides`); pinned (it held on main: the report of rel27 said otherwise)."""
    found = codes(
        policy("ratio = 40%", f'param amount "金额" : {typ} = {value} assumption "示例"\n')
    )
    assert any(code == "E303" and "value is a plain number" in words for code, words in found)
