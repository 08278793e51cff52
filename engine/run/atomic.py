"""Atomic writes (原子写入): a reader sees the old file (or folder) or the new one, never a part.

- `write_file_atomically(path, data)`: the bytes (or UTF-8 text, written as is) go to a temporary
  file with a unique name in the same folder, are flushed to disk (fsync), then renamed over
  `path` (`os.replace`). An existing file keeps its permissions; a new one gets the usual ones
  (0666 less the umask).
- `write_with(path, write)`: the same, when a library writes the file (`frame.write_parquet`).
  A `path` that is a symbolic link (a policy file linked into a city folder) is written through:
  the file it names is replaced and the link kept, never replaced by a copy.
- `replace_folder(out, fill)`: `fill` writes a fresh sibling folder, which then takes the place of
  `out`. On Linux the two folders are exchanged in one step (`renameat2` RENAME_EXCHANGE), so
  `out` always exists, old or new. Elsewhere the old folder is first renamed aside and put back if
  the second rename fails; only a hard crash (power loss, SIGKILL) between the two renames leaves
  `out` absent, with its old content intact in `.<name>.<pid>.<random>.new.previous` beside it.
  The whole replacement holds `out`'s lock (`engine.run.run_lock`): one writer at a time.

Leftovers (遗留文件): a run killed while it writes leaves its temporary file or staging folder
(`.<name>.<pid>.<random>.tmp`, `.new`, `.new.previous`) beside the target. The name carries the
writer's pid, and the next write of the same target removes those whose process is gone — or,
for a folder whose old content was set aside and never put back, puts it back first.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import secrets
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from engine.run.out_folder import OutFolderError
from engine.run.progress import stop_if_asked
from engine.run.run_lock import hold, process_alive

T = TypeVar("T")

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_UNSUPPORTED = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV}
#: A disk that does not take what is written: full, over quota, read-only, a file too large.
_NO_ROOM = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG}


def write_file_atomically(path: Path, data: bytes | str) -> None:
    """Replace `path` by `data` in one step (text is UTF-8, line endings as given)."""
    content = data.encode("utf-8") if isinstance(data, str) else data
    write_with(path, lambda temporary: temporary.write_bytes(content))


def write_with(path: Path, write: Callable[[Path], object]) -> None:
    """Let `write` fill a temporary file beside `path`, flush it to disk, rename it over `path`.
    A symbolic link is written through: the file it names is replaced, the link kept."""
    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in leftovers(path, (".tmp",), locked=False):
        leftover.unlink(missing_ok=True)
    temporary = _unique(path, ".tmp", _create_file)
    try:
        write(temporary)
        _fsync(temporary)
        _copy_mode(path, temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


def replace_folder(out: Path, fill: Callable[[Path], T]) -> T:
    """Let `fill` write a fresh sibling folder, then put it in the place of `out`; `out`'s lock
    is held throughout, and the leftovers of killed runs are dealt with first."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with hold(out), _in_words(out):
        repair(out)
        try:
            staging = _unique(out, ".new", lambda p: os.mkdir(p, 0o777))
            value = fill(staging)
            _fsync_tree(staging)
            stop_if_asked()  # a stop a library swallowed while filling: the old folder stays
            _swap_in(staging, out)
        except BaseException:
            for own in _own_staging(out):
                shutil.rmtree(own, ignore_errors=True)
            raise
    return value


@contextlib.contextmanager
def _in_words(target: Path) -> Iterator[None]:
    """A disk full, over quota or read-only while `target` is written is said in words (the
    write is undone: `target` is as it was), not as a traceback."""
    try:
        yield
    except OSError as exc:
        if (why := out_of_room(exc)) is None:
            raise
        raise OutFolderError(
            f"{target} could not be written: {why} — nothing of it was "
            f"written, and what was there is kept; free space on its disk (or choose another "
            "place) and run again"
        ) from None


def out_of_room(exc: OSError) -> str | None:
    """Why a write failed, if its disk does not take it (`_NO_ROOM`: "No space left on
    device"); None for any other error."""
    # polars gives the number in its message only: `[Errno 28] No space left on device` (its
    # sinks), `No space left on device (os error 28)`
    found = re.search(r"(?:\[Errno |\(os error )(\d+)", str(exc))
    number = exc.errno or (int(found[1]) if found else None)
    return os.strerror(number) if number in _NO_ROOM else None


