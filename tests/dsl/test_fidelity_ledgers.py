"""Each city's fidelity ledger (`policies/<city>/fidelity.md`, 条文对照表) cannot drift from its
document or its policy file: every sentence it lists is the document's words, every rule it
names is declared in the file, every row says how the file has it, and README's counts per city
are the ledger's.

A ledger lists, sentence by sentence, what the city's document fixes for paying a case or a
hospital, and for each: the rules of the file that encode it and how — `as written`, `reading —
…` (the document leaves something open; the file's `assumption` says what it fixes) or `not
encoded — …` (why not)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from policy_dsl import ast as a
from policy_dsl import quotes
from policy_dsl.citation_counts import part_name
from policy_dsl.loader import read_policy_file, resolve
from policy_dsl.sources import read_text
from tests.conftest import POLICIES, ROOT, shared_sources

LEDGERS = sorted(POLICIES.glob("*/fidelity.md"))
README = (ROOT / "README.md").read_text(encoding="utf-8")
HOW = ("as written", "reading", "not encoded")
ROW = re.compile(r"^\|\s*(\d+)\s*\|(.*)\|(.*)\|(.*)\|\s*$")
HEADER = re.compile(r"^(Document|Policy): `([^`]+)`", re.MULTILINE)


@dataclass(frozen=True)
class Row:
    number: int
    words: str
    names: tuple[str, ...]
    how: str
    line: int


@dataclass(frozen=True)
class Ledger:
    path: Path
    document: str
    policies: tuple[Path, ...]
    rows: tuple[Row, ...]

    def counts(self) -> Counter[str]:
        return Counter(row.how for row in self.rows)


def read_ledger(path: Path) -> Ledger:
    text = path.read_text(encoding="utf-8")
    heads: dict[str, list[str]] = {"Document": [], "Policy": []}
    for key, value in HEADER.findall(text):
        heads[key].append(value)
    assert len(heads["Document"]) == 1, f"{path}: one line `Document: \\`<file>.txt\\``"
    assert heads["Policy"], f"{path}: at least one line `Policy: \\`policies/…/….policy\\``"
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = ROW.match(line)
        if match is None:
            continue
        index, words, names, how = (cell.strip() for cell in match.groups())
        kind = next((h for h in HOW if how == h or how.startswith(f"{h} — ")), None)
        assert kind is not None, (
            f"{path}:{number}: the last cell is `as written`, `reading — <what the file fixes>` "
            f"or `not encoded — <why>`, not {how!r}"
        )
        assert kind == "as written" or len(how) > len(kind) + 8, (
            f"{path}:{number}: `{kind}` says why, after ` — `"
        )
        found = tuple(re.findall(r"`([^`]+)`", names))
        assert (names == "—") == (not found), (
            f"{path}:{number}: name the file's rules in backticks, or write — when it has none"
        )
        assert (kind == "not encoded") == (not found), (
            f"{path}:{number}: a row the file does not encode names no rule; any other names one"
        )
        rows.append(Row(int(index), words.strip('“”"'), found, kind, number))
    assert rows, f"{path}: no rows"
    assert [r.number for r in rows] == list(range(1, len(rows) + 1)), f"{path}: rows numbered 1…n"
    policies = tuple(ROOT / p for p in heads["Policy"])
    return Ledger(path, heads["Document"][0], policies, tuple(rows))


def document_texts(policy: Path) -> set[str]:
    """The `text` of each document a version declares (its base's included)."""
    resolved = resolve(read_policy_file(policy))
    return {e.decl.value("text") or "" for e in resolved.entries if isinstance(e.decl, a.Document)}


def declared(policy: Path) -> set[str]:
    """Every name in force in a version (its base's and the library's included), stages too;
    a stage's own also as `stage.name`, and a classification's classes, a formula's arms and an
    adjustment's steps as `name.part` (`category.high`, `group_case_points.bilateral`)."""
    resolved = resolve(read_policy_file(policy))
    names = {s.name for s in resolved.stages}
    for entry in resolved.entries:
        name = getattr(entry.decl, "name", None)
        if not name:
            continue
        bases = {name, f"{entry.stage}.{name}"} if entry.stage else {name}
        names |= bases
        match entry.decl:
            case a.Classify(classes=parts) | a.Formula(arms=parts) | a.Adjust(steps=parts):
                names |= {f"{base}.{part_name(part)}" for base in bases for part in parts}
    return names


@pytest.mark.parametrize("path", LEDGERS, ids=lambda p: p.parent.name)
def test_every_sentence_is_the_documents_words(path: Path) -> None:
    ledger = read_ledger(path)
    texts = set().union(*(document_texts(p) for p in ledger.policies))
    assert ledger.document in texts, f"{path}: Document is the `text` of one of {sorted(texts)}"
    document = read_text(shared_sources() / ledger.document)
    missing = [
        f"{path.name}:{row.line} #{row.number}: {row.words[:40]}…"
        + (f" (closest: {quotes.closest(row.words, document)})" if row.words else "")
        for row in ledger.rows
        if quotes.find(row.words, document) is None
    ]
    assert not missing, "not the document's words:\n" + "\n".join(missing)


@pytest.mark.parametrize("path", LEDGERS, ids=lambda p: p.parent.name)
def test_every_rule_named_is_declared(path: Path) -> None:
    ledger = read_ledger(path)
    names = set().union(*(declared(p) for p in ledger.policies))
    unknown = [
        f"{path.name}:{row.line} #{row.number}: `{name}`"
        for row in ledger.rows
        for name in row.names
        if name not in names
    ]
    assert not unknown, "named in the ledger, declared in no file it covers:\n" + "\n".join(unknown)


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


def test_a_row_must_say_how(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="the last cell"):
        _ledger_of(tmp_path, "| 1 | 第一条 | `p` | encoded |")
    with pytest.raises(AssertionError, match="says why"):
        _ledger_of(tmp_path, "| 1 | 第一条 | `p` | reading |")
    with pytest.raises(AssertionError, match="names no rule"):
        _ledger_of(tmp_path, "| 1 | 第一条 | `p` | not encoded — 文件没有写方法 |")
    with pytest.raises(AssertionError, match="numbered"):
        _ledger_of(tmp_path, "| 2 | 第一条 | `p` | as written |")
    ledger = _ledger_of(tmp_path, "| 1 | “第一条” | `p`, `q.high` | reading — 边界按含等号读的 |")
    assert ledger.rows[0].words == "第一条"
    assert ledger.rows[0].names == ("p", "q.high")
    assert ledger.counts() == Counter({"reading": 1})


def _ledger_of(folder: Path, rows: str) -> Ledger:
    path = folder / "fidelity.md"
    path.write_text(
        "Document: `d.txt`\nPolicy: `policies/x/2024.policy`\n\n"
        "| # | words | in the file | how |\n|---:|---|---|---|\n" + rows + "\n",
        encoding="utf-8",
    )
    return read_ledger(path)
