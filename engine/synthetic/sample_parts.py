"""A synthetic city written in parts (分块生成): the cases of `drgpolicy sample --parts N` are
drawn and written one part at a time into one `cases.parquet` (a row group per part), so that a
province's or a nation's hundred million cases are generated in the memory of one part.

Hospitals and groups are drawn once for the whole city, each part's cases from its own seed
(the same arguments give byte-identical files); case ids run on across the parts; a patient
(`person_id`) is admitted within one part only. The budget
sums every part's costs exactly (in fen); the deductions take each hospital's median case cost
from the first part (an estimate of the city's; the deductions are 10–80% of it anyway).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from engine.inputs.fields import TABLES
from engine.run.atomic import write_with
from engine.synthetic.sample import (
    _case_ids,
    _cases,
    _catalog,
    _city,
    _describe,
    _write_table,
    check_arguments,
)
from engine.synthetic.sample_monitoring import with_monitoring_columns
from engine.synthetic.sample_supervision import supervision_frames


def generate_in_parts(
    out_dir: Path, *, cases: int, seed: int, parts: int, year: int = 2024
) -> dict[str, Any]:
    """Write the city as `generate_sample(fmt="parquet")` does, its cases in `parts` parts."""
    check_arguments(cases=cases, seed=seed, year=year, parts=parts)
    n_hospitals = min(300, max(12, cases // 1500))
    catalog = _catalog(np.random.default_rng([seed, 1]))
    city = _city(np.random.default_rng([seed, 2]), n_hospitals, cases, catalog)
    out_dir.mkdir(parents=True, exist_ok=True)
    groups: pl.DataFrame | None = None
    sizes = [cases // parts + (1 if i < cases % parts else 0) for i in range(parts)]
    tiers = dict(city.frame.select("hospital_id", "tier").iter_rows())
    fen: dict[str, int] = {"A": 0, "B": 0, "C": 0, "all": 0}
    first: pl.DataFrame | None = None
    ids = _case_ids(cases)
    columns = [spec.name for spec in TABLES["cases"]]

    def write_cases(path: Path) -> None:
        nonlocal first
        writer: pq.ParquetWriter | None = None
        start = 0
        for part, size in enumerate(sizes):
            nonlocal groups
            frame = _cases(np.random.default_rng([seed, 3, part]), size, year, catalog, city)
            frame = frame.with_columns(ids.slice(start, size).alias("case_id"))
            rng = np.random.default_rng([seed, 5, part])
            frame, groups = with_monitoring_columns(rng, frame, catalog.frame)
            person = pl.col("person_id").str.replace("-", f"-{part:03d}-", literal=True)
            frame = frame.with_columns(person).select(columns)
            start += size
            _add_costs(frame, tiers, fen)
            first = frame if first is None else first
            table = frame.to_arrow()
            writer = writer or pq.ParquetWriter(path, table.schema, compression="zstd")
            writer.write_table(table)
        assert writer is not None
        writer.close()

    (out_dir / "cases.csv").unlink(missing_ok=True)
    write_with(out_dir / "cases.parquet", write_cases)
    assert first is not None and groups is not None
    for kind, table in (("groups", groups), ("hospitals", city.frame)):
        _write_table(out_dir, kind, table, "parquet")  # type: ignore[arg-type]
    supervision = supervision_frames(np.random.default_rng([seed, 4]), city.frame, first, year)
    for kind, frame in supervision.items():
        _write_table(out_dir, kind, frame, "parquet")
    facts = {
        "seed": seed,
        "year": year,
        "format": "parquet",
        "cases": cases,
        "parts": parts,
        "hospitals": n_hospitals,
        "groups": catalog.frame.height,
        "deductions": supervision["deductions"].height,
    }
    return _describe(out_dir, facts, _budget_of(fen), catalog, city)


def _add_costs(frame: pl.DataFrame, tiers: dict[str, str], fen: dict[str, int]) -> None:
    """Add a part's total cost (all cases) and DRG-suitable cost per tier, in whole fen."""
    cents = (pl.col("total_cost") * 100).round().cast(pl.Int64)
    fen["all"] += int(frame.select(cents.sum()).item())
    suitable = frame.filter(pl.col("drg_suitable")).with_columns(
        pl.col("hospital_id").replace_strict(tiers).alias("tier")
    )
    for tier, total in suitable.group_by("tier").agg(cents.sum()).iter_rows():
        fen[tier] += int(total)


def _budget_of(fen: dict[str, int]) -> dict[str, Any]:
    """`engine.synthetic.sample._budget` from exact sums: 97% of the DRG-suitable cost, per tier
    too."""
    suitable = fen["A"] + fen["B"] + fen["C"]
    drg_fund = round(0.97 * suitable / 100)
    return {
        "drg_fund": drg_fund,
        "inpatient_fund": round(drg_fund / 0.8),
        "tier_budget": {tier: round(0.97 * fen[tier] / 100) for tier in "ABC"},
        "totals": {"total_cost": fen["all"] / 100, "drg_fund": drg_fund},
    }
