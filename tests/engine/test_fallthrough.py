"""A class condition that reads a missing value: the checker warns (W610) and the run counts
the cases that went on to a later class (`classified_on_missing`), per class."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from engine.inputs.rundata import Period
from engine.plan.polars.fallthrough import Fallthrough, count_fallthrough
from engine.run.settle import load_data, load_policy, settle
from policy_dsl.check import check_path
from tests.conftest import POLICIES, SAMPLE, run_cli

BASE = (POLICIES / "xuancheng" / "2023.policy").read_text(encoding="utf-8")
#: Xuancheng 2023 without its `ungrouped` class: an ungrouped case reads its group's average
#: cost (missing), fails `unstable`, `high` and `low` and is paid as `normal` — on points from
#: its cost and a coefficient of 1, so that its payment is still there.
NO_UNGROUPED = (
    BASE.replace('  class ungrouped "未入组及歧义组病例" when ungrouped\n', "")
    .replace(
        "  ungrouped -> total_cost / all_avg_cost * 100 pt\n"
        '    assumption "未入组病例按费用折算点数"\n',
        "",
    )
    .replace(
        "category in (special, ungrouped, unstable) then 1 else hospital_coefficient",
        "category in (special, unstable) then 1 else if_missing(hospital_coefficient, 1)",
    )
    .replace(
        "  normal -> base_points\n",
        "  normal -> if_missing(base_points, total_cost / all_avg_cost * 100 pt)\n",
    )
)


@pytest.fixture
def no_ungrouped(tmp_path: Path) -> Path:
    path = tmp_path / "xuancheng" / "2023.policy"
    path.parent.mkdir()
    path.write_text(NO_UNGROUPED, encoding="utf-8")
    return path


def test_count_fallthrough_by_hand() -> None:
    """Rows reach a class until one takes them; a null condition at a reached class counts."""
    frame = pl.DataFrame(
        {
            "case_id": ["c1", "c2", "c3", "c4"],
            "a": [True, None, None, False],
            "b": [None, True, None, None],
        }
    )
    found = count_fallthrough(frame, [("first", "a"), ("second", "b")], "case_id")
    # c1 is taken by `first`; c2 and c3 miss `first`; c3 and c4 miss `second` (c2 is taken)
    assert found == Fallthrough({"first": 2, "second": 2}, ["c2", "c3", "c4"])
    assert count_fallthrough(frame.head(1), [("first", "a")], "case_id") == Fallthrough()


def test_the_checker_warns_where_a_class_can_read_a_missing_value(no_ungrouped: Path) -> None:
    warned = [d for d in check_path(no_ungrouped).diagnostics if d.code == "W610"]
    assert [d.message.split("`")[1] for d in warned] == ["unstable", "high", "low"]
    assert "group catalog" in warned[1].message and "`class ungrouped" in (warned[1].hint or "")


def test_no_shipped_policy_is_warned() -> None:
    for path in sorted(POLICIES.rglob("*.policy")):
        assert not [d for d in check_path(path).diagnostics if d.code == "W610"], path


@pytest.mark.parametrize("backend", ["polars", "duckdb"])
def test_the_run_counts_the_cases_per_class(no_ungrouped: Path, backend: str) -> None:
    """Regression: the 289 ungrouped cases (not under special review) were `normal`, silently.
    DuckDB counts them in the database (`engine.plan.sql.classes.count_arms`)."""
    policy = load_policy(no_ungrouped)
    inputs = load_data(SAMPLE, policy)
    result = settle(policy, inputs, Period.parse("2024"), backend=backend)
    reached = inputs.cases.filter(
        pl.col("drg_code").str.contains(r"^(0000|[A-Z]QY)$") & ~pl.col("special_review")
    )
    expected = reached.height
    assert expected > 0
    found = result.fallthrough()["settlement"]["category"]
    assert found.counts == {"unstable": expected, "high": expected, "low": expected}
    assert found.examples == sorted(reached["case_id"].to_list())[:5]
    categories = result.cases().filter(pl.col("case_id").is_in(reached["case_id"].implode()))
    assert categories["category"].cast(pl.String).unique().to_list() == ["normal"]


def test_settle_writes_the_count_and_prints_a_note(
    no_ungrouped: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    args = ["settle", "--policy", str(no_ungrouped), "--data", str(SAMPLE), "--period", "2024"]
    code, _, err = run_cli(capsys, *args, "--out", str(out), "--any-date")
    assert code == 0, err
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    counts = manifest["classified_on_missing"]["settlement"]["category"]["classes"]
    assert set(counts) == {"unstable", "high", "low"}
    assert "note: stage settlement: `category`: a class condition read a missing value" in err
    first = manifest["classified_on_missing"]["settlement"]["category"]["first"][0]
    assert f"drgpolicy explain --case {first}" in err


def test_a_shipped_policy_reads_no_missing_value_on_the_sample(tmp_path: Path) -> None:
    policy = load_policy(POLICIES / "xuancheng" / "2024.policy")
    result = settle(policy, load_data(SAMPLE, policy), Period.parse("2024"))
    assert result.fallthrough() == {}


def test_explain_says_the_condition_was_missing(
    no_ungrouped: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = load_policy(no_ungrouped)
    inputs = load_data(SAMPLE, policy)
    first = settle(policy, inputs, Period.parse("2024")).fallthrough()["settlement"]["category"]
    args = ["explain", "--case", first.examples[0], "--policy", str(no_ungrouped)]
    code, out, _ = run_cli(capsys, *args, "--data", str(SAMPLE), "--period", "2024")
    assert code == 0
    assert "→ missing (a value it reads is missing: the next class is tried)" in out
