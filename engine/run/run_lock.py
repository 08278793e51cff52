"""One run at a time per output folder (运行锁): two runs into one `--out` must not both report
success, the second's outputs silently replacing the first's.

`hold(out)` takes the lock file `.<out>.lock` beside `out` for as long as the block runs, and
refuses (`OutFolderLocked`) when another process holds it, naming its pid. On Linux and macOS the
lock is an `flock` on that file: the kernel drops it when its holder ends, however it ends, so a
killed run leaves no lock behind (its file, if left, is taken over by the next run). Where `flock`
is missing the file is created exclusively (`O_EXCL`) with the holder's pid; a file whose process
is gone is stale and is taken over (where pids cannot be checked, the refusal names the file to
delete). The file is removed when the block ends. Holding a lock
again in the same process (a command that locks its `--out`, then writes it) is allowed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from engine.run.out_folder import OutFolderError
from policy_dsl.errors import PolicyError

fcntl: ModuleType | None
try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

_HELD: dict[Path, int] = {}


class OutFolderLocked(PolicyError):
    """Another run is writing the same output folder."""


def lock_path(out: Path) -> Path:
    """`.<name>.lock` beside `out` (not inside: the folder is replaced as a whole)."""
    out = out.resolve()
    if not out.name:  # `/`: no folder beside it, and nothing to replace
        raise OutFolderError(
            f"--out {out} is the root of the file system; an output folder is replaced as a "
            "whole: give a folder under it (e.g. out/run)"
        )
    return out.with_name(f".{out.name}.lock")


@contextlib.contextmanager
def hold(out: Path) -> Iterator[None]:
    """Hold the lock of `out` while the block runs; raises `OutFolderLocked` if another process
    holds it."""
    key = out.resolve()
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    path = lock_path(key)
    if blocking := next((p for p in path.parents if p.exists() and not p.is_dir()), None):
        raise OutFolderError(f"{out} cannot be written: {blocking} is a file, not a folder")
    made = _make_folders(path.parent)
    try:
        descriptor = _take(path, out)
        _HELD[key] = 1
        try:
            yield
        finally:
            del _HELD[key]
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            os.close(descriptor)
    finally:
        for folder in reversed(made):  # a refused or failed run leaves no empty folder behind
            with contextlib.suppress(OSError):
                folder.rmdir()


def _make_folders(folder: Path) -> list[Path]:
    """Create `folder` and its missing parents; return those created, outermost first."""
    missing = [p for p in [folder, *folder.parents] if not p.exists()][::-1]
    for created in missing:
        with contextlib.suppress(FileExistsError):
            created.mkdir()
    return missing


def _take(path: Path, out: Path) -> int:
    return _take_flock(path, out) if fcntl is not None else _take_exclusive(path, out)


def _take_flock(path: Path, out: Path) -> int:
    assert fcntl is not None
    while True:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(path)
            os.close(descriptor)
            raise _refusal(out, path, holder, stale_hint=False) from None
        if _same_file(descriptor, path):  # not removed by a run that ended meanwhile
            _write_pid(descriptor)
            return descriptor
        os.close(descriptor)


def _take_exclusive(path: Path, out: Path) -> int:
    while True:
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            holder = _holder(path)
            if holder is not None and process_alive(holder):
                raise _refusal(out, path, holder, stale_hint=True) from None
            with contextlib.suppress(FileNotFoundError):
                path.unlink()  # stale: its run is gone
            continue
        _write_pid(descriptor)
        return descriptor


def _same_file(descriptor: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(descriptor), path.stat())
    except FileNotFoundError:
        return False


def _write_pid(descriptor: int) -> None:
    os.ftruncate(descriptor, 0)
    os.write(descriptor, f"{os.getpid()}\n".encode())


def _holder(path: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(path.read_text(encoding="ascii").strip())
    return None


def process_alive(pid: int) -> bool:
    """Whether process `pid` exists (on POSIX; elsewhere assumed alive)."""
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _refusal(out: Path, path: Path, holder: int | None, *, stale_hint: bool) -> OutFolderLocked:
    who = f"pid {holder}" if holder is not None else "a process that is starting"
    path = out.with_name(path.name) if out.name else path  # as the user wrote `--out`
    stale = f"; if no process {holder} runs, delete {path}" if stale_hint else ""
    return OutFolderLocked(
        f"--out {out} is being written by another drgpolicy run ({who}, lock {path}): wait for "
        f"it to finish, or give another --out{stale}"
    )


__all__ = ["OutFolderLocked", "hold", "lock_path", "process_alive"]
