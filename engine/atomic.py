"""Atomic writes (原子写入): a reader sees the old file (or folder) or the new one, never a part.

- `write_file_atomically(path, data)`: the bytes (or UTF-8 text, written as is) go to a temporary
  file with a unique name in the same folder, are flushed to disk (fsync), then renamed over
  `path` (`os.replace`). An existing file keeps its permissions; a new one gets the usual ones
  (0666 less the umask).
- `write_with(path, write)`: the same, when a library writes the file (`frame.write_parquet`).
- `replace_folder(out, fill)`: `fill` writes a fresh sibling folder, which then takes the place of
  `out`. On Linux the two folders are exchanged in one step (`renameat2` RENAME_EXCHANGE), so
  `out` always exists, old or new. Elsewhere the old folder is first renamed aside and put back if
  the second rename fails; only a hard crash (power loss, SIGKILL) between the two renames leaves
  `out` absent, with its old content intact in `.<name>.<random>.new.previous` beside it.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import secrets
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_UNSUPPORTED = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV}


def write_file_atomically(path: Path, data: bytes | str) -> None:
    """Replace `path` by `data` in one step (text is UTF-8, line endings as given)."""
    content = data.encode("utf-8") if isinstance(data, str) else data
    write_with(path, lambda temporary: temporary.write_bytes(content))


def write_with(path: Path, write: Callable[[Path], object]) -> None:
    """Let `write` fill a temporary file beside `path`, flush it to disk, rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
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
    """Let `fill` write a fresh sibling folder, then put it in the place of `out`."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = _unique(out, ".new", lambda p: os.mkdir(p, 0o777))
    try:
        value = fill(staging)
        _fsync_tree(staging)
        _swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return value


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
    """A new hidden file or folder beside `path` with a unique name (`make` creates it; the
    umask applies, so it gets the usual permissions)."""
    while True:
        candidate = path.with_name(f".{path.name}.{secrets.token_hex(6)}{suffix}")
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


__all__ = ["replace_folder", "write_file_atomically", "write_with"]
