"""Atomic writes: a file or folder is the old one or the new one, never a part, never lost."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from engine.commands import settle as settle_command
from engine.run import atomic, progress, table_files
from tests.conftest import POLICIES, SAMPLE, run_cli


def test_a_file_is_replaced_by_a_new_one_with_its_permissions(tmp_path: Path) -> None:
    path = tmp_path / "a.policy"
    path.write_text("old\n", encoding="utf-8")
    path.chmod(0o640)
    inode = path.stat().st_ino
    atomic.write_file_atomically(path, "新\n")
    assert path.read_text(encoding="utf-8") == "新\n"
    assert path.stat().st_ino != inode
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["a.policy"]


def test_a_new_file_gets_the_usual_permissions_not_private_ones(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        atomic.write_file_atomically(tmp_path / "new.yaml", b"x: 1\n")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new.yaml").stat().st_mode) == 0o644


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "cases.parquet"
    path.write_bytes(b"old")

    def half(temporary: Path) -> None:
        temporary.write_bytes(b"ha")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        atomic.write_with(path, half)
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["cases.parquet"]


def test_temporary_names_are_unique_so_two_writers_do_not_collide(tmp_path: Path) -> None:
    seen: list[str] = []

    def write(temporary: Path) -> None:
        seen.append(temporary.name)
        temporary.write_text(str(len(seen)))

    atomic.write_with(tmp_path / "a.csv", write)
    atomic.write_with(tmp_path / "a.csv", write)
    assert len(set(seen)) == 2 and all(name.startswith(".a.csv.") for name in seen)
    assert (tmp_path / "a.csv").read_text() == "2"


def _folder(path: Path, content: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "manifest.json").write_text(content, encoding="utf-8")
    return path


def test_a_folder_is_swapped_in_and_the_old_one_removed(tmp_path: Path) -> None:
    out = _folder(tmp_path / "out", "old")
    value = atomic.replace_folder(out, lambda s: (s / "manifest.json").write_text("new") and 7)
    assert value == 7
    assert (out / "manifest.json").read_text() == "new"
    assert os.listdir(tmp_path) == ["out"]


def test_a_failure_while_filling_leaves_the_old_folder(tmp_path: Path) -> None:
    out = _folder(tmp_path / "out", "old")

    def fail(staging: Path) -> None:
        (staging / "manifest.json").write_text("half")
        raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        atomic.replace_folder(out, fail)
    assert (out / "manifest.json").read_text() == "old"
    assert os.listdir(tmp_path) == ["out"]


def test_without_an_exchange_a_failed_second_rename_puts_the_old_folder_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _folder(tmp_path / "out", "old")
    monkeypatch.setattr(atomic, "_exchange", lambda first, second: False)
    real_replace = os.replace
    calls: list[tuple[str, str]] = []

    def replace(src: str | Path, dst: str | Path) -> None:
        calls.append((Path(src).name, Path(dst).name))
        if len(calls) == 2:  # the new folder into place
            raise OSError(5, "Input/output error")
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace)
    with pytest.raises(OSError, match="Input/output"):
        atomic.replace_folder(out, lambda s: (s / "manifest.json").write_text("new"))
    assert (out / "manifest.json").read_text() == "old"
    assert os.listdir(tmp_path) == ["out"]


def test_without_an_exchange_the_swap_still_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _folder(tmp_path / "out", "old")
    monkeypatch.setattr(atomic, "_exchange", lambda first, second: False)
    atomic.replace_folder(out, lambda s: (s / "manifest.json").write_text("new"))
    assert (out / "manifest.json").read_text() == "new"
    assert os.listdir(tmp_path) == ["out"]


@pytest.mark.skipif(atomic._renameat2() is None, reason="renameat2 is Linux only")
def test_on_linux_the_two_folders_are_exchanged_in_one_step(tmp_path: Path) -> None:
    first, second = _folder(tmp_path / "a", "a"), _folder(tmp_path / "b", "b")
    assert atomic._exchange(first, second)
    assert (first / "manifest.json").read_text() == "b"
    assert (second / "manifest.json").read_text() == "a"


def test_a_disk_full_while_settle_writes_is_said_and_the_old_outputs_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk that fills while the tables are written (polars' sink says `[Errno 28] No space
    left on device` with no errno) ended settle in a traceback on fix28 (the staging folder was
    removed and `--out` kept): now in words, exit 1, `--out` as it was."""
    argv = ["settle", "--policy", str(POLICIES / "xuancheng" / "2024.policy")]
    argv += ["--data", str(SAMPLE), "--period", "2024-03", "--out", str(tmp_path / "out")]
    assert run_cli(capsys, *argv)[0] == 0
    before = sorted((p.relative_to(tmp_path), p.read_bytes()) for p in tmp_path.rglob("*.csv"))

    def full(*args: object, **kwargs: object) -> str:
        raise OSError("[Errno 28] No space left on device")

    monkeypatch.setattr(table_files, "write_table", full)
    code, _, err = run_cli(capsys, *argv)
    assert code == 1 and "Traceback" not in err
    assert f"{tmp_path / 'out'} could not be written: No space left on device — nothing" in err
    assert sorted((p.relative_to(tmp_path), p.read_bytes()) for p in tmp_path.rglob("*.csv")) == (
        before
    )
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_read_only_disk_where_the_lock_is_taken_is_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On fix28 a read-only `--out` ended in a traceback where the run takes its lock."""
    lock = tmp_path / ".out.lock"

    def read_only(out: Path) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(lock))

    monkeypatch.setattr(settle_command, "hold", read_only)
    argv = ["settle", "--policy", str(POLICIES / "xuancheng" / "2024.policy")]
    argv += ["--data", str(SAMPLE), "--period", "2024-03", "--out", str(tmp_path / "out")]
    code, _, err = run_cli(capsys, *argv)
    assert code == 1 and "Traceback" not in err
    assert f"{lock} could not be written: Read-only file system" in err


def test_a_stop_swallowed_while_the_folder_was_filled_keeps_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ctrl-C or SIGTERM that a library swallowed (kept in `progress.STOPS`) is raised before
    the new folder is put in place: the old outputs stay, nothing is left beside them. On integ31
    before the review the swap went on and the run ended as if whole."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "cases.csv").write_text("old\n", encoding="utf-8")
    stop = KeyboardInterrupt()

    def fill(folder: Path) -> None:
        (folder / "cases.csv").write_text("new\n", encoding="utf-8")
        progress.STOPS.append(stop)  # as cli's handler does when py4j swallowed the signal

    monkeypatch.setattr(progress, "STOPS", [])
    with pytest.raises(KeyboardInterrupt) as raised:
        atomic.replace_folder(out, fill)
    assert raised.value is stop
    assert (out / "cases.csv").read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
