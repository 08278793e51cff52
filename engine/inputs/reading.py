"""Reading one input file (读取数据文件): CSV or Parquet to raw columns, one rule for both.

- `locate` finds `<kind>.csv` or `<kind>.parquet`; an Excel workbook is refused with how to
  save it as CSV (Excel turns ids such as 000123 into numbers and money into binary fractions).
- CSV is read as UTF-8 (a BOM is fine) or in the `encoding` asked for (`gbk` reads GBK and
  GB18030); a file that is not UTF-8 but reads as GB18030 is named as such, with the fix.
- Both formats then go through one normalisation: duplicate column names are refused with both
  positions; money stored as Float32 and a date stored as a timestamp with a time zone (Parquet)
  are refused; text is trimmed (`raw_value`).
- A CSV row with more or fewer fields than the header is not read into the wrong columns: the
  raw frame says how many fields it has (`FIELDS`), and the loader rejects it with its line.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from engine.inputs.fields import FieldSpec
from engine.inputs.terms import shown
from policy_dsl.errors import PolicyError

#: Raw frame column: the number of fields of a CSV row that has not as many as the header.
FIELDS = "__fields"
#: `--encoding` values: how a CSV file's bytes are read.
ENCODINGS = {"utf8": "utf-8", "gbk": "gb18030"}
#: The suffixes of an Excel workbook, refused by name (`excel_words`).
EXCEL = (".xlsx", ".xlsm", ".xls")


class ContractError(PolicyError):
    """A whole input file is unusable (missing, unreadable, missing a column, bad budget)."""

    def __init__(self, file: str, field: str | None, message: str) -> None:
        super().__init__(message)
        self.file = file
        self.field = field
        self.message = message


@dataclass(frozen=True)
class RawTable:
    """The known columns of one file as read (text for CSV, native types for Parquet), and
    the names of all its columns; a CSV's frame also has `FIELDS`."""

    frame: pl.DataFrame
    columns: list[str]


def locate(data_dir: Path, kind: str) -> Path:
    """`<kind>.csv` or `<kind>.parquet` in `data_dir`: exactly one of them."""
    found = [data_dir / f"{kind}.{ext}" for ext in ("csv", "parquet")]
    present = [path for path in found if path.is_file()]
    if len(present) == 1:
        return present[0]
    if present:
        raise ContractError(
            present[0].name,
            None,
            f"both {kind}.csv and {kind}.parquet are in {data_dir}; keep exactly one",
        )
    for path in found:
        if (what := not_a_file(path)) is not None and not path.is_dir():
            raise ContractError(path.name, None, what)
    for excel in (data_dir / f"{kind}{ext}" for ext in EXCEL):
        if excel.is_file():
            raise ContractError(excel.name, None, excel_words(excel.name, kind))
    folder = next((path for path in found if path.is_dir()), None)
    if folder is not None:
        raise ContractError(
            folder.name,
            None,
            f"{folder.name} in {data_dir} is a folder (of parts, as Spark writes a table), not "
            f"one file: the engine reads one file per table; join the parts into one "
            f"{kind}.parquet, e.g. pl.scan_parquet('parts/*.parquet').sink_parquet("
            f"'{kind}.parquet') with the folder renamed parts",
        )
    raise ContractError(
        f"{kind}.csv",
        None,
        f"{kind} file not found in {data_dir}; expected {kind}.csv or {kind}.parquet",
    )


def not_a_file(path: Path) -> str | None:
    """Why `path`, which is there, is not a file to read: a folder, a device or a pipe, a
    symbolic link to nothing (None when it is a file, or is not there at all)."""
    if path.is_file() or not (path.exists() or path.is_symlink()):
        return None
    what = (
        "a folder"
        if path.is_dir()
        else f"a symbolic link to {path.readlink()}, which does not exist"
        if not path.exists()
        else "a device or a pipe"
    )
    return f"{path.name} in {path.parent} is {what}, not a file: give the file itself"


def excel_words(name: str, kind: str) -> str:
    """Why a workbook named `name`, given for the table `kind`, is not read, and what to save
    instead (the CLI's data folder and the studio's upload alike)."""
    return (
        f"{name} is an Excel workbook, which is not read: Excel turns ids such as 000123 into "
        "numbers and keeps money as binary fractions, so the engine reads only CSV and Parquet. "
        f"In Excel, save the sheet as {kind}.csv with 另存为 → CSV UTF-8（逗号分隔）(*.csv), or "
        "export it from the database as Parquet"
    )


