"""Each city's fidelity ledger (`policies/<city>/fidelity.md`, 条文对照表) cannot drift from its
document or its policy file: `drgpolicy check`'s ledger check (`policy_dsl.check.ledger`) finds
every sentence it lists in the document and every rule it names in the file, and every row says
how the file has it; README's counts per city are the ledger's.

A ledger lists, sentence by sentence, what the city's document fixes for paying a case or a
hospital, and for each: the rules of the file that encode it and how — `as written`, `reading —
…` (the document leaves something open; the file's `assumption` says what it fixes) or `not
encoded — …` (why not). Each code the check reports has its golden case (E710–E716, W710)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from policy_dsl.check.ledger import HOW, Ledger, check_ledger, read_ledger
from policy_dsl.diagnostics import Diagnostic
from policy_dsl.sources import source_folders
from tests.conftest import POLICIES, ROOT, shared_sources

LEDGERS = sorted(POLICIES.glob("*/fidelity.md"))
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", LEDGERS, ids=lambda p: p.parent.name)
def test_every_shipped_ledger_checks_clean_against_its_document(path: Path) -> None:
    checked = check_ledger(path, source_folders([shared_sources()], environ={}))
    assert not checked.diagnostics, "\n\n".join(d.render() for d in checked.diagnostics)
    rows = len(checked.ledger.rows)
    assert checked.sentences == {"verified": rows, "not_found": 0, "unverifiable": 0}


@pytest.mark.parametrize("path", LEDGERS, ids=lambda p: p.parent.name)
def test_the_readme_counts_are_the_ledgers(path: Path) -> None:
    counts = read_ledger(path).counts()
    link = f"policies/{path.parent.name}/fidelity.md"
    row = next((line for line in README.splitlines() if f"]({link})" in line), None)
    assert row is not None, f"README's table of fidelity has no row linking {link}"
    cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
    total = sum(counts.values())
    assert cells[-4:] == [str(total), *(str(counts[h]) for h in HOW)], (
        f"README's row for {link}: sentences, as written, reading, not encoded"
    )


def test_every_city_has_its_ledger() -> None:
    cities = sorted({p.parent for p in POLICIES.glob("*/*.policy")})
    assert [p.parent for p in LEDGERS] == cities, "a city folder without fidelity.md"


def test_a_row_is_read_words_names_and_how(tmp_path: Path) -> None:
    ledger = _ledger_of(tmp_path, "| 1 | “第一条” | `p`, `q.high` | reading — 边界按含等号读的 |")
    (row,) = ledger.rows
    assert (row.words, [name for name, _ in row.names]) == ("第一条", ["p", "q.high"])
    assert [(span.line, span.column) for _, span in row.names] == [(6, 15), (6, 20)]
    assert ledger.counts() == Counter({"reading": 1})


@pytest.mark.parametrize(
    ("row", "code", "words"),
    [
        ("| 1 | 第一条 | `p` | encoded |", "E713", "does not say how"),
        ("| 1 | 第一条 | `p` | reading |", "E713", "does not say what the file fixes"),
        ("| 1 | 第一条 | `p` | not encoded — 文件没有写方法 |", "E714", "names 1 rule"),
        ("| 1 | 第一条 | p | as written |", "E714", "not named in backticks"),
        ("| 2 | 第一条 | `p` | as written |", "E712", "row 2 stands where row 1"),
        ("| 1 | 第一条 | `p` |", "E713", "four cells"),
        ("| 1 | 第一条 | — | as written |", "E714", "names no rule"),
        ("| 1 | 第一条 | — | not encoded — 废 |", "E713", "does not say why not"),
    ],
)
def test_a_row_that_does_not_say_how_is_a_diagnostic(
    tmp_path: Path, row: str, code: str, words: str
) -> None:
    found: list[Diagnostic] = []
    _ledger_of(tmp_path, row, found)
    assert [(d.code, d.line) for d in found] == [(code, 6)]
    assert words in found[0].message


@pytest.mark.parametrize(
    ("row", "words", "how"),
    [
        ("  | 1 | 第一条 | — | not encoded — 已废止 |", "第一条", "not encoded"),
        ("> | 1 | 第一条 | — | not encoded — 已废止 |", "第一条", "not encoded"),
        ("| 1 | ‘甲\\|乙’ | `p` | reading — 取 a\\|b 的 b |", "甲|乙", "reading"),
        ("| 1 | 「第一条」 | `p` | as written |", "第一条", "as written"),
    ],
)
def test_a_row_indented_quoted_or_with_a_pipe_is_read(
    tmp_path: Path, row: str, words: str, how: str
) -> None:
    """rev30: a row indented or inside a `>` quote was dropped without a word, a `\\|` in a cell
    broke it, ‘’ and 「」 around the words were not taken off, a short Chinese reason was
    refused."""
    found: list[Diagnostic] = []
    ledger = _ledger_of(tmp_path, row, found)
    assert not found, [d.message for d in found]
    assert [(r.words, r.how) for r in ledger.rows] == [(words, how)]


def test_only_the_ledger_table_is_read(tmp_path: Path) -> None:
    """A table of the file whose first header cell is not `#` (notes, figures) is not rows."""
    path = tmp_path / "fidelity.md"
    path.write_text(
        "Document: `d.txt`\nPolicy: `policies/x/2023.policy`, `policies/x/2024.policy`\n\n"
        "| year | cases |\n|---|---|\n| 2023 | 5 |\n\n"
        "| # | words | in the file | how |\n|---:|---|---|---|\n"
        "| 1 | 第一条 | `p` | as written |\n",
        encoding="utf-8",
    )
    found: list[Diagnostic] = []
    ledger = read_ledger(path, found)
    assert not found, [d.message for d in found]
    assert [r.line for r in ledger.rows] == [10]
    assert [name for name, _ in ledger.policies] == [
        "policies/x/2023.policy",
        "policies/x/2024.policy",
    ]


@pytest.mark.parametrize(
    ("head", "code", "words"),
    [
        ("Policy: `policies/x/2024.policy`\n", "E710", "has no `Document:` line"),
        ("Document: `d.txt`\nDocument: `e.txt`\nPolicy: `x.policy`\n", "E710", "twice"),
        ("Document: `d.txt`\n", "E710", "has no `Policy:` line"),
    ],
)
def test_a_header_without_its_lines_is_a_diagnostic(
    tmp_path: Path, head: str, code: str, words: str
) -> None:
    path = tmp_path / "fidelity.md"
    path.write_text(
        head + "\n| # | words | in the file | how |\n|---:|---|---|---|\n"
        "| 1 | 第一条 | `p` | as written |\n",
        encoding="utf-8",
    )
    found: list[Diagnostic] = []
    read_ledger(path, found)
    assert [d.code for d in found] == [code]
    assert words in found[0].message


def test_a_ledger_without_rows_is_a_diagnostic(tmp_path: Path) -> None:
    found: list[Diagnostic] = []
    assert _ledger_of(tmp_path, "", found).rows == ()
    assert [(d.code, d.message) for d in found] == [("E712", "the ledger has no rows")]


def _ledger_of(folder: Path, rows: str, found: list[Diagnostic] | None = None) -> Ledger:
    path = folder / "fidelity.md"
    path.write_text(
        "Document: `d.txt`\nPolicy: `policies/x/2024.policy`\n\n"
        "| # | words | in the file | how |\n|---:|---|---|---|\n" + rows + "\n",
        encoding="utf-8",
    )
    return read_ledger(path, found)
