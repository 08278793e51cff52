"""A run's tables as files (输出文件): each table as CSV or Parquet, or all of them as the sheets
of one Excel workbook (`settlement.xlsx`); money as exact decimals to the fen; headers and class
names in Chinese with `--labels zh` (`engine.run.output_labels`). Each file's sha256 is computed
while it is written, for the manifest.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Final, TypeVar, cast

import polars as pl

from engine.plan import money
from engine.run.out_folder import inside
from engine.run.output_labels import in_chinese
from engine.run.progress import step
from engine.run.xlsx import write_workbook
from policy_dsl import ir

#: Money columns the engine computes in fen.
MONEY_COLUMNS = ("payment", "patient_paid", "fund_payment", "total_cost")

#: Output file formats: CSV (the default), Parquet (for province-scale runs: a third of the
#: bytes, written in about half the time; money as DECIMAL(38, 2), classes as text; the policy
#: and period in the file's metadata), or one Excel workbook for the analysts (`engine.run.xlsx`).
FORMATS = ("csv", "parquet", "xlsx")
#: Parquet compression, chosen by measurement (docs/speed.md): snappy costs about what lz4
#: does and writes a third of the CSV's bytes; zstd halves that at twice the time.
PARQUET_COMPRESSION: Final = "snappy"

#: The workbook a run with `--format xlsx` writes, in place of the table files.
WORKBOOK = "settlement.xlsx"

#: A sheet's name in Chinese, by the table it holds.
SHEETS_ZH = {
    "cases": "病例",
    "hospitals": "医疗机构",
    "summary": "汇总",
    "rejects": "拒收记录",
    "deductions": "扣款",
    "indicators": "监测指标",
}


Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def csv_frame(frame: Frame, money_columns: frozenset[str] = frozenset()) -> Frame:
    """The frame as written: money as exact decimals to the fen (classes, an Enum, are written
    as their names). Money columns are integer fen, or yuan (float) for the names in
    `money_columns`. Lazy for a lazy frame: the files are written from it without a copy of the
    table."""
    columns = []
    for name, dtype in frame.collect_schema().items():
        if name in MONEY_COLUMNS and dtype.is_integer():
            columns.append(_fen_decimal(pl.col(name)).alias(name))
        elif name in money_columns or name in MONEY_COLUMNS or name == "budget":
            columns.append(_fen_decimal(money.to_fen(pl.col(name))).alias(name))
        else:
            columns.append(pl.col(name))
    return frame.select(columns)


def _fen_decimal(fen: pl.Expr) -> pl.Expr:
    """Integer fen as a 2-decimal Decimal: written exactly (`123.45`), faster than text (and
    a product by 0.01 is twice as fast as a division by 100)."""
    return fen.cast(pl.Decimal(38, 0)) * pl.lit(Decimal("0.01"))


@dataclass
class Written:
    """What was written: each file's sha256, and with `--labels zh` each table's headers
    (Chinese → name) by file (a workbook's tables by `file#sheet`)."""

    hashes: dict[str, str] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)


Tables = dict[str, tuple[pl.DataFrame, frozenset[str]]]


def write_tables(
    tables: Tables,
    folder: Path,
    fmt: str,
    policy: ir.Policy,
    labels: str = "en",
    metadata: dict[str, str] | None = None,
) -> Written:
    """Write `tables` (by name without suffix: `rejects`, `monthly/cases`…, each with its money
    columns) into `folder` as `fmt`; a Parquet file carries `metadata` (`outputs.file_metadata`)."""
    written = Written()
    shown: dict[str, pl.LazyFrame] = {}
    for name, (frame, money_columns) in tables.items():
        # one chunk: a Parquet file's row groups then do not depend on how the frame was built
        table = csv_frame(frame.rechunk().lazy(), money_columns)
        if labels == "zh":
            table, headers = in_chinese(table, policy)
            written.headers[place(name, fmt, policy)] = headers
        shown[name] = table
    if fmt == "xlsx":
        sheets = {_sheet(name, policy, labels): table.collect() for name, table in shown.items()}
        with HashingFile(inside(folder, WORKBOOK)) as hashing:
            write_workbook(sheets, cast(IO[bytes], hashing))
        written.hashes[WORKBOOK] = hashing.hexdigest()
        return written
    with step("write the tables", total=len(shown)) as counting:
        for name, table in shown.items():
            path = inside(folder, f"{name}.{fmt}")
            path.parent.mkdir(parents=True, exist_ok=True)
            written.hashes[f"{name}.{fmt}"] = write_table(table, path, metadata)
            counting.advance()
    return written


def place(name: str, fmt: str, policy: ir.Policy, labels: str = "zh") -> str:
    """Where a table is: its file, or `settlement.xlsx#<sheet>` (the sheet named in `labels`)."""
    return f"{WORKBOOK}#{_sheet(name, policy, labels)}" if fmt == "xlsx" else f"{name}.{fmt}"


def _sheet(name: str, policy: ir.Policy, labels: str) -> str:
    """A table's sheet: `cases`, `monthly cases`; in Chinese `病例`, `月度结算 病例`."""
    stage, _, table = name.rpartition("/")
    if labels != "zh":
        return f"{stage} {table}" if stage else table
    label = next((s.label for s in policy.stages if s.name == stage), stage)
    return f"{label} {SHEETS_ZH[table]}" if stage else SHEETS_ZH[table]


def write_table(written: pl.LazyFrame, path: Path, metadata: dict[str, str] | None = None) -> str:
    """Write one table as it is written (`csv_frame`, lazy: computed as it is written, never
    held whole) in the format its suffix names (`.csv` or `.parquet`, with `metadata` as the
    file's key-value metadata); return the file's sha256, computed while it is written."""
    with HashingFile(path) as hashing:
        file = cast(IO[bytes], hashing)  # polars needs only `write` and `flush`
        if path.suffix == ".parquet":
            schema = written.collect_schema()
            classes = [pl.col(c).cast(pl.String) for c, t in schema.items() if t == pl.Enum]
            written.with_columns(classes).sink_parquet(
                file, compression=PARQUET_COMPRESSION, metadata=metadata
            )
        else:
            written.sink_csv(file, float_precision=None)
    return hashing.hexdigest()


class HashingFile:
    """A file being written whose sha256 is computed on a second thread as the bytes arrive:
    hashing a 2 GB table after writing it would add three seconds to a 10M-case run."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("wb")
        self._digest = hashlib.sha256()
        self._chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=64)
        self._hasher = threading.Thread(target=self._hash, daemon=True)
        self._hasher.start()

    def _hash(self) -> None:
        while (chunk := self._chunks.get()) is not None:
            self._digest.update(chunk)  # releases the GIL for large chunks

    def write(self, data: bytes) -> int:
        chunk = bytes(data)
        self._chunks.put(chunk)
        return self._file.write(chunk)

    def flush(self) -> None:
        self._file.flush()

    def __enter__(self) -> HashingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._chunks.put(None)
        self._hasher.join()
        self._file.close()

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


__all__ = [
    "FORMATS",
    "MONEY_COLUMNS",
    "WORKBOOK",
    "HashingFile",
    "Written",
    "csv_frame",
    "write_table",
    "write_tables",
]
