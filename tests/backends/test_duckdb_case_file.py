"""The cases tables written by DuckDB (`engine.run.case_file`): the database's `COPY … TO` gives
the bytes polars' writer gives (`engine.run.table_files.write_table`) for the values that differ
between the two writers or rounders — doubles below 10⁻⁴, the last bit of a rounding, half-fen
and negative money, nulls, text with commas, quotes, newlines and `#` — and a DuckDB run writes
its cases tables by the database, CSV byte-identical to polars' and Parquet equal in content."""

from __future__ import annotations

import hashlib
import math
import tempfile
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from bench.backends_bench import content
from engine.explainer.explain import explain
from engine.inputs.rundata import Period
from engine.plan import money
from engine.plan.sql import build as b
from engine.plan.sql.duckdb_runner import DuckDB
from engine.plan.sql.results import OnDemand
from engine.run import case_file
from engine.run.decimals import rounded
from engine.run.outputs import fill_outputs
from engine.run.settle import load_data, load_policy, settle
from engine.run.summary import level_rows, stage_rows
from engine.run.table_files import csv_frame, write_table
from policy_dsl import ir
from policy_dsl.errors import PolicyError
from policy_dsl.grains import CASE
from tests.conftest import POLICIES, SAMPLE, shipped_policies
from tests.engine.datasets import datasets, write_dataset

FINITE = st.floats(allow_nan=False, allow_infinity=False)
#: Doubles near the places where the writers or the rounders part: tiny, half-way, huge.
EDGES = st.one_of(
    FINITE,
    st.floats(min_value=-1e-3, max_value=1e-3, allow_nan=False),
    st.integers(-(10**9), 10**9).map(lambda n: n / 10**4 + 0.00005),
    st.integers(-(10**9), 10**9).map(lambda n: n / 100 + 0.005),
    st.sampled_from([0.0, -0.0, 1e-5, -1e-5, 9.99e-5, 1.5e-7, 5e-324, 1e-4, 1e20, 0.285, 1.005]),
)
TEXTS = st.one_of(
    st.none(),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8),
    st.sampled_from(["", "a,b", 'say "hi"', "two\nlines", "cr\rlf\r\n", "#1", " lead", "中文"]),
)


def polars_bytes(frame: pl.DataFrame, money_columns: frozenset[str], fmt: str = "csv") -> bytes:
    """What polars' writer makes of `frame` (after `rounded` and `csv_frame`)."""
    with tempfile.TemporaryDirectory(prefix="drgpolicy-case-file-") as folder:
        path = Path(folder) / f"t.{fmt}"
        write_table(csv_frame(frame.lazy(), money_columns), path)
        return path.read_bytes()


def copied_bytes(frame: pl.DataFrame, columns: list[exp.Expression]) -> bytes:
    """What DuckDB's `COPY` writes of `columns` over `frame` (registered as table `t`)."""
    db = DuckDB()
    try:
        db.register("t", frame)
        query = exp.select(*columns).from_(b.table("t", "c")).order_by(b.col("row", "c"))
        with tempfile.TemporaryDirectory(prefix="drgpolicy-case-file-") as folder:
            path = Path(folder) / "t.csv"
            digest = case_file.copy_query(db, query, path, "csv", {})
            data = path.read_bytes()
    finally:
        db.close()
    assert digest == hashlib.sha256(data).hexdigest()
    return data


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.tuples(EDGES, st.sampled_from([0, 4, 6])), min_size=1, max_size=40))
def test_doubles_rounded_and_written_as_polars_does(rows: list[tuple[float, int]]) -> None:
    values = [v for v, _ in rows]
    digits = rows[0][1]
    frame = pl.DataFrame(
        {"row": range(len(values)), "x": values, "kept": values}, schema_overrides={"x": pl.Float64}
    )
    expected = polars_bytes(
        rounded(
            frame,
            {"x": {0: "count", 4: "ratio", 6: "point_value"}[digits]},
            as_computed=["kept"],
        ).select("x", "kept"),
        frozenset(),
    )
    x = b.cast(b.col("x", "c"), "DOUBLE")
    kept = b.cast(b.col("kept", "c"), "DOUBLE")
    columns = [
        b.alias(case_file.double_text(case_file.polars_round(x, digits)), "x"),
        b.alias(case_file.double_text(kept), "kept"),
    ]
    assert copied_bytes(frame, columns) == expected


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.lists(st.one_of(st.none(), EDGES.filter(lambda v: abs(v) < 1e12)), min_size=1, max_size=40)
)
def test_money_in_fen_as_polars_writes_it(amounts: list[float | None]) -> None:
    """Negative amounts, half a fen either side of the tolerance, nulls: the money rule and the
    2-decimal text."""
    frame = pl.DataFrame(
        {"row": range(len(amounts)), "payment": amounts},
        schema={"row": pl.Int64, "payment": pl.Float64},
    )
    expected = polars_bytes(
        frame.select(money.to_fen(pl.col("payment")).alias("payment")), frozenset()
    )
    payment = case_file._fen_decimal(case_file.to_fen(b.cast(b.col("payment", "c"), "DOUBLE")))
    assert copied_bytes(frame, [b.alias(payment, "payment")]) == expected


