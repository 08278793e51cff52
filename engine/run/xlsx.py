"""The outputs as one Excel workbook (`--format xlsx`, written by XlsxWriter): one sheet per table
— each stage's cases, hospitals and summary, the rejects, the deductions — in the order of the
files a CSV run writes.

An Excel sheet holds 1,048,576 rows; a table longer than `SHEET_ROWS` rows under its header goes
on in a sheet of the same name numbered `(2)`, `(3)`… (a province's year of cases). Money is a
number with two decimals, exact to the fen (the yuan value nearest the fen amount, shown with
`0.00`); a date is a date cell (`yyyy-mm-dd`); other numbers as written to CSV. The file is
byte-reproducible: the same tables give the same bytes (its creation date is fixed, `CREATED`).
Text is written as text, whatever it starts with: a case id `=1+1` or `=cmd|…` from a hostile
case file is not a formula in the workbook, nor `http://…` a live link (XlsxWriter makes both by
default — the "CSV injection" of a spreadsheet).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import IO

import polars as pl
import xlsxwriter

from engine.run.progress import Counting, step

#: Rows of data a sheet takes under its header row (Excel's limit is 1,048,576 rows).
SHEET_ROWS = 1_048_575
#: Rows written between two reports of progress.
PROGRESS_ROWS = 10_000
#: The workbook's creation date, fixed so that the file does not change from run to run.
CREATED = dt.datetime(2000, 1, 1)
#: The longest sheet name Excel accepts, and the characters it refuses in one.
NAME_LENGTH = 31
_REFUSED = str.maketrans({c: "_" for c in "[]:*?/\\"})


def write_workbook(sheets: dict[str, pl.DataFrame], file: IO[bytes]) -> None:
    """Write each table as a sheet of one workbook into `file` (money columns as Decimal, as
    `outputs.csv_frame` makes them)."""
    options = {
        "constant_memory": True,
        "default_date_format": "yyyy-mm-dd",
        "strings_to_formulas": False,
        "strings_to_urls": False,
    }
    workbook = xlsxwriter.Workbook(file, options)
    workbook.set_properties({"created": CREATED})
    money = workbook.add_format({"num_format": "0.00"})
    rows = sum(frame.height for frame in sheets.values())
    with step("write the workbook", total=rows) as counting:
        for name, frame in sheets.items():
            for title, part in _sheet_parts(name, frame):
                _write_sheet(workbook.add_worksheet(title), part, money, counting)
        workbook.close()  # the sheets are zipped here: a tenth of the time


def sheet_name(text: str) -> str:
    """`text` as a sheet name Excel accepts: no `[]:*?/\\`, at most 31 characters."""
    return text.translate(_REFUSED)[:NAME_LENGTH]


def _sheet_parts(name: str, frame: pl.DataFrame) -> Iterator[tuple[str, pl.DataFrame]]:
    """The sheets a table takes: one, or one per `SHEET_ROWS` rows (`cases`, `cases (2)`…)."""
    yield sheet_name(name), frame.head(SHEET_ROWS)
    for number, start in enumerate(range(SHEET_ROWS, frame.height, SHEET_ROWS), start=2):
        suffix = f" ({number})"
        yield sheet_name(name)[: NAME_LENGTH - len(suffix)] + suffix, frame.slice(start, SHEET_ROWS)


def _write_sheet(
    sheet: xlsxwriter.worksheet.Worksheet, frame: pl.DataFrame, money: object, counting: Counting
) -> None:
    decimal = [dtype == pl.Decimal or isinstance(dtype, pl.Decimal) for dtype in frame.dtypes]
    sheet.write_row(0, 0, frame.columns)
    for column, is_money in enumerate(decimal):
        if is_money:
            sheet.set_column(column, column, None, money)
    plain = frame.with_columns(
        pl.col(name).cast(pl.Float64)
        for name, is_money in zip(frame.columns, decimal, strict=True)
        if is_money
    ).with_columns(pl.col(pl.Enum, pl.Categorical).cast(pl.String))
    for row, values in enumerate(plain.iter_rows(), start=1):
        sheet.write_row(row, 0, values)  # None: an empty cell
        if row % PROGRESS_ROWS == 0:
            counting.advance(PROGRESS_ROWS)
    counting.advance(frame.height % PROGRESS_ROWS)


__all__ = ["CREATED", "SHEET_ROWS", "sheet_name", "write_workbook"]
