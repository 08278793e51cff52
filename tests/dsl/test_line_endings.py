"""A line ends with LF, CR LF (Windows) or a lone CR (classic Mac), mixed as they come, and with
nothing else: `check` places every diagnostic on the line and column an editor shows, and `fmt`
reads the same policy and writes it with LF. A form feed or U+2028 inside a comment or a text
is part of its line, for the parser, the caret excerpt and the formatter alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import main
from policy_dsl.check import check_path
from policy_dsl.diagnostics import Diagnostic, PolicyErrors
from policy_dsl.format import format_policy
from policy_dsl.parser import parse

XUANCHENG_2023 = Path(__file__).resolve().parents[2] / "policies" / "xuancheng" / "2023.policy"
#: A misspelled name on line 90 (E101) and the parameter it should name, declared on line 38,
#: unused (W101).
TYPO = ("when cost_ratio <= low_ratio_standard", "when cost_ratio <= low_ratoi_standard")
ENDINGS = {"lf": "\n", "crlf": "\r\n", "cr": "\r"}


def text_with_typo() -> str:
    text = XUANCHENG_2023.read_text(encoding="utf-8")
    assert text.count(TYPO[0]) == 1
    return text.replace(*TYPO)


def with_endings(text: str, kind: str) -> bytes:
    """`text` with its line ends written as `kind`; `mixed` cycles through all three (a CR
    before an empty line ended by LF would make one CR LF: it is written CR LF itself)."""
    if kind != "mixed":
        return text.replace("\n", ENDINGS[kind]).encode("utf-8")
    lines = text.split("\n")[:-1]
    ends = [["\r\n", "\r", "\n"][i % 3] for i in range(len(lines))]
    for i in range(len(lines) - 1):
        if ends[i] == "\r" and not lines[i + 1] and ends[i + 1] == "\n":
            ends[i] = "\r\n"
    return "".join(line + end for line, end in zip(lines, ends, strict=True)).encode("utf-8")


def placed(diagnostics: list[Diagnostic]) -> list[tuple[str, int, int, str | None]]:
    return [(d.code, d.line, d.column, d.source_line) for d in diagnostics]


@pytest.mark.parametrize("kind", ["crlf", "cr", "mixed"])
def test_check_places_diagnostics_as_in_the_lf_file(tmp_path: Path, kind: str) -> None:
    text = text_with_typo()
    lf = tmp_path / "lf" / "2023.policy"
    other = tmp_path / kind / "2023.policy"
    for path, data in ((lf, text.encode("utf-8")), (other, with_endings(text, kind))):
        path.parent.mkdir()
        path.write_bytes(data)
    expected = placed(list(check_path(lf).diagnostics))
    assert [(code, line) for code, line, _, _ in expected] == [("W101", 38), ("E101", 90)]
    assert placed(list(check_path(other).diagnostics)) == expected


@pytest.mark.parametrize("kind", ["crlf", "cr", "mixed"])
def test_fmt_reads_the_same_policy_and_writes_lf(
    tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = XUANCHENG_2023.read_text(encoding="utf-8")
    canonical = format_policy(parse(text), text)
    path = tmp_path / "2023.policy"
    path.write_bytes(with_endings(canonical, kind))
    assert main(["fmt", "--check", str(path)]) == 1
    assert capsys.readouterr().out == f"not formatted: {path}\n"
    assert main(["fmt", str(path)]) == 0
    assert path.read_bytes() == canonical.encode("utf-8"), "comments and blank lines kept"
    assert main(["check", str(path)]) == 0


def test_a_comment_ended_by_a_lone_cr_does_not_swallow_the_next_line() -> None:
    lf = 'policy demo version "1"  # 示例\n  method points\n'
    assert parse(lf.replace("\n", "\r")) == parse(lf)
    assert parse(lf.replace("\n", "\r")).header.method == "points"


@pytest.mark.parametrize("separator", ["\f", "\v", "\u2028", "\x85"])
def test_other_separators_in_a_comment_or_text_end_no_line(separator: str) -> None:
    text = f'# 注释{separator}仍在第一行\npolicy demo version "a{separator}b"\n  method points\n'
    with pytest.raises(PolicyErrors) as caught:
        parse(text.replace("method", "methd"), "demo.policy")
    [d] = caught.value.diagnostics
    assert (d.code, d.line, d.column, d.source_line) == ("E001", 3, 3, "  methd points")
    tree = parse(text)
    assert tree.header.version == f"a{separator}b"
    assert format_policy(tree, text) == text, "the comment is kept whole, on its own line"
