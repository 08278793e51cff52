"""A version whose base cannot be found gets E701 (or E705) alone: the names, overrides, outputs
and uses the base would supply are not reported as problems of their own."""

from __future__ import annotations

import shutil
from pathlib import Path

from policy_dsl.check import check_path

XUANCHENG = Path(__file__).resolve().parents[2] / "policies" / "xuancheng"

PARAM_WITHOUT_CITATION = 'param new_k "新系数" : ratio = 50%\n'


def without_base(tmp_path: Path, extra: str = "") -> Path:
    """Xuancheng 2024 alone in a folder, extending a version that is not there."""
    text = (XUANCHENG / "2024.policy").read_text(encoding="utf-8")
    path = tmp_path / "2024.policy"
    path.write_text(text.replace('extends "2023"', 'extends "2019"') + extra, encoding="utf-8")
    return path


def test_a_missing_base_is_exactly_one_diagnostic(tmp_path: Path) -> None:
    found = check_path(without_base(tmp_path)).diagnostics
    assert [(d.code, d.message) for d in found] == [
        ("E701", f'base version "2019" of `xuancheng` is not in {tmp_path}')
    ]


def test_a_problem_of_the_file_itself_is_still_reported(tmp_path: Path) -> None:
    found = check_path(without_base(tmp_path, PARAM_WITHOUT_CITATION)).diagnostics
    assert [d.code for d in found] == ["E701", "E110"]


def test_a_base_of_another_city_is_exactly_one_diagnostic(tmp_path: Path) -> None:
    path = without_base(tmp_path)
    other = (XUANCHENG / "2023.policy").read_text(encoding="utf-8")
    (tmp_path / "wuhu.policy").write_text(
        other.replace("policy xuancheng", "policy wuhu").replace('"2023"', '"2019"'),
        encoding="utf-8",
    )
    assert [d.code for d in check_path(path).diagnostics] == ["E705"]


def test_an_adjustment_from_an_unknown_start_is_one_error_not_one_per_step(
    tmp_path: Path,
) -> None:
    shutil.copy(XUANCHENG / "2023.policy", tmp_path / "2023.policy")
    path = tmp_path / "2024.policy"
    text = (XUANCHENG / "2024.policy").read_text(encoding="utf-8")
    path.write_text(text.replace("from class_points", "from class_pionts"), encoding="utf-8")
    found = check_path(path).diagnostics
    assert [(d.code, d.message, d.hint) for d in found] == [
        ("E101", "unknown name `class_pionts`", "did you mean `class_points`?")
    ]
