"""The README's account of the shipped policies (issue 9) cannot drift from the files: its table
of documents and citation counts is recomputed from them, and the tour's excerpts of the
Xuancheng files are the files' own lines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policy_dsl import ast as a
from policy_dsl.citation_counts import citation_counts, rules
from policy_dsl.loader import read_policy_file
from policy_dsl.parser import parse
from tests.conftest import POLICIES, ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
SHIPPED = sorted(POLICIES.glob("*/*.policy"))
STATUS = {
    "in_force": "in force",
    "draft": "draft 征求意见稿",
    "report": "report (not a normative text)",
}


def table_row(path: Path) -> list[str]:
    """The README table's cells for one file."""
    name = f"`{path.parent.name}/{path.stem}`"
    row = next((line for line in README.splitlines() if line.startswith(f"| {name}")), None)
    assert row is not None, f"the README's table of shipped cities has no row for {name}"
    return [cell.strip() for cell in row.strip("|").split("|")]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_the_readme_counts_are_the_files(path: Path) -> None:
    counts = citation_counts(read_policy_file(path).tree)
    cells = table_row(path)
    assert cells[4:] == [
        str(counts.sourced),
        str(counts.sourced_assumed),
        str(counts.assumed),
        f"{counts.sources} / {counts.assumptions}",
    ]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_the_readme_names_each_files_document_and_status(path: Path) -> None:
    tree = read_policy_file(path).tree
    documents = [d for _, d in tree.declarations() if isinstance(d, a.Document)]
    if not documents:  # a version that extends another cites its base's documents
        assert tree.header.extends is not None
        return
    cells = table_row(path)
    main = documents[0]
    assert main.title in cells[1]
    assert (main.value("issuer") or "") in cells[2]
    number = main.value("number")
    assert (number if number not in (None, "none") else "no 文号") in cells[2]
    assert STATUS[main.value("status") or ""] == cells[3]


def test_counting_rules_one_by_one() -> None:
    """A classification counts class by class, an adjustment step by step; documents and
    invariants are not rules; a rule with a source counts as sourced even with assumptions, and
    among the sourced ones that also rest on an assumption."""
    text = """policy demo version "1"
  effective 2024-01-01 to 2024-12-31
  method points
document d "示例"
  issuer "示例局"
  number none
  date "2024"
  status report
param p "p" : ratio = 30%
  source d "第一条"
  assumption "读作含边界"
param q "q" : ratio = 40%
  assumption "未写"
let r "r" : ratio at case = p / q
classify category "病例类型"
  class low "低" when r < 1
    source d "第二条"
  class normal "正常" otherwise
invariant i "i"
  always r >= 0
"""
    tree = parse(text)
    assert [name for name, _ in rules(tree)] == [
        "p",
        "q",
        "r",
        "category/low",
        "category/normal",
    ]
    counts = citation_counts(tree)
    assert (counts.sourced, counts.assumed, counts.uncited) == (2, 1, 2)
    assert counts.sourced_assumed == 1  # p quotes 第一条 and states a reading; low only quotes
    assert (counts.sources, counts.assumptions) == (2, 2)


def tour_blocks() -> list[str]:
    """The code blocks of the README's tour that show the Xuancheng files."""
    tour = README[README.index("## A tour of the language") : README.index("**Ranges.**")]
    tour += README[README.index("**Tables** are ranges") : README.index("**Invariants**")]
    return re.findall(r"```\n(.*?)```", tour, flags=re.S)


def test_the_tours_excerpts_are_lines_of_the_xuancheng_files() -> None:
    files = "\n".join(
        (POLICIES / "xuancheng" / name).read_text(encoding="utf-8")
        for name in ("2023.policy", "2024.policy")
    )
    lines = {line.strip() for line in files.splitlines()}
    blocks = tour_blocks()
    assert len(blocks) >= 5
    for block in blocks:
        for line in block.splitlines():
            if line.strip() and line.strip() != "…":
                assert line.strip() in lines, f"the README's tour shows a line no file has: {line}"
