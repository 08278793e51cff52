"""`drgpolicy check --sources DIR`: every quote of a policy looked up in its document's text, the
count of quotes per file, and the shipped policies checked against `../shared/sources`."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import POLICIES, ROOT, ledger_lines, run_cli, shared_sources

GOLDEN = ROOT / "tests" / "golden" / "diagnostics"


def _golden(name: str, folder: Path) -> Path:
    shutil.copy(GOLDEN / name, folder / name)
    return folder / name


def test_sources_given_on_the_command_line_are_searched(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _golden("E137.policy", tmp_path)
    code, out, err = run_cli(capsys, "check", str(path))
    assert code == 0, "without the text the quote is not checked: a warning"
    assert "warning W130: the text of document `notice` is not found" in err
    assert out.endswith("quotes: 0 verified, 0 not found, 1 unverifiable\n")
    code, out, err = run_cli(capsys, "check", "--sources", str(GOLDEN / "sources"), str(path))
    assert code == 1
    assert f"{path}:20:3: error E137: `source notice`: this quote is not in" in err
    assert "the closest passage of the document: “第六条住院总费用低于" in err
    quotes = "quotes: 0 verified, 1 not found, 0 unverifiable"
    assert out == f"{path}: failed (1 error, 0 warnings); {quotes}\n"


def test_sources_from_the_environment_come_after_those_given(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _golden("W101.policy", tmp_path)
    decoy = tmp_path / "decoy"
    decoy.mkdir()
    (decoy / "notice.txt").write_text("别的文件", encoding="utf-8")
    monkeypatch.setenv("DRGPOLICY_SOURCES", str(GOLDEN / "sources"))
    code, out, _ = run_cli(capsys, "check", str(path))
    assert code == 0 and out.endswith("quotes: 1 verified, 0 not found, 0 unverifiable\n")
    code, out, err = run_cli(capsys, "check", "--sources", str(decoy), str(path))
    assert code == 1 and "error E137" in err


def test_a_sources_folder_that_is_not_there_is_an_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run_cli(capsys, "check", "--sources", str(tmp_path / "nope"), str(POLICIES))
    assert (code, out) == (1, "")
    assert err == f"--sources {tmp_path / 'nope'}: no such folder\n"


def test_shipped_documents_name_their_texts_in_the_shared_folder() -> None:
    shared = shared_sources()
    for path in sorted(POLICIES.rglob("*.policy")):
        for name in re.findall(r'^\s+text "([^"]+)"', path.read_text(encoding="utf-8"), re.M):
            assert (shared / name).is_file(), f"{path}: text {name} is not in {shared}"


def test_every_shipped_quote_is_found_in_its_document(capsys: pytest.CaptureFixture[str]) -> None:
    """`make test` checks every quote of `policies/` against `../shared/sources`: none may be
    missing from its document; only a document whose text is nowhere (no `text`: the 2023
    Xuancheng rules) could leave its quotes unverified, and no shipped quote cites it."""
    shared = shared_sources()
    code, out, err = run_cli(capsys, "check", "--sources", str(shared), str(POLICIES))
    not_found = re.findall(r"error E137: .*", err)
    assert not not_found, f"{len(not_found)} quotes are not in their documents:\n{err}"
    unavailable = re.findall(r"warning W130: (.*)", err)
    assert all("does not say where its text is" in w for w in unavailable), unavailable
    assert code == 0, err
    shipped = sorted(POLICIES.rglob("*.policy"))
    expected = []
    for path in shipped:
        quotes = f"quotes: {_quotes_in(path)} verified, 0 not found, 0 unverifiable"
        expected += [f"{path}: ok (0 errors, 0 warnings); {quotes}"]
        expected += ledger_lines(path, verified=True)
    assert out.splitlines() == expected
    assert all(_quotes_in(path) > 0 for path in shipped)


def _quotes_in(path: Path) -> int:
    """How many `source <document> "…"` quotes a file holds, counted in its text."""
    return len(re.findall(r'\bsource \w+ "', path.read_text(encoding="utf-8")))