def read_table(path: Path, fields: Sequence[FieldSpec], encoding: str = "utf8") -> RawTable:
    """The columns of `fields` that the file has, checked by the shared rules above; a
    required column that is absent stops the load (`ContractError`)."""
    try:
        if path.suffix == ".csv":
            return _read_csv(path, fields, encoding)
        return _read_parquet(path, fields)
    except UnicodeDecodeError as exc:
        if path.suffix == ".csv" and encoding == "utf8":  # the header line was not UTF-8
            raise ContractError(path.name, None, not_utf8(path)) from None
        raise ContractError(
            path.name,
            None,
            f"{path.name} could not be read as {encoding.upper()} ({exc.reason} at byte "
            f"{exc.start}); without --encoding it is read as UTF-8",
        ) from None
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise unreadable(path, exc, encoding) from exc


def unreadable(path: Path, exc: Exception, encoding: str) -> ContractError:
    if path.suffix == ".csv" and encoding == "utf8" and "utf-8" in str(exc).lower():
        return ContractError(path.name, None, not_utf8(path))
    kind = "CSV (UTF-8, comma-separated, header line)" if path.suffix == ".csv" else "Parquet"
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ContractError(path.name, None, f"{path.name} could not be read as {kind}: {detail}")


def not_utf8(path: Path) -> str:
    """Why a file is not UTF-8: UTF-16 named (`utf16`); else the line of the first bad byte,
    and GBK named if that line and the lines after it (`WINDOW` bytes) read so. The file is read
    in pieces of `PIECE` bytes: a 10 GB GBK cases.csv takes no more memory than a small one."""
    if words := utf16(path):
        return words
    found = _first_not_utf8(path)
    if found is None:
        return f"{path.name} could not be read as UTF-8 text"
    line, text, bad = found
    where = f"line {line} has bytes that are not UTF-8 ({bad!r})"
    try:  # whole lines, unless one line is longer than the window
        sample = text[: text.rfind(b"\n") + 1 or None].decode("gb18030")
    except UnicodeDecodeError:
        return f"{path.name} is not UTF-8: {where}; save it as UTF-8"
    shown_line = sample.split("\n", 1)[0].strip()[:60]
    return (
        f"{path.name} is not UTF-8 but reads as GBK (GB18030), as Excel and many Chinese "
        f"systems save it: {where}, which read as GBK give “{shown_line}”. Save it as UTF-8, or "
        "read it as it is with --encoding gbk"
    )


#: `not_utf8` reads a file in pieces of this many bytes, and reads as GBK at most `WINDOW`
#: bytes from the start of the line of the first byte that is not UTF-8.
PIECE = 1 << 20
WINDOW = 1 << 20
#: How to save a UTF-16 file as the CSV the engine reads.
_SAVE_UTF8 = (
    "as Excel saves “Unicode 文本 (*.txt)”, which is also tab-separated: in Excel save it with "
    "另存为 → CSV UTF-8（逗号分隔）(*.csv)"
)