def test_half_fen_and_negative_money_by_hand() -> None:
    """1.005 元 (stored as 1.00499…) is 1.01 by the tolerance; −2.675 is −2.68; −0.004 is
    −0.00 in fen 0, written `0.00`; a null stays empty."""
    frame = pl.DataFrame({"row": [0, 1, 2, 3, 4], "payment": [1.005, -2.675, -0.004, None, -1e-9]})
    payment = case_file._fen_decimal(case_file.to_fen(b.cast(b.col("payment", "c"), "DOUBLE")))
    written = copied_bytes(frame, [b.alias(payment, "payment")]).decode()
    assert written == "payment\n1.01\n-2.68\n0.00\n\n0.00\n"


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(TEXTS, min_size=1, max_size=30))
def test_text_and_nulls_quoted_as_polars_quotes_them(texts: list[str | None]) -> None:
    frame = pl.DataFrame(
        {"row": range(len(texts)), "text": texts}, schema={"row": pl.Int64, "text": pl.String}
    )
    expected = polars_bytes(frame.select("text"), frozenset())
    assert copied_bytes(frame, [b.col("text", "c")]) == expected


def test_tiny_doubles_by_hand() -> None:
    """The one place DuckDB's text differs from polars': below 10⁻⁴."""
    values = [1e-5, -1e-5, 9.99e-5, 1.5e-7, -2e-300, 0.0001, 0.0, 1e20]
    frame = pl.DataFrame({"row": range(len(values)), "x": values})
    written = copied_bytes(frame, [b.alias(case_file.double_text(b.col("x", "c")), "x")])
    assert written.decode().splitlines() == [
        "x",
        "0.00001",
        "-0.00001",
        "0.0000999",
        "1.5e-7",
        "-2e-300",
        "0.0001",
        "0.0",
        "1e+20",
    ]


# ---- a run's cases tables written by the database -------------------------------------------


@pytest.fixture(scope="module")
def wuxi() -> tuple[object, object]:
    """Wuxi 2024 (monthly stages whose values the year end reads as computed) on the sample."""
    policy = load_policy(POLICIES / "wuxi" / "2024.policy")
    inputs = load_data(SAMPLE, policy)
    return policy, inputs


