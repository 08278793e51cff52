"""The benchmark's hand-written DuckDB plan (`bench/handwritten_duckdb.py`) settles Xuancheng 2024
exactly as the engine's DuckDB backend does: the same `settlement/cases.parquet` (every case's
category, points, coefficient and payment to the fen, in case-id order), hospital statement and
summary — so that its speed is the speed of the same settlement."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from bench import handwritten, handwritten_duckdb
from engine.cli import main as drgpolicy
from engine.synthetic.sample import generate_sample
from tests.conftest import POLICIES

POLICY = POLICIES / "xuancheng" / "2024.policy"
FILES = ("cases", "hospitals", "summary")


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("city50k")
    generate_sample(folder, cases=50_000, seed=11, fmt="parquet")
    return folder


@pytest.fixture(scope="module")
def engine(city: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The engine's outputs: `drgpolicy settle --backend duckdb --format parquet`."""
    out = tmp_path_factory.mktemp("engine")
    command = ["settle", "--policy", str(POLICY), "--data", str(city), "--period", "2024"]
    command += ["--any-date", "--out", str(out), "--format", "parquet", "--backend", "duckdb"]
    assert drgpolicy([*command, "--accept-rejects", "--quiet"]) == 0
    return out / "settlement"


def hand(data: Path, out: Path) -> Path:
    args = ["--data", str(data), "--out", str(out), "--limit", "1GB", "--spill", str(out / "tmp")]
    assert handwritten_duckdb.main(args) == 0
    return out / "settlement"


def assert_same_files(expected: Path, got: Path) -> None:
    for name in FILES:
        assert_frame_equal(
            pl.read_parquet(got / f"{name}.parquet"),
            pl.read_parquet(expected / f"{name}.parquet"),
            check_exact=True,
        )


def test_the_same_files_as_the_engine(city: Path, engine: Path, tmp_path: Path) -> None:
    got = hand(city, tmp_path / "hand")
    assert_same_files(engine, got)
    cases = pl.read_parquet(got / "cases.parquet")
    # every class of the policy occurs, so that agreement means something
    assert set(cases["category"]) == set(handwritten.CLASSES)
    # the year's budget is paid to the fen
    summary = pl.read_parquet(got / "summary.parquet")
    assert cases["payment"].sum() == summary["budget"].item()


def test_cases_read_in_another_order_are_written_by_case_id(
    city: Path, engine: Path, tmp_path: Path
) -> None:
    """The cases' Parquet in reverse order: the same files (the engine orders by case id, and
    the fen left over go to the smaller case id, not to the case read first)."""
    reversed_city = tmp_path / "reversed"
    shutil.copytree(city, reversed_city)
    cases = pl.read_parquet(city / "cases.parquet")
    cases.reverse().write_parquet(reversed_city / "cases.parquet")
    assert_same_files(engine, hand(reversed_city, tmp_path / "hand"))


def test_the_cut_bucket_counts_from_the_largest_remainders() -> None:
    # buckets by remainder, largest first: (bucket, rows, floors)
    counts = [(9.0, 2, 0), (7.0, 3, 0), (4.0, 5, 0)]
    assert handwritten_duckdb.cut_bucket(counts, 1) == (9.0, 1, 2)
    assert handwritten_duckdb.cut_bucket(counts, 2) == (9.0, 2, 2)  # the whole first bucket
    assert handwritten_duckdb.cut_bucket(counts, 4) == (7.0, 2, 3)
    assert handwritten_duckdb.cut_bucket(counts, 10) == (4.0, 5, 5)