def utf16(path: Path) -> str | None:
    """The words for a file in UTF-16, or None: named by its byte order mark, or without one by
    its first bytes, every other one 0 (the header's names are ASCII: `c\0a\0s\0e\0`) — which
    is valid UTF-8, so it would be read as names holding NULs."""
    with path.open("rb") as file:
        head = file.read(256)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return f"{path.name} is UTF-16 (its first bytes are a UTF-16 byte order mark), {_SAVE_UTF8}"
    head = head.split(b"\n", 1)[0]  # the first line: the header's names
    head = head[: len(head) // 2 * 2]
    for order, nul, text in (("little", head[1::2], head[::2]), ("big", head[::2], head[1::2])):
        if len(head) >= 4 and not nul.strip(b"\0") and b"\0" not in text:
            return (
                f"{path.name} is UTF-16 ({order}-endian, without a byte order mark: every other "
                f"byte of its first line is 0), {_SAVE_UTF8}"
            )
    return None


def _first_not_utf8(path: Path) -> tuple[int, bytes, bytes] | None:
    """Where a file stops being UTF-8, or None: the line (from 1), `WINDOW` bytes from that
    line's start (or from `WINDOW` bytes before the bad byte, in a line longer than that), and
    the first two bad bytes."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, tail = 1, b""  # tail: the bytes read since the last line break, at most WINDOW
    with path.open("rb") as file:
        while True:
            piece = file.read(PIECE)
            held = len(decoder.getstate()[0])  # the start of a character the last piece cut
            try:
                decoder.decode(piece, final=not piece)
            except UnicodeDecodeError as exc:
                data = tail + piece
                at = len(tail) - held + exc.start
                line += data.count(b"\n", len(tail), at)
                start = data.rfind(b"\n", 0, at) + 1
                while len(data) - start < WINDOW and (more := file.read(PIECE)):
                    data += more
                return line, data[start : start + WINDOW], data[at : at + 2]
            if not piece:
                return None
            line += piece.count(b"\n")
            cut = piece.rfind(b"\n")
            tail = (piece[cut + 1 :] if cut >= 0 else tail + piece)[-WINDOW:]


def _read_parquet(path: Path, fields: Sequence[FieldSpec]) -> RawTable:
    scan = pl.scan_parquet(path)
    names = scan.collect_schema().names()
    known = checked_columns(path.name, fields, names)
    frame = scan.select(known).collect()
    refuse_nested(path.name, frame.schema, fields)
    refuse_float32_money(path.name, frame, fields)
    refuse_zoned_dates(path.name, frame.schema, fields)
    return RawTable(frame, names)


def _read_csv(path: Path, fields: Sequence[FieldSpec], encoding: str) -> RawTable:
    source: Path | bytes = path
    if encoding != "utf8":
        source = path.read_bytes().decode(ENCODINGS[encoding]).encode("utf-8")
    names = _header(source)
    if any("\0" in name for name in names) and (words := utf16(path)):
        raise ContractError(path.name, None, words)
    known = checked_columns(path.name, fields, names)
    positions = {name: i for i, name in enumerate(names)}
    width = len(names)
    body = pl.scan_csv(
        source if isinstance(source, Path) else io.BytesIO(source),
        has_header=False,
        skip_lines=1,
        schema={f"__c{i}": pl.String() for i in range(width + 1)},
        infer_schema=False,
        truncate_ragged_lines=True,
        missing_columns="insert",
    )
    last, extra = pl.col(f"__c{width - 1}"), pl.col(f"__c{width}")
    frame = body.select(
        *[pl.col(f"__c{positions[name]}").alias(name) for name in known],
        (extra.is_not_null() | last.is_null()).alias(FIELDS),
    ).collect()
    return RawTable(_with_field_counts(path.name, frame, source, width), names)


def _header(source: Path | bytes) -> list[str]:
    """The column names on the first line (a BOM dropped)."""
    if isinstance(source, Path):
        with source.open("rb") as stream:
            first = stream.readline()
    else:
        first = source.split(b"\n", 1)[0]
    text = first.decode("utf-8-sig").rstrip("\r\n")
    return next(csv.reader([text]), [])


def checked_columns(file: str, fields: Sequence[FieldSpec], names: Sequence[str]) -> list[str]:
    """The shared column rules: no name twice, every required field present. Returns the
    names of `fields` the file has, in field order."""
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name.strip() and name in seen:
            raise ContractError(
                file,
                name,
                f"{file} has two columns named {name} (columns {seen[name]} and {position}); "
                "the engine would not know which to read: keep one",
            )
        seen[name] = position
    _refuse_misnamed(file, {spec.name for spec in fields}, names)
    required = [spec.name for spec in fields if spec.required]
    missing = [name for name in required if name not in seen]
    if missing:
        raise ContractError(
            file,
            missing[0],
            f"{file} has no column {', '.join(missing)}; "
            f"required columns: {', '.join(required)}; "
            f"columns found: {', '.join(names) or '(none)'}",
        )
    return [spec.name for spec in fields if spec.name in seen]


def _refuse_misnamed(file: str, known: set[str], names: Sequence[str]) -> None:
    """A column named as a field with white space around or capitals (` unreasonable_cost`,
    `LOS`), or misspelt close to a field the file lacks (`unreasonable_costs`), is refused: read
    as another column, its field would be absent — a default (no unreasonable cost, every case
    DRG-suitable) paid in its place, without a word. A column of another name is kept unread."""
    absent = sorted(known - set(names))
    for position, name in enumerate(names, start=1):
        meant = name.strip().lower()
        if name != meant and meant in known:
            raise ContractError(
                file,
                meant,
                f"{file}: column {position} is named '{shown(name)}', not {meant}: with white "
                f"space around it or capitals it is not the field's name, and {meant} would be "
                f"read as absent; name the column {meant}",
            )
        close = [] if name in known else difflib.get_close_matches(meant, absent, 1, NEAR)
        if close:
            raise ContractError(
                file,
                close[0],
                f"{file}: column {position} is named '{shown(name)}', close to the field "
                f"{close[0]}, which the file does not have: {close[0]} would be read as absent "
                f"and its default used; name the column {close[0]} (or, if it is another "
                "column, a name not so close to a field's)",
            )


#: How close a column's name is to a field's to be taken for a misspelling of it (difflib's
#: ratio: `unreasonable_costs` 0.97, `drg_suitible` 0.92; `los_days` to `los` 0.55).
NEAR = 0.85


def refuse_float32_money(file: str, frame: pl.DataFrame, fields: Sequence[FieldSpec]) -> None:
    for spec in fields:
        if spec.dtype != "money" or frame.schema.get(spec.name) != pl.Float32:
            continue
        stored = frame[spec.name].drop_nulls().head(1).to_list()
        example = (
            f" (the first, {stored[0]:.2f}, is stored as {float(stored[0])!r})" if stored else ""
        )
        raise ContractError(
            file,
            spec.name,
            f"{file}: {spec.name} is stored as Float32, which keeps about 7 digits, so amounts "
            f"are not exact to the fen{example}; write money as Float64, a decimal "
            "(e.g. DECIMAL(18, 2)) or an integer",
        )


def refuse_zoned_dates(
    file: str, schema: Mapping[str, pl.DataType], fields: Sequence[FieldSpec]
) -> None:
    """A date stored as a timestamp with a time zone is refused: its day is that of the zone
    it is read in — polars reads the zone stored, DuckDB and Spark their session's — so a
    discharge at 00:30 on 1 January in Shanghai (16:30 on 31 December in UTC) would be settled
    in another month, or another year, depending on the engine and the machine."""
    for spec in fields:
        dtype = schema.get(spec.name)
        if spec.dtype != "date" or not isinstance(dtype, pl.Datetime) or not dtype.time_zone:
            continue
        raise ContractError(
            file,
            spec.name,
            f"{file}: {spec.name} is stored as a timestamp with a time zone ({dtype.time_zone}): "
            "its day depends on the zone it is read in (00:30 on 1 January in Shanghai is 31 "
            "December in UTC), so a case near midnight could be settled in another month; "
            "write the column as a DATE (or a timestamp without a time zone, in local time)",
        )


def refuse_nested(
    file: str, schema: Mapping[str, pl.DataType], fields: Sequence[FieldSpec]
) -> None:
    """A field stored as a list, an array or a struct (Parquet) is refused: several values in
    one cell are no value of the field — polars could not read them as text, and every row
    would have been rejected on DuckDB."""
    for spec in fields:
        dtype = schema.get(spec.name)
        if dtype is None or not dtype.is_nested():
            continue
        raise ContractError(
            file,
            spec.name,
            f"{file}: {spec.name} is stored as {dtype}, several values in one cell, where each "
            f"row holds one {spec.dtype} value: write the column as a plain column of "
            f"{spec.dtype} values (engine/CONTRACT.md)",
        )


# ---- CSV rows that do not fit the header ---------------------------------------------------


def _with_field_counts(
    file: str, frame: pl.DataFrame, source: Path | bytes, width: int
) -> pl.DataFrame:
    """`FIELDS`: null for a row with as many fields as the header, else its count. Only the
    rows whose last field is empty or that have an extra one are counted again (rarely any)."""
    suspect = frame[FIELDS]
    if not suspect.any():
        return frame.with_columns(pl.lit(None, pl.Int64).alias(FIELDS))
    counts = _field_counts(source, frame.height)
    if counts.len() != frame.height:
        raise ContractError(
            file,
            None,
            f"{file}: its {frame.height} rows could not be matched to its lines (a line break or "
            'a quote inside a value that is not quoted as CSV quotes it: "职工\n异地"); '
            "save it again as CSV from the program that made it",
        )
    wrong = pl.when(suspect & (counts != width)).then(counts)
    return frame.with_columns(wrong.alias(FIELDS))


def _field_counts(source: Path | bytes, rows: int) -> pl.Series:
    """Fields per data row: commas outside quotes per line, when every row is one line (no
    quoted line break); else Python's csv reader over the whole file."""
    lines = pl.scan_csv(
        source if isinstance(source, Path) else io.BytesIO(source),
        has_header=False,
        skip_lines=1,
        separator="\x1f",
        quote_char=None,
        schema={"line": pl.String()},
    ).collect()["line"]
    if lines.len() == rows and not (lines.str.count_matches('"', literal=True) % 2 == 1).any():
        unquoted = lines.fill_null("").str.replace_all('"[^"]*"', "")
        return (unquoted.str.count_matches(",", literal=True) + 1).cast(pl.Int64)
    data = source.read_bytes() if isinstance(source, Path) else source
    text = data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", " ")  # as polars
    records = csv.reader(io.StringIO(text, newline=""))
    next(records, None)
    return pl.Series([len(record) for record in records], dtype=pl.Int64)
