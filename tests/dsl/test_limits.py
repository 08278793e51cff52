"""The language's limits (`policy_dsl.limits`): how deep an expression may nest (E010) and what a
number may hold (E011). Past them `check` and `fmt` give the same diagnostic; within them every
pass works, however long a chain of `and`/`or` or of definitions. The engine's side (settle,
explain at the limit) is in `tests/engine/test_deep_policies.py`."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.lang_inputs import SHAPES, condition_chain, definition_chain, with_definition
from policy_dsl import ast as a
from policy_dsl import ir
from policy_dsl.check import check
from policy_dsl.diagnostics import PolicyErrors
from policy_dsl.format import format_policy
from policy_dsl.limits import MAX_DEPTH, MAX_DIGITS, number_problem
from policy_dsl.loader import (
    MAX_CHARACTERS,
    PolicyFileError,
    policy_from_text,
    read_policy_file,
    resolve,
)
from policy_dsl.lower import compile_text
from policy_dsl.parser import parse
from tests.conftest import run_cli


def nested(depth: int, opening: str, inner: str, closing: str) -> str:
    return opening * depth + inner + closing * depth


def diagnostics_of(text: str) -> list[tuple[str, int]]:
    """(code, line) of what parsing `text` raises; [] when it parses."""
    try:
        parse(text, "probe.policy")
    except PolicyErrors as exc:
        return [(d.code, d.line) for d in exc.diagnostics]
    return []


def probe_line(text: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith("let probe"))


# ---- the inputs of issue 10 -------------------------------------------------------------------

ISSUE_INPUTS = {
    "250 nested min(": ("number", nested(250, "min(", "total_cost", ", 1)")),
    "330 nested if": ("number", "if total_cost > 0 元 then " * 330 + "1" + " else 2" * 330),
    "1,000 repeated not": ("bool", "not " * 1000 + "bilateral"),
}


@pytest.mark.parametrize("name", ISSUE_INPUTS)
def test_what_crashed_check_and_fmt_is_e010_for_both(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    kind, expr = ISSUE_INPUTS[name]
    path = tmp_path / "2023.policy"
    path.write_text(with_definition(expr, kind), encoding="utf-8")
    line = probe_line(path.read_text(encoding="utf-8"))
    for command in (["check"], ["fmt", "--check"]):
        code, _, err = run_cli(capsys, *command, str(path))
        assert code == 1
        assert (
            f"2023.policy:{line}:" in err and "error E010: expression nested more than 100" in err
        )
        assert "Traceback" not in err


def test_an_and_chain_of_200_terms_checks_and_formats() -> None:
    text = with_definition(condition_chain(200))
    file = policy_from_text(text, "chain/2023.policy")
    probe = next(d for d in file.tree.items if d.name == "probe")
    assert isinstance(probe, a.Let) and isinstance(probe.expr, a.And)
    assert len(probe.expr.operands) == 200
    assert check(resolve(file, [])).diagnostics == []
    formatted = format_policy(file.tree, text)
    assert parse(formatted) == file.tree
    assert format_policy(parse(formatted), formatted) == formatted


@pytest.mark.parametrize("word", ["and", "or"])
def test_a_chain_of_5000_conditions_is_one_node_down_to_the_ir(word: str) -> None:
    read = 'class special "特病单议病例" when special_review'
    text = with_definition(condition_chain(5000, word)).replace(read, f"{read} and probe")
    policy = compile_text(text, "chain/2023.policy")
    probe = next(d for s in policy.stages for d in s.definitions if d.name == "probe")
    assert isinstance(probe.expr, ir.Logic) and probe.expr.op == word
    assert len(probe.expr.args) == 5000


def test_bracketed_groups_stay_operands_of_their_own() -> None:
    tree = parse(with_definition("(bilateral and multi_site) and (special_review or bilateral)"))
    probe = next(d for d in tree.items if d.name == "probe")
    assert isinstance(probe, a.Let) and isinstance(probe.expr, a.And)
    first, second = probe.expr.operands
    assert isinstance(first, a.And) and isinstance(second, a.Or)
    text = format_policy(tree)
    assert "(bilateral and multi_site) and (special_review or bilateral)" in text


# ---- the depth limit, shape by shape ----------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_parses_at_the_limit_and_is_e010_one_level_deeper(shape: str) -> None:
    at_limit = with_definition(SHAPES[shape](MAX_DEPTH), "number")
    assert diagnostics_of(at_limit) == []
    deeper = with_definition(SHAPES[shape](MAX_DEPTH + 1), "number")
    assert diagnostics_of(deeper) == [("E010", probe_line(deeper))]


def test_brackets_alone_are_no_level() -> None:
    assert diagnostics_of(with_definition(nested(5000, "(", "bilateral", ")"))) == []


def test_a_chain_of_1000_definitions_declared_last_first_checks_and_lowers() -> None:
    policy = compile_text(definition_chain(1000), "chain/2023.policy")
    names = [d.name for d in policy.stages[0].definitions]
    steps = [n for n in names if n.startswith("step")]
    assert steps == [f"step{i}" for i in range(1000, -1, -1)], "each after what it reads"
    assert names.index("step0") < names.index("case_points")


def test_a_class_condition_at_the_end_of_a_chain_of_1000_definitions_is_warned_of() -> None:
    """W610 follows a chain of 1000 definitions to the group value at its end, without
    nesting a Python call per definition."""
    text = definition_chain(1000).replace(
        'let step1000 "第 1000 步" : points at case = class_points',
        'let step1000 "第 1000 步" : points at case = base_points',
    )
    text = text.replace(
        'let case_points "病例点数" : points at case = step0',
        'let case_points "病例点数" : points at case = '
        "if probe is big then step0 else class_points"
        '\nclassify probe "探针"\n  class big "大" when step0 > 100 pt\n    assumption "测试用"'
        '\n  class other "其他" otherwise',
    )
    checked = check(resolve(policy_from_text(text, "chain/2023.policy"), []))
    (d,) = checked.diagnostics
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith("  class big"))
    assert (d.code, d.line) == ("W610", line)
    assert "class `big` of `probe` reads `step0`" in d.message
    assert "`base_points` is computed per group" in d.message


def test_a_circle_through_a_chain_of_1000_definitions_is_e401_not_a_crash() -> None:
    """`category` reads `step0`, and the chain ends at `class_points`, a value per `category`:
    a circle 1002 definitions long. Every pass (inference, W610, W150) takes the definitions in
    one order and cuts the circle where it closes; none recurses down the chain."""
    special = 'class special "特病单议病例" when special_review'
    text = definition_chain(1000).replace(special, f"{special} and step0 >= cv_limit * 1 pt")
    checked = check(resolve(policy_from_text(text, "chain/2023.policy"), []))
    (circle,) = [d for d in checked.diagnostics if d.code == "E401"]
    assert circle.message.startswith("definitions depend on each other in a circle: `category`")
    assert circle.message.count("`step") == 1001
    assert "`step1000` → `class_points` → `category`" in circle.message


W150_POLICY = Path(__file__).resolve().parents[1] / "golden" / "diagnostics" / "W150.policy"


def test_a_deduction_at_the_end_of_a_chain_of_1000_definitions_is_warned_of() -> None:
    """W150 follows a chain of 1000 definitions to the deduction at its end, without nesting a
    Python call per definition."""
    lets = [
        f'let d{i} "第 {i} 步" : money at hospital = d{i + 1} + 0 元\n  assumption "测试用"'
        for i in range(1000)
    ]
    chain = "\n".join([*lets, 'let d1000 "第 1000 步" : money at hospital = audit_deduction'])
    text = W150_POLICY.read_text(encoding="utf-8").replace(
        "round_fen(sum(payment)) + audit_deduction", f"round_fen(sum(payment)) + d0\n{chain}"
    )
    checked = check(resolve(policy_from_text(text, "demo/2024.policy"), []))
    assert [(d.code, d.line) for d in checked.diagnostics] == [("W150", 32)]
    assert "`paid` rises with the deduction `audit_deduction`" in checked.diagnostics[0].message


# ---- numbers ------------------------------------------------------------------------------------


def test_a_100000_digit_number_is_e011_for_check_and_fmt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "2023.policy"
    text = with_definition("9" * 100_000, "number")
    path.write_text(text, encoding="utf-8")
    line = probe_line(text)
    for command in (["check"], ["fmt", "--check"]):
        code, _, err = run_cli(capsys, *command, str(path))
        assert code == 1
        assert f"2023.policy:{line}:" in err
        assert "error E011: `999999999999…999999999999 (100,000 characters)` has 100,000" in err


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ("123456789012345", None),
        ("0.000000000000001", None),
        ("99999999999999.9", None),
        ("1e14", None),
        ("000000000000000000000001.5000000000000000000000", None),
        ("0.0000000000000000000000000", None),
        ("1234567890123456", "has 16 significant digits"),
        ("0.1234567890123456", "has 16 significant digits"),
        ("1000000000000000", "is too large"),
        ("1e15", "is too large"),
        ("0.0000000000000001", "is too small"),
        ("1e-16", "is too small"),
        ("1e" + "9" * 5000, "is too large"),
        ("1e-" + "9" * 5000, "is too small"),
    ],
)
def test_number_problems(written: str, problem: str | None) -> None:
    found = number_problem(written)
    assert (found[0].split(":")[0] if found else None) == problem


def test_fmt_and_check_agree_on_a_number_with_an_exponent() -> None:
    text = with_definition("1.5e3", "number")
    probe = next(d for d in parse(text).items if d.name == "probe")
    assert isinstance(probe, a.Let) and probe.expr == a.Number(Decimal("1500"))
    assert "= 1500\n" in format_policy(parse(text), text)


@st.composite
def accepted_numbers(draw: st.DrawFn) -> str:
    """A number as written with at most 15 significant digits, from 10^-15 to below 10^15."""
    significand = draw(st.integers(1, 10**MAX_DIGITS - 1))
    leading = len(str(significand)) - 1
    exponent = draw(st.integers(-15 - leading, 14 - leading))
    return f"{significand}e{exponent}"


@given(accepted_numbers())
def test_an_accepted_number_is_the_double_the_engine_computes_with(written: str) -> None:
    assert number_problem(written) is None
    as_double = float(written)
    assert math.isfinite(as_double) and as_double != 0
    assert Decimal(format(as_double, f".{MAX_DIGITS}g")) == Decimal(written)


def test_a_device_or_an_overlong_file_is_refused_as_a_policy_before_it_fills_the_memory(
    tmp_path: Path,
) -> None:
    """On fix28 `render --vs /dev/zero` (or `check`, `settle --policy` on a link to it) read
    NULs until the kernel killed it (exit 137, gigabytes taken from the machine); a file of
    another kind named .policy (a data dump) was read whole before being parsed."""
    (tmp_path / "dump.policy").write_text("a" * (MAX_CHARACTERS + 1), encoding="utf-8")
    with pytest.raises(PolicyFileError, match="it is longer than 2,000,000 characters"):
        read_policy_file(tmp_path / "dump.policy")
    with pytest.raises(PolicyFileError, match="it is not a file but a device or a pipe"):
        read_policy_file("/dev/zero")  # (second: on fix28 this one never ends)
