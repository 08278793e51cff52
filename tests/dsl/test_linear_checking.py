"""Checking and formatting do work linear in the size of the input, counted rather than timed
(the timings are in `bench/lang_bench.py` and docs/speed.md): a file's text is
split into lines once however many diagnostics it has, each file of a folder is parsed once
however many of its versions are checked, the library's indicators are checked once for all
of them, and the formatter looks at each comment once."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench.lang_inputs import big_table, chained_versions
from engine.commands.check import check_files, timeline_diagnostics
from policy_dsl import ast, diagnostics, loader
from policy_dsl import format as formatter
from policy_dsl.check import check_path, indicators
from policy_dsl.check.module_memo import MEMO
from policy_dsl.library import FOLDER
from policy_dsl.parser import parse

LIBRARY = FOLDER / "indicators.policy"


def counting(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[int]:
    """Count the calls of `owner.name` (a function or method), still calling it."""
    calls = [0]
    original: Callable[..., Any] = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


def test_the_text_is_split_into_lines_once_for_2000_diagnostics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    overlapping = re.sub(
        r"\[(\d+), (\d+)\)", lambda m: f"[{m[1]}, {int(m[2]) + 1})", big_table(2000)
    )
    path = tmp_path / "2023.policy"
    path.write_text(overlapping, encoding="utf-8")
    assert loader.read_policy_file(LIBRARY).source  # its library module's: made once a process
    made = counting(monkeypatch, diagnostics.SourceText, "__init__")
    found = check_path(path).diagnostics
    assert sum(d.code == "E501" for d in found) == 2000
    assert all(d.source_line and d.source_line.startswith("  [") for d in found if d.code == "E501")
    assert made[0] <= 2, "one for the parser, one for the file's diagnostics"


def test_checking_a_city_of_40_versions_parses_each_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chained_versions(tmp_path, 40)
    loader._parsed.cache_clear()
    parsed = counting(monkeypatch, loader, "parse")
    reports = check_files([tmp_path])
    assert timeline_diagnostics(reports) == []
    assert [r.errors for r in reports] == [0] * 41
    assert parsed[0] == 41 + 1  # and the library module that Xuancheng 2023 includes


def test_the_formatter_looks_at_each_comment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    commented = re.sub(r"(\[\d+, \d+\) -> \d+%)", r"\1  # 注释", big_table(3000))
    tree = parse(commented)
    compared = counting(monkeypatch, formatter.Comment, "__eq__")
    text = formatter.format_policy(tree, commented)
    assert text.count("# 注释") == 3000
    assert compared[0] == 0, "comments are taken in order, never searched for"


def test_checking_a_city_of_40_versions_checks_each_library_indicator_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chained_versions(tmp_path, 40)
    MEMO.records.clear()
    module = loader.read_policy_file(LIBRARY).tree.items
    checked = counting(monkeypatch, indicators, "_check_indicator")
    reports = check_files([tmp_path])
    assert [r.errors for r in reports] == [0] * 41
    assert checked[0] == sum(isinstance(d, ast.Indicator) for d in module) == 41
