"""What an output folder holds, to compare before and after a run (or a kill)."""

from __future__ import annotations

import json
from pathlib import Path


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, by its path relative to it, with its bytes."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def settled(folder: Path) -> dict[str, bytes]:
    """`snapshot`, each `manifest.json` without `replaced` — what a run into the folder of an
    earlier run records of it (`engine.run.replaced`) — so that a run into a used folder compares
    with the same run into a new one."""
    found = snapshot(folder)
    for name, content in found.items():
        if name.endswith("manifest.json"):
            manifest = json.loads(content)
            manifest.pop("replaced", None)
            text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True)
            found[name] = (text + "\n").encode()
    return found


def beside(out: Path) -> list[str]:
    """What else lies in `out`'s parent folder (staging folders, lock files…)."""
    return sorted(p.name for p in out.parent.iterdir() if p != out)
