"""The parser comes from tables shipped with the package, never from a cache another user can
write. Regression: Lark's `cache=True` kept a pickle in the shared temporary folder under a
predictable name, and a planted file there ran code as the next user of `drgpolicy`."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from lark import Lark
from lark.exceptions import UnexpectedInput

from policy_dsl import grammar_tables, parser
from tests.conftest import POLICIES, ROOT

GOLDEN = ROOT / "tests" / "golden"
TEXTS = sorted([*POLICIES.rglob("*.policy"), *GOLDEN.rglob("*.policy")])


def test_the_shipped_tables_are_built_from_this_grammar() -> None:
    grammar = grammar_tables.grammar_text()
    assert grammar_tables.load(grammar) is not None, (
        "policy_dsl/grammar_tables.json is stale: run `.venv/bin/python -m "
        "policy_dsl.grammar_tables` (or `make`)"
    )


def _outcome(lark: Lark, text: str) -> object:
    try:
        return lark.parse(text)
    except UnexpectedInput as exc:
        return (type(exc).__name__, exc.line, exc.column)


def test_the_shipped_tables_parse_as_the_grammar_does() -> None:
    """Every shipped policy and golden file (bad ones too): the same tree, positions included,
    or the same syntax error at the same place."""
    grammar = grammar_tables.grammar_text()
    shipped, built = grammar_tables.load(grammar), grammar_tables.build(grammar)
    assert shipped is not None and len(TEXTS) > 70
    for path in TEXTS:
        text = parser.without_bom(path.read_text(encoding="utf-8"))
        got, expected = _outcome(shipped, text), _outcome(built, text)
        assert got == expected, path
        if not isinstance(got, tuple):
            assert [t.meta.line for t in got.iter_subtrees()] == [  # type: ignore[attr-defined]
                t.meta.line
                for t in expected.iter_subtrees()  # type: ignore[attr-defined]
            ]


def test_a_grammar_edited_without_new_tables_is_built_from_its_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    edited = grammar_tables.grammar_text() + "\n// edited\n"
    assert grammar_tables.load(edited) is None
    monkeypatch.setattr(grammar_tables, "grammar_text", lambda: edited)
    parser._lark.cache_clear()
    try:
        assert parser.parse('policy demo version "1"\n').header.version == "1"
    finally:
        parser._lark.cache_clear()


class _Payload:
    """Unpickling this creates `made`: proof that code ran."""

    def __init__(self, made: Path) -> None:
        self.made = made

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.mkdir, (str(self.made),)


def _plant_old_cache(folder: Path, made: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """A malicious pickle where the parser used to read its cache: Lark's `cache=True` file in
    the temporary folder, named as the old parser facade made Lark name it."""
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    Lark(grammar_tables.grammar_text(), **grammar_tables.OPTIONS, cache=True)
    planted = sorted(folder.glob(".lark_cache_*.tmp"))
    assert planted
    for path in planted:
        first_line = path.read_bytes().split(b"\n", 1)[0]
        path.write_bytes(first_line + b"\n" + pickle.dumps(_Payload(made)))
    return planted


def test_a_planted_grammar_cache_runs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared_tmp, private_cache, made = tmp_path / "tmp", tmp_path / "cache", tmp_path / "pwned"
    shared_tmp.mkdir()
    private_cache.mkdir()
    planted = _plant_old_cache(shared_tmp, made, monkeypatch)
    env = os.environ | {
        "TMPDIR": str(shared_tmp),
        "XDG_CACHE_HOME": str(private_cache),
        "HOME": str(tmp_path),
    }
    run = subprocess.run(
        [sys.executable, "-m", "engine.cli", "check", str(POLICIES / "xuancheng" / "2024.policy")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert not made.exists(), "the planted pickle was unpickled"
    assert sorted(shared_tmp.iterdir()) == planted  # nothing read from, or written to, there
    assert list(private_cache.iterdir()) == []
