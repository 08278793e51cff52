"""Properties of the language front end, on generated inputs (hypothesis).

- Round trip: any syntax tree the grammar can express prints to text that parses back to the
  same tree (spans aside), and formatting is idempotent, comments included.
- Robustness: on any text (token soup, shipped policies with tokens or lines deleted,
  duplicated or swapped, random trees), the parser either raises `PolicyErrors` with catalogued
  codes and real places, or the checker returns diagnostics; nothing else ever escapes.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy_dsl import ast as a
from policy_dsl.builtins import AGGREGATES, CORE_FIELDS, FUNCTIONS
from policy_dsl.check import check
from policy_dsl.codes import CODES
from policy_dsl.diagnostics import Diagnostic, PolicyErrors
from policy_dsl.format import format_policy, scan_comments
from policy_dsl.loader import policy_from_text, read_policy_file, resolve
from policy_dsl.lower import lower
from policy_dsl.parser import keywords, parse

from . import ast_strategies
from .ast_strategies import expressions, exprs, policies

XUANCHENG = Path(__file__).resolve().parents[2] / "policies" / "xuancheng"
SHIPPED = {p.name: p.read_text(encoding="utf-8") for p in sorted(XUANCHENG.glob("*.policy"))}
BASE = read_policy_file(XUANCHENG / "2023.policy")

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---- round trip ------------------------------------------------------------------------


@FAST
@given(policies)
def test_formatted_tree_parses_back_to_itself(tree: a.Policy) -> None:
    text = format_policy(tree)
    assert parse(text) == tree
    assert format_policy(parse(text), text) == text


@settings(max_examples=120, deadline=None)
@given(exprs)
def test_every_expression_round_trips(expr: a.Expr) -> None:
    tree = a.Policy(a.Header("demo", "1"), (a.Let("x", "x", None, a.Grain(("case",)), expr),))
    text = format_policy(tree)
    assert parse(text) == tree
    assert format_policy(parse(text), text) == text


@FAST
@given(policies, st.data())
def test_formatting_keeps_every_comment_and_is_idempotent(
    tree: a.Policy, data: st.DataObject
) -> None:
    lines = format_policy(tree).splitlines()
    for i in range(data.draw(st.integers(1, 4), label="comments")):
        at = data.draw(st.integers(0, len(lines)), label="line")
        if at < len(lines) and data.draw(st.booleans(), label="trailing"):
            lines[at] += f"  # 注释 {i}"
        else:
            lines.insert(at, data.draw(st.sampled_from(["", "  ", "    "])) + f"# 注释 {i}")
        if data.draw(st.booleans(), label="blank line"):
            lines.insert(data.draw(st.integers(0, len(lines))), "")
    text = "\n".join(lines) + "\n"
    formatted = format_policy(parse(text), text)
    assert parse(formatted) == tree
    assert sorted(c.text for c in scan_comments(formatted)) == sorted(
        c.text for c in scan_comments(text)
    )
    assert format_policy(parse(formatted), formatted) == formatted


NODE_KINDS = sorted(
    name
    for name, value in vars(a).items()
    if isinstance(value, type) and issubclass(value, a.Node) and value not in (a.Node, a.Decl)
)


@pytest.mark.parametrize("kind", NODE_KINDS)
def test_the_strategies_build_every_node_kind(kind: str) -> None:
    """A node kind added to `ast.py` must be added to the strategies too."""
    assert f"a.{kind}" in inspect.getsource(ast_strategies)


# ---- the checker never crashes ----------------------------------------------------------


def diagnose(text: str) -> list[Diagnostic]:
    """Parse and check `text` as the 2024 version of Xuancheng (its base is the shipped 2023);
    lower it too when it is clean. Only `PolicyErrors` may come out of parsing."""
    try:
        top = policy_from_text(text, str(XUANCHENG / "2024.policy"))
    except PolicyErrors as exc:
        assert len(exc.diagnostics) == 1
        assert exc.diagnostics[0].code in {"E001", "E002", "E003", "E004", "E105"}
        return exc.diagnostics
    checked = check(resolve(top, siblings=[BASE]))
    if checked.ok:
        lower(checked)
    return checked.diagnostics


def assert_well_formed(diagnostics: list[Diagnostic]) -> None:
    for d in diagnostics:
        assert d.code in CODES, d
        assert d.line >= 1 and d.column >= 1, d
        assert d.message and d.render().startswith(f"{d.file}:{d.line}:{d.column}: ")


#: Phrases a policy is made of besides the bare keywords: keywords with what follows them,
#: names, literals (good and bad), punctuation.
PHRASES = (
    "policy xuancheng version",
    "method points",
    "input budget",
    "at case",
    "at hospital, group",
    "per month",
    "source xc2024",
    "rank(",
    "total_cost",
    "base_points",
    "category",
    "normal",
    "high_ratio_k",
    "sum(",
    "count(case)",
    "max(",
    "80%",
    "6‰",
    "1200.50 元",
    "¥1200",
    "100 pt",
    "2024-01-01",
    "2024-02-30",
    "-5",
    '"标签"',
    '"未闭合',
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    "=",
    "==",
    "->",
    "+",
    "*",
    "/",
    "<=",
    ".",
    "（",
    "@",
    "# 注释\n",
    "\n",
)
#: The soup: every keyword of the grammar, and the phrases.
WORDS = (*sorted(keywords()), *PHRASES)


@FAST
@given(st.lists(st.sampled_from(WORDS), max_size=40))
def test_checker_survives_token_soup(words: list[str]) -> None:
    assert_well_formed(diagnose('policy xuancheng version "2024" ' + " ".join(words)))


TOKEN = re.compile(r"\s+|[^\s]+")


def _mutate(text: str, data: st.DataObject) -> str:
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        by_line = data.draw(st.booleans(), label="by line")
        parts = text.splitlines(keepends=True) if by_line else TOKEN.findall(text)
        i, j = (data.draw(st.integers(0, len(parts) - 1)) for _ in range(2))
        operation = data.draw(st.sampled_from(["delete", "duplicate", "swap"]))
        if operation == "delete":
            del parts[i]
        elif operation == "duplicate":
            parts.insert(j, parts[i])
        else:
            parts[i], parts[j] = parts[j], parts[i]
        text = "".join(parts)
    return text


@FAST
@given(st.sampled_from(sorted(SHIPPED)), st.data())
def test_checker_survives_mutated_shipped_policies(name: str, data: st.DataObject) -> None:
    assert_well_formed(diagnose(_mutate(SHIPPED[name], data)))


@FAST
@given(policies)
def test_checker_survives_any_parseable_policy(tree: a.Policy) -> None:
    assert_well_formed(diagnose(format_policy(tree)))


def _declared_names() -> list[str]:
    trees = [parse(text) for text in SHIPPED.values()]
    declared = {d.name for tree in trees for _, d in tree.declarations()}
    classes = {c.name for tree in trees for _, d in tree.declarations() for c in _classes(d)}
    return sorted(declared | classes | set(CORE_FIELDS) | set(FUNCTIONS) | set(AGGREGATES) | KEYS)


def _classes(decl: a.Declaration) -> tuple[a.ClassArm, ...]:
    return decl.classes if isinstance(decl, a.Classify) else ()


KEYS = {"case", "hospital", "group", "level", "tier", "month", "all", "allocate"}
policy_exprs = expressions(st.sampled_from(_declared_names()), max_leaves=8)
grain_keys = st.lists(st.sampled_from(sorted(KEYS - {"allocate"})), min_size=1, max_size=2)


@FAST
@given(st.sampled_from(sorted(SHIPPED)), st.data(), policy_exprs)
def test_checker_survives_shipped_policies_with_a_formula_replaced(
    name: str, data: st.DataObject, expr: a.Expr
) -> None:
    """A definition of a shipped policy gets a random formula over the policy's own names (and
    maybe another grain): realistic mistakes that reach deep into inference and lowering."""
    tree = parse(SHIPPED[name])
    index = data.draw(st.sampled_from([i for i, d in enumerate(tree.items) if _rewritable(d)]))
    decl = _rewrite(tree.items[index], expr, a.Grain(tuple(data.draw(grain_keys))), data)
    items = (*tree.items[:index], decl, *tree.items[index + 1 :])
    assert_well_formed(diagnose(format_policy(dataclasses.replace(tree, items=items))))


def _rewritable(decl: a.Declaration) -> bool:
    return isinstance(decl, a.Let | a.Classify | a.Formula | a.Adjust)


def _rewrite(
    decl: a.Declaration, expr: a.Expr, grain: a.Grain, data: st.DataObject
) -> a.Declaration:
    if isinstance(decl, a.Let):
        return dataclasses.replace(
            decl, expr=expr, grain=grain if data.draw(st.booleans()) else decl.grain
        )
    if isinstance(decl, a.Classify):
        arms = tuple(dataclasses.replace(c, when=expr) if c.when else c for c in decl.classes)
        return dataclasses.replace(decl, classes=arms)
    if isinstance(decl, a.Formula):
        return dataclasses.replace(
            decl, arms=tuple(dataclasses.replace(m, expr=expr) for m in decl.arms)
        )
    assert isinstance(decl, a.Adjust)
    return dataclasses.replace(
        decl, steps=tuple(dataclasses.replace(s, expr=expr) for s in decl.steps)
    )


def test_shipped_policies_pass_the_harness_unchanged() -> None:
    """The harness itself: the unchanged 2024 text checks clean and lowers."""
    assert diagnose(SHIPPED["2024.policy"]) == []