def repair(out: Path) -> None:
    """Deal with what killed runs left beside `out`: an old folder set aside and not put back is
    put back (when `out` is missing), every other leftover removed."""
    found = leftovers(out, (".new.previous", ".new"), locked=True)
    for leftover in found:
        if leftover.name.endswith(".previous") and not out.exists():
            os.replace(leftover, out)
        else:
            shutil.rmtree(leftover, ignore_errors=True)
    if found:
        _fsync_folder(out.parent)


def leftovers(path: Path, suffixes: tuple[str, ...], *, locked: bool) -> list[Path]:
    """The temporary files or folders of `path` (ending in one of `suffixes`) whose writer is
    gone: its pid (in the name) names no process, or the name has none (written before pids
    were recorded). `locked`: the caller holds `path`'s lock."""
    pattern = re.compile(
        rf"\.{re.escape(path.name)}\.(?:(\d+)\.)?[0-9a-f]{{12}}"
        rf"({'|'.join(re.escape(s) for s in suffixes)})"
    )
    found = []
    for entry in _entries(path.parent):
        match = pattern.fullmatch(entry.name)
        if match and (match.group(1) is None or _owner_gone(int(match.group(1)), locked)):
            found.append(entry)
    return sorted(found, key=lambda p: not p.name.endswith(".previous"))


def _own_staging(out: Path) -> list[Path]:
    """This process's staging folders of `out`, found by name: one made just as a signal
    (Ctrl-C, SIGTERM) stopped the run, before its name was kept, is found too (one process
    writes a folder at a time: `hold`)."""
    pattern = re.compile(rf"\.{re.escape(out.name)}\.{os.getpid()}\.[0-9a-f]{{12}}\.new")
    return [entry for entry in _entries(out.parent) if pattern.fullmatch(entry.name)]


def _entries(folder: Path) -> Iterator[Path]:
    with contextlib.suppress(FileNotFoundError):
        yield from folder.iterdir()


def _owner_gone(pid: int, locked: bool) -> bool:
    """Whether the writer `pid` is gone. Where pids cannot be checked (not POSIX), a lock held
    by the caller is the proof: no other run writes the same target."""
    if pid == os.getpid():
        return False
    return not process_alive(pid) if os.name == "posix" else locked


def _swap_in(staging: Path, out: Path) -> None:
    """Move `staging` to `out`; the old `out`, if any, is removed only once the new one is in."""
    if not out.exists():
        os.replace(staging, out)
    elif _exchange(staging, out):
        shutil.rmtree(staging, ignore_errors=True)  # now the old content
    else:
        previous = staging.with_name(staging.name + ".previous")
        os.replace(out, previous)
        try:
            os.replace(staging, out)
        except BaseException:
            os.replace(previous, out)
            raise
        shutil.rmtree(previous, ignore_errors=True)
    _fsync_folder(out.parent)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one step (Linux `renameat2`); False where that is not supported."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    done = renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if done == 0:
        return True
    error = ctypes.get_errno()
    if error in _UNSUPPORTED:
        return False
    raise OSError(error, os.strerror(error), str(second))


def _renameat2() -> Callable[..., int] | None:
    if sys.platform != "linux":
        return None
    try:
        return getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    except OSError:
        return None


def _unique(path: Path, suffix: str, make: Callable[[Path], object]) -> Path:
    """A new hidden file or folder beside `path` with a unique name that records this process's
    pid (`make` creates it; the umask applies, so it gets the usual permissions)."""
    while True:
        candidate = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}{suffix}")
        try:
            make(candidate)
            return candidate
        except FileExistsError:
            continue


def _create_file(path: Path) -> None:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))


def _copy_mode(original: Path, temporary: Path) -> None:
    """An existing file keeps its permissions."""
    if original.exists():
        shutil.copymode(original, temporary)


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (not possible on every platform)."""
    with contextlib.suppress(OSError):
        _fsync(folder)


def _fsync_tree(root: Path) -> None:
    for folder, _, files in os.walk(root):
        for name in files:
            _fsync(Path(folder) / name)
        _fsync_folder(Path(folder))


__all__ = ["leftovers", "repair", "replace_folder", "write_file_atomically", "write_with"]
