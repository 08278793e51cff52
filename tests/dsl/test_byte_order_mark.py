"""A UTF-8 byte-order mark at the start of a file (as Windows Notepad saves) is not part of the
text: files with one parse, keep their lines and columns, and `fmt` writes them back without it."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import main
from policy_dsl.diagnostics import PolicyErrors
from policy_dsl.format import format_policy
from policy_dsl.loader import read_policy_file
from policy_dsl.parser import BOM, parse

XUANCHENG_2023 = Path(__file__).resolve().parents[2] / "policies" / "xuancheng" / "2023.policy"


def with_bom(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "2023.policy"
    path.write_bytes(BOM.encode("utf-8") + text.encode("utf-8"))
    return path


def syntax_error(text: str) -> tuple[str, int, int]:
    with pytest.raises(PolicyErrors) as caught:
        parse(text, "bad.policy")
    [d] = caught.value.diagnostics
    return d.code, d.line, d.column


def test_a_file_with_a_bom_reads_as_the_same_policy(tmp_path: Path) -> None:
    text = XUANCHENG_2023.read_text(encoding="utf-8")
    file = read_policy_file(with_bom(tmp_path, text))
    assert file.text == text
    assert file.tree == parse(text)


def test_a_bom_does_not_move_the_place_of_an_error_on_the_first_line() -> None:
    text = 'policy demo versoin "2024"\n'
    assert syntax_error(BOM + text) == syntax_error(text) == ("E001", 1, 13)


def test_fmt_writes_a_file_with_a_bom_back_without_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = XUANCHENG_2023.read_text(encoding="utf-8")
    canonical = format_policy(parse(text), text)
    path = with_bom(tmp_path, canonical)
    assert main(["fmt", "--check", str(path)]) == 1
    assert capsys.readouterr().out == f"not formatted: {path}\n"
    assert main(["fmt", str(path)]) == 0
    assert capsys.readouterr().out == f"formatted: {path}\n"
    assert path.read_bytes() == canonical.encode("utf-8")
    assert main(["fmt", "--check", str(path)]) == 0
