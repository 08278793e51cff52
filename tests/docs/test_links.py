"""Every link of the documentation leads somewhere: the file exists, and an anchor names a
heading of it (as GitHub makes anchors from headings)."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import ROOT

PAGES = sorted(
    [
        *ROOT.glob("*.md"),
        *(ROOT / "docs").glob("*.md"),
        ROOT / "engine" / "CONTRACT.md",
        ROOT / "bench" / "README.md",
    ]
)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} +(.+?) *$", re.M)


def prose(text: str) -> str:
    """The text without its code blocks and code spans (their brackets are no links)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"``.+?``|`[^`\n]+`", "", text)


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, no punctuation but `-` and `_`, spaces as `-`."""
    text = heading.replace("`", "").lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


@cache
def anchors(page: Path) -> frozenset[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.S | re.M)
    seen: Counter[str] = Counter()
    found = set()
    for heading in HEADING.findall(text):
        base = slug(heading)
        found.add(base if not seen[base] else f"{base}-{seen[base]}")
        seen[base] += 1
    return frozenset(found)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_leads_somewhere(page: Path) -> None:
    broken = []
    for target in LINK.findall(prose(page.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no {file}")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no heading #{anchor} in {file.name}")
    assert broken == []


def test_the_slug_is_githubs() -> None:
    assert slug("Versions: `extends` and `override`") == "versions-extends-and-override"
    assert slug("版本：`extends` 与 `override`") == "版本extends-与-override"
    assert slug("Deductions (`deductions.csv` / `deductions.parquet`)") == (
        "deductions-deductionscsv--deductionsparquet"
    )
