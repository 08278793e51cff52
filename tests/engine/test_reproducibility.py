"""Settlement outputs are exact and reproducible: byte-identical files whatever the input row
order, every input row accounted for, payments closing the budget to the fen."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.inputs.rundata import Period
from engine.plan import money
from engine.run.outputs import write_outputs
from engine.run.settle import EmptyPeriod, load_data, load_policy, settle
from tests.conftest import POLICIES, SAMPLE
from tests.engine.datasets import datasets, write_dataset

XUANCHENG = load_policy(POLICIES / "xuancheng" / "2024.policy")
WUXI = load_policy(POLICIES / "wuxi" / "2024.policy")


def outputs_of(
    policy: Any, folder: Path, out: Path, period: str = "2024", fmt: str = "csv"
) -> dict[str, bytes]:
    result = settle(policy, load_data(folder, policy), Period.parse(period))
    write_outputs(result, out, fmt)
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=datasets(), fmt=st.sampled_from(["csv", "parquet"]))
def test_outputs_do_not_depend_on_row_order(data: dict[str, Any], fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for policy in (XUANCHENG, WUXI):
            forward = outputs_of(policy, write_dataset(data, root / "a"), root / "out-a", fmt=fmt)
            backward = outputs_of(
                policy, write_dataset(data, root / "b", reverse=True), root / "out-b", fmt=fmt
            )
            assert forward.keys() == backward.keys()
            assert all(name.endswith((f".{fmt}", ".json", ".html")) for name in forward)
            for name, content in forward.items():
                if name != "manifest.json":  # it names the input files' hashes, which differ
                    assert content == backward[name], name


def test_parquet_outputs_hold_what_the_csv_outputs_say(tmp_path: Path) -> None:
    result = settle(XUANCHENG, load_data(SAMPLE, XUANCHENG), Period.parse("2024-03"))
    csv_manifest = write_outputs(result, tmp_path / "csv")
    parquet_manifest = write_outputs(result, tmp_path / "parquet", "parquet")
    for table in ("settlement/cases", "settlement/hospitals", "settlement/summary", "rejects"):
        as_csv = pl.read_csv(tmp_path / "csv" / f"{table}.csv", infer_schema=False)
        as_parquet = pl.read_parquet(tmp_path / "parquet" / f"{table}.parquet")
        assert as_parquet.columns == as_csv.columns
        money = [c for c, t in as_parquet.schema.items() if t == pl.Decimal(38, 2)]
        assert "payment" in money or table == "rejects"
        text = as_parquet.with_columns(pl.all().cast(pl.String))  # Decimal(38, 2) as 123.40
        for column in as_csv.columns:
            if column in money or as_parquet.schema[column] == pl.String:
                assert text[column].to_list() == as_csv[column].to_list(), (table, column)
            else:
                assert (
                    as_parquet[column].to_list()
                    == as_csv[column].cast(as_parquet.schema[column]).to_list()
                ), (table, column)
    for manifest in (csv_manifest, parquet_manifest):  # the sha256 of every file written
        folder = tmp_path / ("csv" if manifest is csv_manifest else "parquet")
        for name, digest in manifest["outputs"].items():
            assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=datasets())
def test_payments_close_the_budget_to_the_fen(data: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        inputs = load_data(write_dataset(data, Path(tmp)), XUANCHENG)
    result = settle(XUANCHENG, inputs, Period.parse("2024"))
    if missing := result.missing_outputs():
        # A level none of whose hospitals has history has no coefficient to measure
        # (2024.policy: new_hospital_coefficient): its cases have no settled points, which the
        # run reports and the CLI fails (exit 1) — there is no settlement to close.
        assert set(missing["settlement"]) == {"settled_points"}
        return
    paid = result.cases().select(money.to_fen(pl.col("payment")).sum()).item()
    expected = round(data["budget"]["drg_fund"] * 100)
    assert paid == expected


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=datasets())
def test_every_input_row_is_settled_rejected_or_outside_the_period(data: dict[str, Any]) -> None:
    cases = data["cases"]
    # break a few rows in distinct ways, and move one out of the period
    if len(cases) >= 4:
        cases[0] = {**cases[0], "total_cost": -1}
        cases[1] = {**cases[1], "hospital_id": "NOPE"}
        cases[2] = {**cases[2], "case_id": cases[3]["case_id"]}
    with tempfile.TemporaryDirectory() as tmp:
        inputs = load_data(write_dataset(data, Path(tmp)), XUANCHENG)
    good = cases[4:] if len(cases) >= 4 else cases
    in_march = sum(1 for c in good if c["discharge_date"].startswith("2024-03"))
    if not in_march:  # no accepted case in the period: the run is refused, never empty
        with pytest.raises(EmptyPeriod, match="no case discharged in 2024-03"):
            settle(XUANCHENG, inputs, Period.parse("2024-03"))
        return
    result = settle(XUANCHENG, inputs, Period.parse("2024-03"))
    rows = result.rows
    assert rows["read"] == len(cases)
    assert rows["read"] == rows["settled"] + rows["rejected"] + rows["outside_period"]
    assert rows["settled"] == in_march
    if len(cases) >= 4:
        assert rows["rejected"] >= 4  # the negative cost, the unknown hospital, both duplicates
