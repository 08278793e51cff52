"""The canonical formatter on golden input/expected pairs: `X.policy` → `X.expected.policy`."""

from __future__ import annotations

from pathlib import Path

import pytest

from policy_dsl.format import format_policy, scan_comments
from policy_dsl.parser import parse

FORMAT = Path(__file__).resolve().parents[1] / "golden" / "format"
INPUTS = sorted(p for p in FORMAT.glob("*.policy") if not p.name.endswith(".expected.policy"))


def _expected(path: Path) -> Path:
    return path.with_name(path.name.replace(".policy", ".expected.policy"))


def _format(text: str) -> str:
    return format_policy(parse(text), text)


def test_every_input_has_its_expected_output() -> None:
    assert len(INPUTS) >= 3
    assert all(_expected(p).is_file() for p in INPUTS)


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.stem)
def test_formats_to_expected(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert _format(text) == _expected(path).read_text(encoding="utf-8")


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.stem)
def test_expected_is_a_fixpoint(path: Path) -> None:
    expected = _expected(path).read_text(encoding="utf-8")
    assert _format(expected) == expected


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.stem)
def test_formatting_keeps_meaning_and_every_comment(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    formatted = _format(text)
    assert parse(formatted) == parse(text)
    assert sorted(c.text for c in scan_comments(formatted)) == sorted(
        c.text for c in scan_comments(text)
    )


def test_crlf_line_endings_become_lf() -> None:
    text = (FORMAT / "blocks.expected.policy").read_text(encoding="utf-8")
    assert _format(text.replace("\n", "\r\n")) == text


def test_without_source_declarations_are_separated_by_blank_lines() -> None:
    text = (FORMAT / "expressions.expected.policy").read_text(encoding="utf-8")
    bare = format_policy(parse(text))
    assert "#" not in bare
    assert '\n\nlet a "a" at case = total_cost + avg_cost * 2\n\nlet b ' in bare
    assert parse(bare) == parse(text)


def test_trailing_comments_stay_on_their_lines() -> None:
    squeezed = 'policy a version "1"  # one\n\n\n  method   points  # two\n'
    assert _format(squeezed) == 'policy a version "1"  # one\n  method points  # two\n'
    long_line = 'policy a version "1" method points  # one\n'
    assert _format(long_line) == 'policy a version "1"\n  method points  # one\n'


def test_two_trailing_comments_joined_on_one_line_stay_two_comments() -> None:
    text = 'policy a version "1"\nlet x "x" at case =  # one\n  1  # two\n'
    formatted = 'policy a version "1"\n# one\nlet x "x" at case = 1  # two\n'
    assert _format(text) == formatted
    assert _format(formatted) == formatted


def test_a_comment_inside_a_formula_stays_with_its_declaration() -> None:
    text = (
        'policy a version "1"\n\nlet x "x" at case = 1\n\n'
        'let y "y" at case =\n  # first the cost\n  total_cost  # of the case\n    + 1\n'
    )
    formatted = (
        'policy a version "1"\n\nlet x "x" at case = 1\n\n'
        '# first the cost\nlet y "y" at case = total_cost + 1  # of the case\n'
    )
    assert _format(text) == formatted
    assert _format(formatted) == formatted
