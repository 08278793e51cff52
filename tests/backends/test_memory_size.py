"""`--memory-limit`: one form for both backends (DuckDB's limit, Spark's driver memory), checked
before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.plan.sql.backends import memory_bytes
from engine.plan.sql.spark_runner import driver_memory
from tests.conftest import POLICIES, SAMPLE
from tests.conftest import run_cli as run


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("200MB", 200_000_000),
        ("1.5GB", 1_500_000_000),
        ("8g", 8_000_000_000),
        ("12GiB", 12 * 2**30),
        (" 3 GB ", 3_000_000_000),
        ("512mib", 512 * 2**20),
        ("1TB", 10**12),
    ],
)
def test_sizes_read_as_duckdb_reads_them(size: str, expected: int) -> None:
    assert memory_bytes(size) == expected


@pytest.mark.parametrize("size", ["lots", "12", "GB", "-1GB", "1.2.3GB", "12 PB", ""])
def test_a_size_without_a_number_and_a_unit_is_refused_by_name(size: str) -> None:
    with pytest.raises(ValueError, match=r"e\.g\. 200MB, 8GB") as error:
        memory_bytes(size)
    assert repr(size) in str(error.value)


def test_spark_is_given_whole_mebibytes_rounded_up() -> None:
    assert driver_memory(None) == "4096m"  # the default, 4 GiB
    assert driver_memory(12 * 2**30) == "12288m"
    assert driver_memory(12_000_000_000) == "11445m"  # 11,444.09 MiB


def test_the_command_refuses_a_bad_size_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "o"
    args = ["settle", "--policy", str(POLICIES / "xuancheng" / "2024.policy")]
    args += ["--data", str(SAMPLE), "--period", "2024", "--out", str(out)]
    with pytest.raises(SystemExit) as stopped:
        run(capsys, *args, "--backend", "spark", "--memory-limit", "lots")
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "--memory-limit" in err and "'lots' is not a memory size" in err and "8GB" in err
    assert not out.exists()
