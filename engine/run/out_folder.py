"""What an output folder may replace (输出目录): `--out` is replaced as a whole, so it must be new,
empty, or exactly the output of an earlier run of the same kind — never a folder that merely
holds a file named `manifest.json`, never one that is or holds the run's inputs.

An earlier output is recognised by its marker file (`manifest.json` of a settlement,
`whatif.json` of a what-if report): JSON whose `"drgpolicy"` entry names the kind, and a folder
whose every other entry is a file that kind of run writes — for a settlement, the files its
manifest lists under `outputs`; a folder that holds only such outputs (`<city>-<version>/`, a
run over a policy folder) is one too. Anything else in it — a file the run did not write, a
symbolic link, a manifest without the marker — and the folder is refused, nothing written.

Every reader of a marker (`--out`, `--previous`, `--earlier`, `drgpolicy monitor`) reads it with
`read_marker`: a regular file of at most `MARKER_BYTES`, never a pipe that would wait forever or a
file of hundreds of MB held in memory.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from engine.inputs.fields import TABLES
from policy_dsl.errors import PolicyError

#: The entry of a marker file that says which drgpolicy run wrote the folder.
MARKER_KEY = "drgpolicy"


@dataclass(frozen=True)
class Kind:
    """A kind of output folder: its marker file, the marker's value, what it is called, and the
    files a run of this kind writes (when fixed; a settlement lists them in its manifest)."""

    marker: str
    name: str
    what: str
    files: frozenset[str] = frozenset()


SETTLEMENT = Kind("manifest.json", "settle", "settlement")
#: A generated city (`drgpolicy sample`): its data files in either format and its README.
SAMPLE = Kind(
    "sample.json",
    "sample",
    "sample",
    frozenset(
        {f"{table}.{ext}" for table in TABLES for ext in ("csv", "parquet")}
        | {"budget.yaml", "README.md", "sample.json"}
    ),
)
WHATIF = Kind(
    "whatif.json",
    "whatif",
    "what-if report",
    frozenset({"report.html", "summary.md", "whatif.json"}),
)

#: A policy rendered as a document (`drgpolicy render`), and its redline against another.
RENDER = Kind(
    "render.json",
    "render",
    "policy document",
    frozenset({"render.json", "policy.html", "policy.pdf", "redline.html", "redline.pdf"}),
)


#: The most a marker file is read up to. A settlement's `manifest.json` is 5–50 kB, a few MB at
#: most when its `replaced` names every hospital whose money moved; a larger one is no run's
#: (and JSON costs three times its size in memory).
MARKER_BYTES = 32_000_000


def read_marker(path: Path) -> object:
    """The JSON of a run's marker file (`manifest.json`, `whatif.json`, …). OSError when it
    cannot be read; ValueError, in words, when it is a pipe, a device or a folder, is larger
    than a run writes (`MARKER_BYTES`), or is not JSON in UTF-8."""
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise ValueError("a device, a pipe or a folder, not a file a run writes")
    if info.st_size > MARKER_BYTES:
        raise ValueError(
            f"{info.st_size:,} bytes, more than the {MARKER_BYTES:,} a run's {path.name} is read "
            "up to (a run writes 5–50 kB)"
        )
    return json.loads(path.read_text(encoding="utf-8"))


class OutFolderError(PolicyError):
    """An output folder whose replacement would delete something that is not an earlier output."""


def check_out_folder(out: Path, kind: Kind, protect: Iterable[Path] = ()) -> None:
    """Refuse to replace `out` when it is (or holds) a protected path — the data folder, a policy
    file — or when it exists, is not empty and is not an earlier output of `kind`."""
    check_not_input(out, protect)
    target = out.resolve()
    if target.exists() and not target.is_dir():
        raise OutFolderError(f"--out {out} is a file, not a folder: give a folder for the outputs")
    if not target.is_dir() or not any(target.iterdir()):
        return
    problem = not_earlier_output(target, kind)
    if problem is not None and kind == SETTLEMENT and not (target / kind.marker).exists():
        problem = _not_outputs_of_runs(target, kind) or None
    if problem is not None:
        raise OutFolderError(
            f"--out {out} already exists and holds other files ({problem}); the outputs "
            "replace the whole folder, which would delete them: give a new or empty folder "
            "(e.g. out/run)"
        )


def not_earlier_output(folder: Path, kind: Kind) -> str | None:
    """Why `folder` is not the output of an earlier run of `kind` (None when it is)."""
    marker = folder / kind.marker
    if marker.is_symlink() or not marker.is_file():
        return f"no {kind.marker} of an earlier {kind.what}"
    try:
        content = read_marker(marker)
    except (json.JSONDecodeError, UnicodeDecodeError):
        content = None
    except (OSError, ValueError) as exc:  # too large, a pipe, unreadable: no run's, said why
        return f"its {kind.marker} is no {kind.what}'s: {exc}"
    if not isinstance(content, dict) or content.get(MARKER_KEY) != kind.name:
        older = (
            " — an output of an older drgpolicy has none: delete it yourself"
            if (isinstance(content, dict) and "engine_version" in content)
            else ""
        )
        return (
            f"its {kind.marker} is not one a drgpolicy {kind.what} writes "
            f'(no "{MARKER_KEY}": "{kind.name}"{older})'
        )
    written = {kind.marker, *kind.files, *_listed_outputs(content)}
    stranger = next((name for name in _entries(folder) if name not in written), None)
    if stranger is not None:
        return f"{stranger}, which a drgpolicy {kind.what} does not write"
    return None


def _listed_outputs(manifest: dict[str, object]) -> list[str]:
    outputs = manifest.get("outputs")
    return [name for name in outputs if isinstance(name, str)] if isinstance(outputs, dict) else []


def _entries(folder: Path) -> list[str]:
    """Every file (and symbolic link) under `folder`, as a path relative to it; a folder counts
    only when empty (the files in it are listed)."""
    found = []
    for root, folders, files in os.walk(folder):
        here = Path(root).relative_to(folder)
        links = [name for name in folders if (Path(root) / name).is_symlink()]
        found += [(here / name).as_posix() for name in [*files, *links]]
        if not folders and not files and root != str(folder):
            found.append(here.as_posix() + "/")
    return sorted(found)


def _not_outputs_of_runs(folder: Path, kind: Kind) -> str:
    """Why `folder` is not the output of a run over a policy folder — one `<city>-<version>/`
    per policy, each an earlier output of `kind` — or "" when it is."""
    problems = {
        entry.name: (
            not_earlier_output(entry, kind)
            if entry.is_dir() and not entry.is_symlink()
            else f"a drgpolicy {kind.what} does not write {entry.name}"
        )
        for entry in sorted(folder.iterdir())
    }
    runs = [name for name in problems if (folder / name / kind.marker).is_file()]
    if not runs:
        return f"no {kind.marker} of an earlier {kind.what}"
    name = next((n for n in [*runs, *problems] if problems[n] is not None), None)
    return f"{name}: {problems[name]}" if name is not None else ""


def check_not_input(out: Path, inputs: Iterable[Path]) -> None:
    """Refuse an output folder that is, or holds, one of `inputs`."""
    target = out.resolve()
    for path in inputs:
        kept = Path(path).resolve()
        if kept == target or kept.is_relative_to(target):
            where = "is" if kept == target else "contains"
            raise OutFolderError(
                f"--out {out} {where} {path}, an input of this run; an output folder is "
                "replaced as a whole, so it must not hold the inputs: give another folder "
                "(e.g. out/run)"
            )


def inside(folder: Path, name: str) -> Path:
    """`folder / name`, proved to lie under `folder` once resolved (no `..`, no absolute name,
    no symbolic link leading out): every path an output is written to is made here."""
    base = folder.resolve()
    path = (base / name).resolve()
    if path == base or not path.is_relative_to(base):
        raise OutFolderError(
            f"{name!r} would be written outside the output folder {folder}: refused"
        )
    return path


__all__ = [
    "MARKER_KEY",
    "RENDER",
    "SETTLEMENT",
    "WHATIF",
    "Kind",
    "OutFolderError",
    "check_not_input",
    "check_out_folder",
    "inside",
    "not_earlier_output",
]
