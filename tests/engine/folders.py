"""What an output folder holds, to compare before and after a run (or a kill)."""

from __future__ import annotations

from pathlib import Path


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, by its path relative to it, with its bytes."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def beside(out: Path) -> list[str]:
    """What else lies in `out`'s parent folder (staging folders, lock files…)."""
    return sorted(p.name for p in out.parent.iterdir() if p != out)
