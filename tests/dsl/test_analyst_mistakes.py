"""Mistakes an analyst makes typing a shipped city's rules, each pointed at the character to fix.

Each case edits one line of Xuancheng 2024 as an analyst might (a full-width digit from a Chinese
input method, `≤` copied from the document, `万元` after an amount…) and states the diagnostic:
its code, line and column, message and hint. A full-width digit was read by `\\d` as a digit and
then dropped (`８0%` was 0%, `8０%` 8%, silently; `５` alone an AssertionError); the symbols and
units got the hint for a Chinese name; a line cut short was reported at the keyword that opens
the next one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from policy_dsl.check import check_path
from policy_dsl.diagnostics import PolicyErrors
from policy_dsl.parser import parse
from tests.conftest import POLICIES

TEXT = (POLICIES / "xuancheng" / "2024.policy").read_text(encoding="utf-8")
BASE = (POLICIES / "xuancheng" / "2023.policy").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Mistake:
    name: str
    old: str
    new: str
    line: int
    column: int
    message: str
    hint: str
    text: str = TEXT
    code: str = "E002"

    def edited(self) -> str:
        assert self.text.count(self.old) == 1, self.old
        return self.text.replace(self.old, self.new)


FULL_WIDTH_HINT = "write the half-width `{}`; full-width text belongs inside quotes"
TYPE_HINT = (
    "write it before the value: `: ratio` (a share or multiple: 30%, 1.5), `: money` (元), "
    "`: points`, `: count`, `: number`… — the types: docs/language.md, Types and units"
)
MISTAKES = [
    Mistake(
        "a full-width first digit (was 0%)",
        'level_share "级别系数占比" : ratio = 80%',
        'level_share "级别系数占比" : ratio = ８0%',
        68,
        47,
        "full-width `８` is not part of the language here",
        FULL_WIDTH_HINT.format(8),
    ),
    Mistake(
        "a full-width second digit (was 8%)",
        'level_share "级别系数占比" : ratio = 80%',
        'level_share "级别系数占比" : ratio = 8０%',
        68,
        48,
        "full-width `０` is not part of the language here",
        FULL_WIDTH_HINT.format(0),
    ),
    Mistake(
        "a count of one full-width digit (was an AssertionError)",
        ": count = 5\n",
        ": count = ５\n",
        24,
        59,
        "full-width `５` is not part of the language here",
        FULL_WIDTH_HINT.format(5),
    ),
    Mistake(
        "a full-width digit in a table row (was an AssertionError)",
        "  3 -> 6‰",
        "  3 -> ６‰",
        119,
        8,
        "full-width `６` is not part of the language here",
        FULL_WIDTH_HINT.format(6),
    ),
    Mistake(
        "a full-width digit in a date (was: not a calendar date)",
        "to 2024-12-31",
        "to 2024-１2-31",
        18,
        32,
        "full-width `１` is not part of the language here",
        FULL_WIDTH_HINT.format(1),
    ),
    Mistake(
        "≤ copied from the document",
        "and cv(total_cost) <= cv_limit\n",
        "and cv(total_cost) ≤ cv_limit\n",
        33,
        24,
        "`≤` is not part of the language",
        "write `<=`; `≤` belongs only inside quotes",
    ),
    Mistake(
        "× copied from the document",
        "  level_coefficient * level_share",
        "  level_coefficient × level_share",
        81,
        21,
        "`×` is not part of the language",
        "write `*`; `×` belongs only inside quotes",
    ),
    Mistake(
        "且 for and",
        "> min_stable_cases)\n    and cv(",
        "> min_stable_cases)\n    且 cv(",
        33,
        5,
        "`且` is not part of the language",
        "write `and`; `且` belongs only inside quotes",
    ),
    Mistake(
        "an indent of full-width spaces",
        '  source xc2024 "病例数>5 例且 CV≤1 的病组确定为稳定病组"',
        '\u3000\u3000source xc2024 "病例数>5 例且 CV≤1 的病组确定为稳定病组"',
        28,
        1,
        "a full-width space is not part of the language",
        "indent and separate with half-width spaces (the formatter, `drgpolicy fmt`, indents)",
    ),
    Mistake(
        "an amount in 分",
        "hist_avg_cost == 0 元",
        "hist_avg_cost == 0 分",
        112,
        51,
        "`分` is not a unit of the language",
        "amounts of money are in 元: write `0.01 元` for 1 分 (`0 元` for none)",
        BASE,
    ),
    Mistake(
        "an amount in 万元",
        "hist_avg_cost == 0 元",
        "hist_avg_cost == 0 万元",
        112,
        51,
        "`万` is not a unit of the language",
        "amounts of money are in 元: write `10000 元` for 1 万元",
        BASE,
    ),
    Mistake(
        "a parameter without its type (was: unexpected `=`: expected `:`)",
        'low_ratio_grassroots "一级及以下医疗机构低倍率判定系数" : ratio = 30%',
        'low_ratio_grassroots "一级及以下医疗机构低倍率判定系数" = 30%',
        44,
        47,
        "a parameter needs its type after its label and `:`",
        TYPE_HINT,
        code="E001",
    ),
    Mistake(
        "a parameter's type without `:` (was: unexpected `ratio`: expected `:`)",
        'low_ratio_grassroots "一级及以下医疗机构低倍率判定系数" : ratio = 30%',
        'low_ratio_grassroots "一级及以下医疗机构低倍率判定系数" ratio = 30%',
        44,
        47,
        "a parameter's type follows `:`",
        "write `: ratio`",
        code="E001",
    ),
    Mistake(
        "a parameter's `:` without its type (was: unexpected `=`: expected a name)",
        'low_ratio_grassroots "一级及以下医疗机构低倍率判定系数" : ratio = 30%',
        'low_ratio_grassroots "一级及以下医疗机构低倍率判定系数" : = 30%',
        44,
        49,
        "a parameter needs its type after its label and `:`",
        TYPE_HINT,
        code="E001",
    ),
    Mistake(
        "a table row without its value (was: unexpected `let` on the next declaration)",
        "  3 -> 6‰",
        "  3 ->",
        119,
        7,
        "line 119 stops short: expected a value (a number, a name, a text, `(`…)",
        "finish line 119; `let` on line 121 starts something new",
        code="E001",
    ),
    Mistake(
        "an assumption without its text (was: unexpected `override` two lines below)",
        'assumption "“CV≤1”含 1"',
        "assumption",
        29,
        13,
        'line 29 stops short: expected a quoted text ("…")',
        "finish line 29; `override` on line 31 starts something new",
        code="E001",
    ),
    Mistake(
        "a `(` not closed (was: unexpected `source` on the line below)",
        "level_min_coefficient)\n",
        "level_min_coefficient\n",
        90,
        68,
        "line 90 stops short: expected `)`, `,` or `where`",
        "finish line 90; `source` on line 91 starts something new",
        code="E001",
    ),
]


def _diagnostic(text: str) -> tuple[int, int, str, str | None, str]:
    with pytest.raises(PolicyErrors) as caught:
        parse(text, "2024.policy")
    [d] = caught.value.diagnostics
    return d.line, d.column, d.message, d.hint, d.code


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.name)
def test_the_mistake_is_pointed_at_with_what_to_write(mistake: Mistake) -> None:
    assert _diagnostic(mistake.edited()) == (
        mistake.line,
        mistake.column,
        mistake.message,
        mistake.hint,
        mistake.code,
    )


@pytest.mark.parametrize("text", ["", "\n\n", "# 宣城市 DRG 点数法付费\n#\n"])
def test_a_file_without_a_declaration_says_how_a_policy_starts(text: str) -> None:
    _, _, message, hint, code = _diagnostic(text)
    assert code == "E003"
    assert message == (
        "the file has nothing but comments and blank lines: a policy file starts with "
        '`policy <city> version "<year>"`'
    )
    assert hint == (
        "`drgpolicy init CITY` writes a starting file (`--from xuancheng/2024` copies a "
        "shipped city's version)"
    )


def test_a_file_cut_short_still_says_to_finish_the_declaration() -> None:
    _, _, message, hint, code = _diagnostic(TEXT[: TEXT.index(" : ratio = 80%")])
    assert (code, hint) == ("E003", "finish the last declaration")
    assert message.startswith("the file ends too early: expected ")


def test_an_override_of_a_misspelt_name_suggests_the_base_versions_name(tmp_path: Path) -> None:
    (tmp_path / "2023.policy").write_text(BASE, encoding="utf-8")
    edited = tmp_path / "2024.policy"
    edited.write_text(TEXT.replace("override param cv_limit", "override param cv_limt"), "utf-8")
    [wrong] = [d for d in check_path(edited).diagnostics if d.code == "E702"]
    assert (wrong.line, wrong.column) == (27, 10)
    assert wrong.hint == (
        "remove `override` to add a new declaration, or check the name: did you mean `cv_limit`?"
    )
