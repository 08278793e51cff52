"""A library module's declarations are checked once for all the versions that include them
(`policy_dsl.check.module_memo`), and a version that overrides what the module reads is checked
again: its diagnostics, and everything the lowering takes from the checker, are those of a
check without the memo."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.lang_inputs import base_text
from policy_dsl import ast as a
from policy_dsl.check import Checked, check_path, indicators
from policy_dsl.check.infer import Inference
from policy_dsl.check.module_memo import MEMO
from policy_dsl.library import module_path
from policy_dsl.loader import read_folder, read_policy_file

LIBRARY = module_path("indicators")
assert LIBRARY is not None

#: Overrides of names the indicators library reads, each with what it does to the library's
#: declarations (none: it checks; else the code and line in indicators.policy).
OVERRIDES = {
    "nothing": ("", None),
    "high_weight_line as weight": (
        'override param high_weight_line "高权重组的权重界限" : weight = 6',
        None,
    ),
    "high_weight_line as money": (
        'override param high_weight_line "高权重组的权重界限" : money = ¥5',
        ("E301", 238),  # `when weight >= high_weight_line`: an indicator's `when`
    ),
    "death_outcome as text": (
        'override param death_outcome "离院方式：死亡的代码" : text = "5"',
        ("E302", 55),  # `let died … = discharge_outcome == death_outcome`: a definition
    ),
    "region_group_cost as days": (
        'override let region_group_cost "全市该病组次均住院费用" : number at group = mean(los)',
        ("E303", 131),  # `indicator cost_index : ratio = mean(total_cost / region_group_cost …)`
    ),
    "grouped_cases per hospital": (
        'override let grouped_cases "全市该病组病例数" : count at hospital, group = count(case)',
        ("E201", 77),  # `let low_risk_group … at group = grouped_cases > 0 …`
    ),
}


@pytest.fixture(autouse=True)
def fresh_memo() -> Iterator[None]:
    MEMO.records.clear()
    yield
    MEMO.enabled = True


def city(folder: Path, overrides: list[str]) -> list[Path]:
    """Xuancheng 2023 and one version after it per override, each extending the one before."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "2023.policy").write_text(base_text(), encoding="utf-8")
    paths, base = [folder / "2023.policy"], "2023"
    for i, name in enumerate(overrides, start=1):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=i)
        paths.append(folder / f"v{i:03d}.policy")
        paths[-1].write_text(
            f'policy xuancheng version "v{i:03d}"\n  effective {day}\n  extends "{base}"\n'
            f'  method points\n\n{OVERRIDES[name][0]}\n  assumption "第 {i} 次调整"\n'
            if OVERRIDES[name][0]
            else f'policy xuancheng version "v{i:03d}"\n  effective {day}\n'
            f'  extends "{base}"\n  method points\n',
            encoding="utf-8",
        )
        base = f"v{i:03d}"
    return paths


def checked_all(paths: list[Path], memo: bool) -> list[Checked]:
    MEMO.enabled = memo
    folder = read_folder(paths[0].parent)
    return [check_path(path, None, folder) for path in paths]


def in_library(checked: Checked) -> list[tuple[str, int]]:
    return [(d.code, d.span.line) for d in checked.diagnostics if d.file == str(LIBRARY)]


def what_lowering_reads(checked: Checked) -> dict[str, Any]:
    inference = checked.inference
    return {
        "infos": inference.infos,
        "edges": inference.edges,
        "used": inference.used,
        "sources": inference.sources,
        "numeric_comparisons": inference.numeric_comparisons,
    }


@pytest.mark.parametrize("name", [n for n, (_, error) in OVERRIDES.items() if error])
def test_a_version_overriding_a_name_the_library_reads_is_checked_again(
    tmp_path: Path, name: str
) -> None:
    paths = city(tmp_path, ["nothing", "nothing", name])
    found = checked_all(paths, memo=True)
    assert [c.ok for c in found] == [True, True, True, False]
    assert MEMO.records, "the versions before it were checked with the memo"
    assert in_library(found[-1]) == [OVERRIDES[name][1]]
    assert in_library(found[-1]) == in_library(checked_all(paths, memo=False)[-1])


def test_a_version_that_reads_alike_replays_the_library_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = city(tmp_path, ["nothing", "high_weight_line as weight", "nothing"])
    module = read_policy_file(LIBRARY).tree.items
    library_definitions = sum(isinstance(d, a.Let) for d in module)
    library_indicators = sum(isinstance(d, a.Indicator) for d in module)
    checked_indicators, inferred = counted(monkeypatch)
    found = checked_all(paths, memo=True)
    assert all(c.ok for c in found)
    # every version but the one overriding `high_weight_line` replays the check of its reader,
    # `high_weight_groups`; no definition of the library reads it
    assert checked_indicators == [library_indicators + 1]
    assert inferred == [library_definitions]
    memo_off = checked_all(paths, memo=False)
    assert checked_indicators == [library_indicators * 5 + 1]
    assert [what_lowering_reads(c) for c in found] == [what_lowering_reads(c) for c in memo_off]


def counted(monkeypatch: pytest.MonkeyPatch) -> tuple[list[int], list[int]]:
    """Calls of the indicator check and of the library definitions' inference, counted."""
    checks, inferred = [0], [0]
    check_indicator, declaration = indicators._check_indicator, Inference._declaration

    def check_counted(entry: Any, *args: Any) -> None:
        checks[0] += 1
        check_indicator(entry, *args)

    def declaration_counted(self: Inference, entry: Any) -> Any:
        inferred[0] += entry.file.header.library
        return declaration(self, entry)

    monkeypatch.setattr(indicators, "_check_indicator", check_counted)
    monkeypatch.setattr(Inference, "_declaration", declaration_counted)
    return checks, inferred


@settings(max_examples=12, deadline=None)
@given(st.lists(st.sampled_from(sorted(OVERRIDES)), min_size=1, max_size=4))
def test_checking_versions_with_and_without_the_memo_gives_the_same(overrides: list[str]) -> None:
    MEMO.records.clear()
    with tempfile.TemporaryDirectory() as folder:
        paths = city(Path(folder) / "xuancheng", overrides)
        with_memo = checked_all(paths, memo=True)
        without = checked_all(paths, memo=False)
    assert [c.diagnostics for c in with_memo] == [c.diagnostics for c in without]
    assert [what_lowering_reads(c) for c in with_memo] == [what_lowering_reads(c) for c in without]
    for checked, name in zip(with_memo[1:], overrides, strict=True):
        error = OVERRIDES[name][1]
        assert error is None or error in in_library(checked)
