"""The backends benchmark says PASS, FAIL or NOT RUN for each target of issue 14 from the rows it
measured (`bench/backends_bench.py`): rows made by hand, verdicts read off by hand."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.backends_bench import Largest, table, targets

SIZES = [1_000_000, 10_000_000]


def row(cases: int, backend: str, wall: float, peak: float, **more: Any) -> dict[str, Any]:
    found = {"cases": cases, "backend": backend, "memory_limit": None, "equal": True}
    return found | {"wall_s": wall, "peak_gb": peak, "load_before": 1.0, "load_after": 2.0} | more


def side_by_side() -> list[dict[str, Any]]:
    return [row(n, b, 10.0, 1.0) for n in SIZES for b in ("polars", "duckdb", "spark")]


def test_every_target_met() -> None:
    rows = [*side_by_side(), row(100_000_000, "duckdb", 599.0, 7.9, equal=None)]
    assert [t.split(":")[0] for t in targets(rows, SIZES)] == ["PASS"] * 4


def test_100m_over_the_memory_or_the_time_fails_and_a_missing_run_is_not_run() -> None:
    slow = [*side_by_side(), row(100_000_000, "duckdb", 601.0, 7.9, equal=None)]
    big = [*side_by_side(), row(100_000_000, "duckdb", 300.0, 8.1, equal=None)]
    assert targets(slow, SIZES)[0].startswith("FAIL: DuckDB settles 100,000,000 cases")
    assert targets(big, SIZES)[0].startswith("FAIL")
    assert targets(side_by_side(), SIZES)[0].startswith("NOT RUN")


def test_spark_that_did_not_finish_at_10m_fails_the_spark_and_side_by_side_targets() -> None:
    rows = side_by_side()
    rows[-1] = row(10_000_000, "spark", 1200.0, 3.0, equal=None, failed="stopped after 1200 s")
    verdicts = targets(rows, SIZES)
    assert verdicts[1] == "FAIL: Spark local settles 10,000,000 cases"
    assert verdicts[2].startswith("FAIL: polars, DuckDB and Spark side by side at 1,000,000, ")
    assert verdicts[3] == "PASS: no backend's outputs differ from polars'"
    assert "| 10,000,000 | spark | — | 1200.0 | 3.0 | — | 1.0 → 2.0 | did not finish: stopped" in (
        table(rows)
    )


def test_outputs_different_from_polars_fail() -> None:
    rows = side_by_side()
    rows[1]["equal"] = False
    assert targets(rows, SIZES)[3] == "FAIL: no backend's outputs differ from polars'"
    assert "DIFFERENT" in table(rows)


def test_the_spill_is_the_largest_size_the_folder_reached(tmp_path: Path) -> None:
    watching = Largest(tmp_path)
    (tmp_path / "spill").mkdir()
    (tmp_path / "spill" / "a.block").write_bytes(b"x" * 300_000)
    (tmp_path / "b.block").write_bytes(b"y" * 200_000)
    time.sleep(1.2)  # two looks at least
    (tmp_path / "b.block").unlink()
    assert watching.stop() == 500_000
    shown = table([row(1_000_000, "duckdb", 20.0, 3.0, spill_gb=1.25)])
    assert shown.splitlines()[-1] == (
        "| 1,000,000 | duckdb | — | 20.0 | 3.0 | 1.25 | 1.0 → 2.0 | byte-identical |"
    )
