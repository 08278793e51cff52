"""`drgpolicy fmt`: rewrite in place (atomically), `--check`, `--diff`, files with syntax errors."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

import engine.commands.fmt as fmt
from engine.cli import main
from engine.run import atomic

FORMAT = Path(__file__).resolve().parents[1] / "golden" / "format"
BROKEN = Path(__file__).resolve().parents[1] / "golden" / "diagnostics" / "E001.policy"

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    def run(*argv: str | Path) -> tuple[int, str, str]:
        code = main(["fmt", *map(str, argv)])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    path = tmp_path / "messy.policy"
    shutil.copy(FORMAT / "messy.policy", path)
    return path


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    path = tmp_path / "broken.policy"
    shutil.copy(BROKEN, path)
    return path


def _expected() -> bytes:
    return (FORMAT / "messy.expected.policy").read_bytes()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_rewrites_a_file_in_place(run: Run, messy: Path) -> None:
    assert run(messy) == (0, f"formatted: {messy}\n", "")
    assert messy.read_bytes() == _expected()
    done = f"already formatted: {messy}; nothing to rewrite\n"
    assert run(messy) == (0, "", done), "a formatted file is left alone, and said so"
    assert _leftovers(messy.parent) == []


def test_a_policy_reached_by_a_symbolic_link_is_formatted_and_the_link_kept(
    run: Run, messy: Path
) -> None:
    """`fmt link.policy` formats the file the link names: on main the link was replaced by a
    formatted copy, the policy itself left as it was and the two apart from then on."""
    link = messy.with_name("link.policy")
    link.symlink_to(messy.name)
    assert run(link)[0] == 0
    assert link.is_symlink() and os.readlink(link) == messy.name
    assert messy.read_bytes() == _expected()
    assert _leftovers(messy.parent) == []


def test_rewrite_keeps_the_file_permissions(run: Run, messy: Path) -> None:
    messy.chmod(0o640)
    run(messy)
    assert stat.S_IMODE(messy.stat().st_mode) == 0o640


def test_check_lists_unformatted_files_and_rewrites_nothing(
    run: Run, messy: Path, tmp_path: Path
) -> None:
    done = tmp_path / "done.policy"
    shutil.copy(FORMAT / "messy.expected.policy", done)
    before = messy.read_bytes()
    assert run("--check", messy, done) == (1, f"not formatted: {messy}\n", "")
    assert messy.read_bytes() == before
    assert run("--check", done) == (0, "", f"already formatted: {done}; nothing to rewrite\n")
    # it printed nothing at all: a reader could not tell a formatted file from a command that
    # did not run
    shutil.copy(done, tmp_path / "two.policy")
    said = "already formatted: all 2 files; nothing to rewrite\n"
    assert run(tmp_path / "two.policy", done) == (0, "", said)


def test_check_sees_crlf_line_endings(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "crlf.policy"
    path.write_bytes(_expected().replace(b"\n", b"\r\n"))
    assert run("--check", path)[0] == 1
    assert run(path)[0] == 0
    assert path.read_bytes() == _expected()


def test_diff_prints_a_unified_diff_and_rewrites_nothing(run: Run, messy: Path) -> None:
    before = messy.read_bytes()
    code, out, err = run("--diff", messy)
    assert (code, err) == (0, "")
    assert out.startswith(f"--- {messy}\n+++ {messy} (formatted)\n@@ ")
    assert '\n-param threshold "起付标准" : money = 1200.5元\n' in out
    assert '\n+param threshold "起付标准" : money = 1200.50 元\n' in out
    assert messy.read_bytes() == before


def test_check_and_diff_together(run: Run, messy: Path) -> None:
    code, out, _ = run("--check", "--diff", messy)
    assert code == 1
    assert out.startswith(f"--- {messy}") and out.endswith(f"not formatted: {messy}\n")


def test_a_syntax_error_is_reported_and_the_file_left_untouched(
    run: Run, broken: Path, messy: Path
) -> None:
    before = broken.read_bytes()
    modified = broken.stat().st_mtime_ns
    code, out, err = run(broken, messy)
    assert code == 1
    assert out == f"formatted: {messy}\n", "the other files are still formatted"
    assert err.startswith(f"{broken}:19:38: error E001: ")
    assert "  hint: write `==`" in err
    assert broken.read_bytes() == before and broken.stat().st_mtime_ns == modified
    assert _leftovers(broken.parent) == []


def test_syntax_error_under_check(run: Run, broken: Path) -> None:
    code, out, err = run("--check", broken)
    assert (code, out) == (1, "")
    assert "error E001" in err


def test_a_failed_write_leaves_the_file_and_no_temporary(
    run: Run, messy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = messy.read_bytes()

    def fail(src: str, dst: str | Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", fail)
    code, out, err = run(messy)
    assert (code, out) == (1, "")
    assert err == f"cannot write {messy}: [Errno 28] No space left on device\n"
    assert messy.read_bytes() == before
    assert _leftovers(messy.parent) == []


def test_a_formatter_that_would_change_the_meaning_writes_nothing(
    run: Run, messy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = messy.read_bytes()
    monkeypatch.setattr(
        fmt, "format_policy", lambda tree, text: text.replace("30%", "40%").replace("  ", " ")
    )
    code, _, err = run(messy)
    assert code == 1
    assert "would change what the policy means" in err
    assert messy.read_bytes() == before


def test_write_atomically_replaces_in_one_step(tmp_path: Path) -> None:
    path = tmp_path / "a.policy"
    path.write_text("old\n", encoding="utf-8")
    inode = path.stat().st_ino
    fmt.write_atomically(path, "new\n")
    assert path.read_text(encoding="utf-8") == "new\n"
    assert path.stat().st_ino != inode, "a new file was renamed over the old one"
    assert os.listdir(tmp_path) == ["a.policy"]
