"""`no_cc` in SQL as a join of a table of the ADRGs (`SqlStageRun.no_cc_table`) on the code's
first three letters: every secondary code of the catalog, and a missing one, gives the group the
polars plan gives (`catalog.no_cc_expr`), byte for byte in Xuancheng 2024's outputs, where each
multi-site case adds half its secondary operation's no-CC group's points."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl

from engine.inputs.catalog import no_cc_groups
from engine.plan.sql.duckdb_runner import DuckDB
from engine.run.settle import load_policy
from tests.backends.conformance import same_outputs
from tests.conftest import POLICIES

XUANCHENG = POLICIES / "xuancheng" / "2024.policy"


def test_every_secondary_code_gives_the_no_cc_group_polars_gives(
    sample_cut: Path, tmp_path: Path
) -> None:
    for name in sample_cut.iterdir():
        shutil.copyfile(name, tmp_path / name.name)
    catalog = pl.read_csv(sample_cut / "groups.csv", infer_schema_length=0)
    # a group of an ADRG with neither a …5 nor a …9 group: its no-CC group is missing
    catalog = pl.concat([catalog, catalog.head(1).with_columns(drg_code=pl.lit("ZZ13"))])
    catalog.write_csv(tmp_path / "groups.csv")
    codes = catalog["drg_code"].to_list()
    groups = no_cc_groups(codes)
    assert "ZZ1" not in groups and len(groups) > 100
    cases = pl.read_csv(sample_cut / "cases.csv", infer_schema_length=0)
    secondary = [*codes, ""] * (cases.height // (len(codes) + 1) + 1)
    cases = cases.with_columns(
        multi_site=pl.lit("true"), secondary_drg=pl.Series(secondary[: cases.height])
    )
    cases.write_csv(tmp_path / "cases.csv")
    assert same_outputs(load_policy(XUANCHENG), tmp_path, "2024", DuckDB) is None
