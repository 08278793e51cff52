"""Every pass at the language's depth limit, in the stack the language reserves for it
(`limits.PASS_FRAMES` above the caller): check, fmt, lower, settle, explain, the semantic diff
and the studio's live check of a policy with expressions of every shape `MAX_DEPTH` levels deep.
Each deep expression is worth 1, so the policy pays every case of the sample exactly what
Xuancheng 2023 pays — which the two evaluation paths must both find."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import polars as pl
import pytest

from bench.lang_inputs import BASE, condition_chain, deep_policy, definition_chain
from engine.explainer.explain import explain
from engine.inputs.rundata import Period
from engine.run.settle import Settlement, load_data, settle
from policy_dsl import ir
from policy_dsl.check import check
from policy_dsl.diff import diff_versions
from policy_dsl.format import format_policy
from policy_dsl.limits import MAX_DEPTH, PASS_FRAMES, RECURSION_LIMIT
from policy_dsl.loader import PolicyFile, policy_from_text, read_policy_file, resolve
from policy_dsl.lower import lower
from policy_dsl.parser import parse
from policy_dsl.sources import ENV
from studio.buffer import analyse
from tests.conftest import shared_sources

T = TypeVar("T")
PERIOD = Period.parse("2024")


def _stack_depth() -> int:
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


@contextlib.contextmanager
def pass_frames() -> Iterator[None]:
    """Python's recursion limit at `PASS_FRAMES` above the caller, as a deep caller has it."""
    saved = sys.getrecursionlimit()
    sys.setrecursionlimit(_stack_depth() + PASS_FRAMES)
    try:
        yield
    finally:
        sys.setrecursionlimit(saved)


def within(run: Callable[[], T]) -> T:
    with pass_frames():
        return run()


@pytest.fixture(scope="module")
def deep_file() -> PolicyFile:
    return policy_from_text(deep_policy(MAX_DEPTH), "deep/2023.policy")


@pytest.fixture(scope="module")
def deep_run(deep_file: PolicyFile, sample_dir: Path) -> Settlement:
    policy = lower(check(resolve(deep_file, [])))
    return within(lambda: settle(policy, load_data(sample_dir, policy), PERIOD))


def _payments(settlement: Settlement) -> pl.DataFrame:
    return settlement.cases().select("case_id", "category", "payment").sort("case_id")


def test_parse_makes_room_for_the_passes() -> None:
    sys.setrecursionlimit(1000)
    parse(BASE.read_text(encoding="utf-8"))
    assert sys.getrecursionlimit() == RECURSION_LIMIT


def test_check_fmt_lower_and_diff_at_the_limit(deep_file: PolicyFile) -> None:
    text = deep_file.text
    checked = within(lambda: check(resolve(deep_file, [])))
    assert checked.diagnostics == []
    formatted = within(lambda: format_policy(deep_file.tree, text))
    assert within(lambda: parse(formatted) == deep_file.tree)
    policy = within(lambda: lower(checked))
    assert policy.hash == ir.content_hash(policy)
    base = resolve(read_policy_file(BASE), [])
    changed = within(lambda: diff_versions(base, checked.resolved))
    assert {"definition:deep_call", "definition:case_points", "class:category/special"} <= {
        c.clause for c in changed
    }


def test_the_studio_checks_the_buffer_at_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the texts of the documents found (`drgpolicy studio --sources`), as a reviewer
    runs it: every quote of the buffer is looked up too, and found."""
    monkeypatch.setenv(ENV, str(shared_sources()))
    (tmp_path / "xuancheng").mkdir()
    analysis = within(lambda: analyse(deep_policy(MAX_DEPTH), tmp_path, "xuancheng"))
    assert analysis.ok and analysis.diagnostics == []
    assert analysis.checked is not None and analysis.checked.citations is not None


def test_settle_at_the_limit_pays_what_xuancheng_2023_pays(
    deep_run: Settlement, sample_dir: Path
) -> None:
    plain = lower(check(resolve(read_policy_file(BASE), [])))
    expected = _payments(settle(plain, load_data(sample_dir, plain), PERIOD))
    assert expected.height == 20_000
    assert _payments(deep_run).equals(expected)
    assert deep_run.cases().filter(pl.col("category") == "special").height > 0


def test_explain_at_the_limit_agrees_with_the_batch_run(deep_run: Settlement) -> None:
    cases = deep_run.cases().sort("case_id")
    for row in cases.head(3).iter_rows(named=True):
        trace = within(lambda case=row["case_id"]: explain(deep_run, case))
        values = {step.name: step.value for step in trace.steps}
        assert values["deep_lookup"] == values["deep_if_elif"] == 1
        assert values["category"] == row["category"]
        assert values["payment"] == pytest.approx(row["payment"], abs=0.005)


def test_a_chain_of_1000_conditions_settles_and_explains(sample_dir: Path) -> None:
    read = 'class special "特病单议病例" when special_review'
    always = " or ".join([*(f"total_cost < {i} 元" for i in range(999)), "true"])
    text = deep_policy(2, []).replace(read, f"{read} and ({condition_chain(2)}) and ({always})")
    policy = lower(check(resolve(policy_from_text(text, "chain/2023.policy"), [])))
    settled = settle(policy, load_data(sample_dir, policy), PERIOD)
    plain = lower(check(resolve(read_policy_file(BASE), [])))
    assert _payments(settled).equals(_payments(settle(plain, load_data(sample_dir, plain), PERIOD)))
    case = settled.cases().filter(pl.col("category") == "special")["case_id"][0]
    steps = {s.name: s.value for s in within(lambda: explain(settled, case)).steps}
    assert steps["category"] == "special"


def test_a_chain_of_1000_definitions_settles_and_explains(sample_dir: Path) -> None:
    policy = lower(check(resolve(policy_from_text(definition_chain(1000), "c/2023.policy"), [])))
    settled = within(lambda: settle(policy, load_data(sample_dir, policy), PERIOD))
    case = settled.cases()["case_id"][0]
    steps = {s.name: s.value for s in within(lambda: explain(settled, case)).steps}
    assert steps["step0"] == steps["step1000"] == steps["case_points"]
