"""Import published DRG group lists (病组目录) and map groups to their no-CC sibling.

Accepted formats, one group per line, UTF-8 (a BOM is allowed), blank lines ignored:

- ``.tsv``: ``code<TAB>name`` (e.g. the CHS-DRG 2.0 national list);
- ``.txt``: ``code<SPACE>name``;
- ``.csv``: a header with ``drg_code`` and ``drg_name`` (other columns such as ``weight_rw`` are
  ignored; an empty name is allowed).

A code is an ADRG (MDC letter + letter + digit) plus one severity character — ``1`` with MCC,
``3`` with CC, ``5`` without CC, ``9`` not split; local lists also use ``A``/``B`` or other digits —
or an ambiguous group ``xQY`` (歧义组, no severity). Names lose surrounding ASCII and full-width
(U+3000) spaces; Chinese punctuation is kept.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Collection, Iterator
from pathlib import Path

import polars as pl

from engine.contract import ContractError

CODE = re.compile(r"[A-Z]{2}[0-9][0-9A-Z]|[A-Z]QY")
NAME_SPACE = " \t\r\u3000"


def read_group_list(path: Path) -> pl.DataFrame:
    """The groups of one list: drg_code, name, mdc, adrg, severity (in file order)."""
    rows = list(_csv_rows(path) if path.suffix == ".csv" else _line_rows(path))
    _reject_duplicates(path, rows)
    codes = pl.Series("drg_code", [code for _, code, _ in rows], dtype=pl.String)
    return pl.DataFrame(
        [codes, pl.Series("name", [name for *_, name in rows], dtype=pl.String)]
    ).with_columns(
        mdc=pl.col("drg_code").str.slice(0, 1),
        adrg=pl.col("drg_code").str.slice(0, 3),
        severity=pl.col("drg_code").str.slice(3, 1),
    )


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(
            path.name, None, f"{path.name} could not be read as UTF-8 text: {exc}"
        ) from exc


def _fail(path: Path, line_no: int, line: str, expected: str) -> ContractError:
    return ContractError(
        path.name,
        None,
        f"{path.name}, line {line_no}: {line.strip()!r} is not a group line; expected {expected}",
    )


def _line_rows(path: Path) -> Iterator[tuple[int, str, str]]:
    """(line number, code, name) of a TSV (code TAB name) or TXT (code SPACE name) list."""
    separator, expected = ("\t", "code<TAB>name") if path.suffix == ".tsv" else (" ", "code name")
    for line_no, line in enumerate(_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        code, _, name = line.partition(separator)
        if not CODE.fullmatch(code) or not name.strip(NAME_SPACE):
            raise _fail(path, line_no, line, f"{expected}, e.g. GB25{separator}胃大部切除术")
        yield line_no, code, name.strip(NAME_SPACE)


def _csv_rows(path: Path) -> Iterator[tuple[int, str, str]]:
    """(line number, code, name) of a CSV list with drg_code and drg_name columns."""
    reader = csv.DictReader(_text(path).splitlines())
    if not {"drg_code", "drg_name"} <= set(reader.fieldnames or ()):
        raise ContractError(
            path.name,
            None,
            f"{path.name} has columns {reader.fieldnames}; "
            "expected a header with drg_code and drg_name",
        )
    for record in reader:
        code, name = record["drg_code"], record["drg_name"]
        if code is None or name is None or not CODE.fullmatch(code.strip()):
            raise _fail(
                path,
                reader.line_num,
                ",".join(map(str, record.values())),
                "drg_code,drg_name,… e.g. GB25,胃大部切除术,2.1",
            )
        yield reader.line_num, code.strip(), name.strip(NAME_SPACE)


def _reject_duplicates(path: Path, rows: list[tuple[int, str, str]]) -> None:
    first_line: dict[str, int] = {}
    for line_no, code, _ in rows:
        if code in first_line:
            raise ContractError(
                path.name,
                None,
                f"{path.name}, line {line_no}: group {code} is "
                f"already on line {first_line[code]}; every code must be unique",
            )
        first_line[code] = line_no


def no_cc_code(code: str, known_codes: Collection[str]) -> str:
    """The group a secondary operation is paid at "without CC" (不伴合并症或并发症).

    The same ADRG's '5' group if the catalog has it, else its '9' (not split) group, else the
    code itself (e.g. xQY, 0000 or a list without that ADRG's 5/9 group).

    >>> no_cc_code("GB11", {"GB11", "GB13", "GB15"})
    'GB15'
    >>> no_cc_code("GE29", {"GE29"})
    'GE29'
    >>> no_cc_code("ZZ11", {"GB15"})
    'ZZ11'
    """
    for severity in "59":
        if code[:3] + severity in known_codes:
            return code[:3] + severity
    return code


def no_cc_codes(codes: pl.Series, catalog: pl.DataFrame) -> pl.Series:
    """`no_cc_code` for a whole column, against a catalog with a `drg_code` column."""
    candidates = (
        catalog.select(pl.col("drg_code"))
        .filter(pl.col("drg_code").str.slice(3, 1).is_in(["5", "9"]))
        .sort("drg_code")  # '5' before '9': the first per ADRG wins
        .group_by(pl.col("drg_code").str.slice(0, 3).alias("adrg"), maintain_order=True)
        .first()
    )
    mapping = dict(zip(candidates["adrg"], candidates["drg_code"], strict=True))
    return (
        codes.str.slice(0, 3)
        .replace_strict(mapping, default=codes, return_dtype=pl.String)
        .alias(codes.name)
    )
