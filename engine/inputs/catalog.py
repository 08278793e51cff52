"""Import published DRG group lists (病组目录) and map groups to their no-CC sibling (the one
rule for `no_cc`, used by both evaluation paths).

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
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import polars as pl

from engine.inputs.contract import ContractError

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


def no_cc_groups(codes: Iterable[str]) -> dict[str, str]:
    """The group without CC (不伴合并症或并发症) of each ADRG of a group list: its ``…5`` group,
    else its ``…9`` (not split) group. An ADRG with neither is left out: none of its groups is
    paid "without CC" (taking its own ``…1``/``…3`` would pay an MCC or CC group instead).

    >>> no_cc_groups(["GB11", "GB13", "GB15", "GE29", "XA11", "XA13"])
    {'GB1': 'GB15', 'GE2': 'GE29'}
    """
    known = set(codes)
    groups = {}
    for adrg in sorted({code[:3] for code in known}):
        found = next((adrg + s for s in "59" if adrg + s in known), None)
        if found is not None:
            groups[adrg] = found
    return groups


def no_cc_code(code: str | None, groups: Mapping[str, str]) -> str | None:
    """The group a secondary operation is paid at without CC: the no-CC group (`no_cc_groups`)
    of the code's ADRG, or missing (None) when the list has none — also for an ambiguous group
    (xQY), ``0000`` or an empty code.

    >>> groups = no_cc_groups(["GB11", "GB13", "GB15", "XA11"])
    >>> no_cc_code("GB11", groups), no_cc_code("GB17", groups), no_cc_code("XA11", groups)
    ('GB15', 'GB15', None)
    """
    return None if code is None else groups.get(code[:3])


def no_cc_expr(codes: pl.Expr, groups: Mapping[str, str]) -> pl.Expr:
    """`no_cc_code` on a column of codes (the batch plan)."""
    adrg = codes.str.slice(0, 3)
    if not groups:
        return pl.lit(None, dtype=pl.String)
    return adrg.replace_strict(groups, default=None, return_dtype=pl.String)