@pytest.mark.parametrize(("fmt", "labels"), [("csv", "en"), ("csv", "zh"), ("parquet", "en")])
def test_a_duckdb_run_copies_its_cases_tables(
    wuxi: tuple[object, object], fmt: str, labels: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy, inputs = wuxi
    copied: list[Path] = []
    real = case_file.copy_query

    def spy(db: DuckDB, query: exp.Select, path: Path, fmt: str, metadata: dict[str, str]) -> str:
        copied.append(path)
        return real(db, query, path, fmt, metadata)

    monkeypatch.setattr(case_file, "copy_query", spy)
    polars = settle(policy, inputs, Period.parse("2024"))  # type: ignore[arg-type]
    db = DuckDB()
    with tempfile.TemporaryDirectory() as ours, tempfile.TemporaryDirectory() as theirs:
        try:
            duck = settle(policy, inputs, Period.parse("2024"), backend=db)  # type: ignore[arg-type]
            manifest = fill_outputs(duck, Path(theirs), fmt, labels)
        finally:
            db.close()
        expected = fill_outputs(polars, Path(ours), fmt, labels)
        stages = duck.settling_stages()
        assert sorted(p.relative_to(theirs).as_posix() for p in copied) == sorted(
            f"{s}/cases.{fmt}" for s in stages
        )
        assert manifest.get("headers") == expected.get("headers")
        for stage in stages:
            name = f"{stage}/cases.{fmt}"
            mine, other = Path(ours) / name, Path(theirs) / name
            assert manifest["outputs"][name] == expected["outputs"][name] or fmt == "parquet"
            if fmt == "csv":
                assert other.read_bytes() == mine.read_bytes()
                continue
            a, c = pl.read_parquet(mine), pl.read_parquet(other)
            assert a.schema == c.schema and a.equals(c)
            assert a.schema["payment"] == pl.Decimal(38, 2)
            meta = {
                k: v for k, v in pq.read_metadata(other).metadata.items() if k.startswith(b"drg")
            }
            assert meta == {
                k: v for k, v in pq.read_metadata(mine).metadata.items() if k.startswith(b"drg")
            }


def test_a_closed_database_leaves_the_writing_to_polars(wuxi: tuple[object, object]) -> None:
    policy, inputs = wuxi
    db = DuckDB()
    duck = settle(policy, inputs, Period.parse("2024"), backend=db)  # type: ignore[arg-type]
    db.close()
    assert case_file.in_database(duck, "csv") is None
    polars = settle(policy, inputs, Period.parse("2024"))  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory() as ours, tempfile.TemporaryDirectory() as theirs:
        assert (
            fill_outputs(duck, Path(theirs))["outputs"]
            == fill_outputs(polars, Path(ours))["outputs"]
        )


def test_nothing_below_the_tolerance_is_lost() -> None:
    """The SQL money rule is `money.round_half_away` on the same doubles (an independent path:
    Python's floats)."""
    for amount in (0.125, -0.125, 1234.565, -0.015, 2.5e-3):
        expected = money.round_half_away(amount * 100)
        frame = pl.DataFrame({"row": [0], "payment": [amount]})
        fen = case_file.to_fen(b.cast(b.col("payment", "c"), "DOUBLE"))
        text = copied_bytes(frame, [b.alias(fen, "fen")]).decode().splitlines()[1]
        assert expected is not None and int(text) == int(expected) and not math.isnan(expected)


# ---- the outputs read from the database: the case frame never read back --------------------

SHIPPED = shipped_policies()


def on_demand_outputs(policy: ir.Policy, folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The manifests (backend left out) and summaries of a polars run and of a DuckDB run whose
    case frames are read back only on demand; asserts that the DuckDB run read none back."""
    inputs = load_data(folder, policy)
    period = Period.parse("2024")
    polars = settle(policy, inputs, period)
    db = DuckDB(cases_on_demand=True)
    try:
        duck = settle(policy, inputs, period, backend=db)
        found = []
        for result in (polars, duck):
            with tempfile.TemporaryDirectory(prefix="drgpolicy-on-demand-") as out:
                manifest = fill_outputs(result, Path(out))
                manifest.pop("backend")
                found.append({**manifest, "rows": stage_rows(result), "levels": level_rows(result)})
        for stage in duck.settling_stages():
            frames = duck.stages[stage].frames
            assert isinstance(frames, OnDemand) and CASE in frames.pending, stage
    finally:
        db.close()
    return found[0], found[1]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_outputs_read_from_the_database_equal_polars(path: Path) -> None:
    """Every file's sha256 (the statements, the summary, report.html, indicators.csv), the
    missing outputs and the command's summary — the case frames left in the database."""
    polars, duck = on_demand_outputs(load_policy(path), SAMPLE)
    assert duck == polars


@settings(max_examples=6, deadline=None, derandomize=True)
@given(data=datasets(), path=st.sampled_from(SHIPPED))
def test_generated_data_read_from_the_database_equals_polars(
    data: dict[str, object], path: Path
) -> None:
    """Generated data: cases without a class or a payment (the missing outputs), odd texts."""
    with tempfile.TemporaryDirectory(prefix="drgpolicy-on-demand-") as folder:
        write_dataset(data, Path(folder))  # type: ignore[arg-type]
        policy = load_policy(path)
        try:
            polars, duck = on_demand_outputs(policy, Path(folder))
        except PolicyError:
            return  # refused alike: `test_duckdb.py` checks the words
        assert duck == polars


def test_a_case_frame_is_read_on_demand_and_explained() -> None:
    """The explainer reads a case frame back when it needs it; once the database is closed,
    reading one says why it cannot."""
    policy = load_policy(POLICIES / "xuancheng" / "2024.policy")
    inputs = load_data(SAMPLE, policy)
    polars = settle(policy, inputs, Period.parse("2024"))
    db = DuckDB(cases_on_demand=True)
    duck = settle(policy, inputs, Period.parse("2024"), backend=db)
    case_id = polars.cases()["case_id"][7]
    eager = DuckDB()
    try:
        assert explain(duck, case_id).to_json() == explain(polars, case_id).to_json()
        read_back = settle(policy, inputs, Period.parse("2024"), backend=eager)
        assert duck.cases().equals(read_back.cases())  # the frame read back whole, on demand
    finally:
        db.close()
        eager.close()
    other = DuckDB(cases_on_demand=True)
    unread = settle(policy, inputs, Period.parse("2024"), backend=other)
    other.close()
    with pytest.raises(RuntimeError, match="closed"):
        unread.cases()


def test_the_benchmark_compares_parquet_by_content() -> None:
    """`bench/backends_bench.py`: DuckDB's Parquet of a table equals polars' of the same table
    (other bytes), and not a table with one value changed."""
    frame = pl.DataFrame({"row": [0, 1, 2], "x": [0.5, None, -2.0], "s": ["a", "b,c", None]})
    with tempfile.TemporaryDirectory(prefix="drgpolicy-case-file-") as folder:
        paths = [Path(folder) / f"{n}.parquet" for n in ("polars", "duckdb", "other")]
        frame.write_parquet(paths[0])
        frame.with_columns(pl.col("x").fill_null(0.0)).write_parquet(paths[2])
        db = DuckDB()
        try:
            db.register("t", frame)
            query = exp.select(exp.Star()).from_(b.table("t")).order_by(b.col("row"))
            case_file.copy_query(db, query, paths[1], "parquet", {})
        finally:
            db.close()
        found = [content(path, "") for path in paths]
        assert paths[0].read_bytes() != paths[1].read_bytes()
        assert found[0] == found[1] != found[2]
