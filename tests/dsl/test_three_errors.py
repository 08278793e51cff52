"""Done when: a policy with a misspelt parameter, a grain error and a unit error gets exactly
those three diagnostics from one run of the checker, each with its place, a caret and a hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import main
from policy_dsl.check import check_path
from policy_dsl.diagnostics import Diagnostic

NOTICE = Path(__file__).resolve().parents[1] / "golden" / "diagnostics" / "sources" / "notice.txt"

POLICY = """\
policy demo version "2024"
  effective 2024-01-01 to 2024-12-31
  method points

document notice "示例细则" issuer "示例局" number none date "2024" status in_force text "notice.txt"

param low_ratio "低倍率判定系数" : ratio = 40%
  source notice "第六条"

let cost_ratio "费用倍率" : ratio at case = total_cost / avg_cost
let base_points "基准点数" : points at group = weight * 100 pt source notice "第五条"
let hospital_avg_cost "医院次均费用" : money at hospital = total_cost
report low_cases "低倍率病例数" : count at hospital = count(case where cost_ratio <= low_ratio)

classify category "病例类型"
  class low "低倍率病例" when cost_ratio <= low_raito
    source notice "第六条"
  class normal "正常病例" otherwise

formula case_points "病例点数" : points by category
  low -> base_points * cost_ratio
  normal -> base_points
let coefficient "医疗机构系数" : ratio at case = 1
let settled_points "结算点数" : points at case = case_points * coefficient
input budget fund "本期基金预算" : money
let point_value "点值" : point_value at all = fund / sum(settled_points)
let payment "病例支付额" : money at case = settled_points * point_value - base_points
"""


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    """The policy, with the text of the document it quotes in its `sources/` folder."""
    path = tmp_path / "2024.policy"
    path.write_text(POLICY, encoding="utf-8")
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "notice.txt").write_bytes(NOTICE.read_bytes())
    return path


@pytest.fixture
def diagnostics(policy: Path) -> list[Diagnostic]:
    return check_path(policy).diagnostics


def _at(line: int, word: str) -> tuple[int, int]:
    """Line and column of the last `word` on a line of the policy."""
    return line, POLICY.splitlines()[line - 1].rindex(word) + 1


def test_exactly_three_diagnostics_in_one_run(diagnostics: list[Diagnostic]) -> None:
    assert [(d.code, d.line, d.column) for d in diagnostics] == [
        ("E201", *_at(12, "total_cost")),
        ("E101", *_at(16, "low_raito")),
        ("E301", *_at(27, "base_points")),
    ]


def test_typo_gets_did_you_mean(diagnostics: list[Diagnostic]) -> None:
    typo = diagnostics[1]
    assert typo.message == "unknown name `low_raito`"
    assert typo.hint == "did you mean `low_ratio`?"


def test_grain_error_gets_an_aggregate_hint(diagnostics: list[Diagnostic]) -> None:
    grain = diagnostics[0]
    assert "`total_cost` is a case value" in grain.message
    assert "`hospital_avg_cost` is computed at hospital" in grain.message
    assert grain.hint == "wrap it in an aggregate, e.g. `sum(total_cost)` or `mean(total_cost)`"


def test_unit_error_gets_a_unit_hint(diagnostics: list[Diagnostic]) -> None:
    unit = diagnostics[2]
    assert unit.message == "both sides of `-` must have the same unit: money and points"
    assert unit.hint is not None and "points × point_value → money" in unit.hint


@pytest.mark.parametrize(
    "index, caret", [(0, "^" * len("total_cost")), (1, "^" * 9), (2, "^" * 11)]
)
def test_each_renders_with_line_caret_and_hint(
    diagnostics: list[Diagnostic], index: int, caret: str
) -> None:
    d = diagnostics[index]
    head, source, marks, hint = d.render().splitlines()
    assert head.startswith(f"{d.file}:{d.line}:{d.column}: error {d.code}: ")
    assert source == f"{d.line:>5} | " + POLICY.splitlines()[d.line - 1]
    assert marks.endswith("| " + " " * _display_width_before(d) + caret)
    assert hint == f"  hint: {d.hint}"


def _display_width_before(d: Diagnostic) -> int:
    text = POLICY.splitlines()[d.line - 1][: d.column - 1]
    return sum(2 if "\u4e00" <= ch <= "\u9fff" else 1 for ch in text)


def test_one_cli_run_reports_all_three(policy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(policy)]) == 1
    out, err = capsys.readouterr()
    quotes = "quotes: 3 verified, 0 not found, 0 unverifiable"
    assert out == f"{policy}: failed (3 errors, 0 warnings); {quotes}\n"
    assert [line.split(": ")[1] for line in err.splitlines() if line.startswith(str(policy))] == [
        "error E201",
        "error E101",
        "error E301",
    ]
    assert err.count("  hint: ") == 3 and err.count("^") >= 3
