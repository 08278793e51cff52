"""The datasets a page runs on (数据集): the bundled sample, a generated city, or uploaded files —
each a data folder with the name the page and the report give it.

An upload is one whole: its cases, hospitals and groups (.csv or .parquet) and its budget.yaml,
uploaded together, with its deductions and assessment scores where it has them (optional: a
policy that reads none needs neither). Parts of one city mixed with another's are wrong money:
200 uploaded cases settled against the sample's whole-city budget are each paid about a hundred
times over. So a part left out is refused, unless the analyst asks for the bundled sample's parts
(`borrow`); the dataset then names the files taken from the sample (`borrowed`), the pages and
the report say so, and nothing is scaled to the uploaded cases. The sample's deductions and
assessments name the sample's hospitals: they are taken only with its hospitals.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.inputs.contract import ContractError
from engine.inputs.reading import EXCEL, excel_words
from engine.run.atomic import replace_folder
from studio.runs import SUPERVISION, TABLES, data_fingerprint

BUDGET = "budget.yaml"
TABLE_SUFFIXES = (".csv", ".parquet")
#: The parts of a dataset, as the messages name them; the supervision files are optional.
PARTS = (*TABLES, BUDGET)
REQUIRED = tuple(part for part in PARTS if part not in SUPERVISION)


@dataclass(frozen=True)
class Dataset:
    """A data folder as a page names it (`label`); for an upload, the files taken from the
    bundled sample (`borrowed`, none unless asked); the encoding of its CSV files (`utf8`, or
    `gbk` for a local folder of files saved by Excel)."""

    folder: Path
    label: str
    borrowed: tuple[str, ...] = ()
    encoding: str = "utf8"


def sample(folder: Path) -> Dataset:
    return Dataset(folder, "the bundled sample")


def generated(folder: Path, cases: int, seed: int) -> Dataset:
    return Dataset(folder, f"a generated city of {cases:,} cases (seed {seed})")


def local(path: str, encoding: str = "utf8") -> Dataset:
    """A data folder on this machine, read as `drgpolicy settle --data` reads one: the page
    loads it with the same loader (`engine.run.settle.load_data`), which says what is missing or
    wrong in the command's words (a folder that does not exist included)."""
    folder = Path(path.strip()).expanduser()
    return Dataset(folder, f"the folder {folder}", encoding=encoding)


def part_of(name: str) -> str | None:
    """The part an uploaded file is (`cases`, …, `budget.yaml`) by its name, or None."""
    if name == BUDGET:
        return BUDGET
    stem, dot, suffix = name.rpartition(".")
    return stem if dot and stem in TABLES and f".{suffix}" in TABLE_SUFFIXES else None


def uploaded(
    cache: Path, uploads: Mapping[str, bytes], sample_folder: Path, *, borrow: bool = False
) -> Dataset:
    """A data folder of the uploaded files (`cases.csv`, `hospitals.parquet`, `budget.yaml`…),
    made once in `cache`. Raises `ContractError` for a file that is no part, two files of one
    part, or a part not uploaded — unless `borrow`: then it is copied from `sample_folder` as it
    is, and named in `borrowed`."""
    found = _parts(uploads)
    missing = [part for part in REQUIRED if part not in found]
    if missing and not borrow:
        raise ContractError(missing[0], None, _incomplete(missing))
    if "hospitals" in missing:  # the sample's supervision rows name the sample's hospitals
        missing += [p for p in SUPERVISION if p not in found and _has(sample_folder, p)]
    borrowed = tuple(
        _sample_file(sample_folder, part).name for part in sorted(missing, key=PARTS.index)
    )
    digest = hashlib.sha256()
    for name in sorted(uploads):
        digest.update(name.encode() + b"\0" + hashlib.sha256(uploads[name]).digest())
    if borrowed:
        digest.update(b"borrowed\0" + data_fingerprint(sample_folder).encode())
    folder = cache / "uploads" / digest.hexdigest()[:16]
    if not folder.is_dir():
        replace_folder(folder, lambda staging: _fill(staging, uploads, sample_folder, borrowed))
    return Dataset(folder, _label(sorted(uploads, key=_order), borrowed), borrowed)


def _parts(uploads: Mapping[str, bytes]) -> dict[str, str]:
    """Each uploaded part and its file; refuses names that are no part and a part twice."""
    unknown = sorted(name for name in uploads if part_of(name) is None)
    for name in unknown:
        stem, _, suffix = name.rpartition(".")
        if stem in TABLES and f".{suffix.lower()}" in EXCEL:
            raise ContractError(name, None, excel_words(name, stem))
    if unknown:
        raise ContractError(
            unknown[0],
            None,
            f"{', '.join(unknown)}: name uploads cases, hospitals, groups, deductions or "
            "assessments (.csv or .parquet) or budget.yaml",
        )
    found: dict[str, str] = {}
    for name in sorted(uploads):
        part = part_of(name)
        assert part is not None
        if part in found:
            raise ContractError(
                name, None, f"{found[part]} and {name} are both {part}: upload one file per part"
            )
        found[part] = name
    return found


def _incomplete(missing: list[str]) -> str:
    named = ", ".join(m if m == BUDGET else f"{m} (.csv or .parquet)" for m in missing)
    return (
        f"the upload has no {named}: a dataset is one whole — upload its cases, hospitals, "
        "groups and budget.yaml together, or choose to take the parts you do not upload from "
        "the bundled sample (as they are: its budget is not scaled to your cases)"
    )


def _has(folder: Path, part: str) -> bool:
    return any((folder / f"{part}{suffix}").is_file() for suffix in TABLE_SUFFIXES)


def _sample_file(folder: Path, part: str) -> Path:
    """The bundled sample's file of a part (the first of .csv, .parquet for a table)."""
    names = [BUDGET] if part == BUDGET else [f"{part}{suffix}" for suffix in TABLE_SUFFIXES]
    for name in names:
        if (folder / name).is_file():
            return folder / name
    raise ContractError(part, None, f"the bundled sample {folder} has no {' or '.join(names)}")


def _fill(
    staging: Path, uploads: Mapping[str, bytes], sample_folder: Path, borrowed: tuple[str, ...]
) -> None:
    for name, data in uploads.items():
        (staging / name).write_bytes(data)
    for name in borrowed:
        shutil.copyfile(sample_folder / name, staging / name)


def _order(name: str) -> int:
    part = part_of(name)
    return PARTS.index(part) if part is not None else len(PARTS)


def _label(uploaded_names: list[str], borrowed: tuple[str, ...]) -> str:
    label = f"uploaded {_listed(uploaded_names)}"
    return f"{label}, with the bundled sample's {_listed(list(borrowed))}" if borrowed else label


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


__all__ = ["BUDGET", "PARTS", "Dataset", "generated", "local", "part_of", "sample", "uploaded"]
