"""Hostile data files (issue 10): whatever the folder holds — NaN, inf, 1e300, negative amounts,
huge strings, BOMs, text where numbers go, duplicate ids, rows that do not fit the header, empty
files, odd budgets — a run either settles with every case row accounted for
(read = settled + rejected + outside the period) and finite money, or stops with a project error
(`PolicyError`): never a traceback."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from engine.inputs.rundata import Period
from engine.run.settle import load_data, load_policy, settle
from policy_dsl.errors import PolicyError
from tests.conftest import POLICIES

POLICY = load_policy(POLICIES / "xuancheng" / "2024.policy")
HOSTILE = [
    "NaN", "nan", "inf", "-inf", "1e300", "-1e300", "1e-300", "-5", "0", "", " ", "abc",
    "12.345", "1,000", "9" * 400, "\ufeff1", "是", "true", "2024-02-30", "2024/03/01",
    "0x10", "1e309", "-0", "+3", "３", "\t7 ", '"', "C1\nC2",
]  # fmt: skip
HOSPITAL_IDS = ["H1", "H2", "H3", " H1"]
CODES = ["GB29", "ES35", "0000", "AQY", "ZZ99"]


def chance(percent: int) -> st.SearchStrategy[bool]:
    """True `percent` times in a hundred (false when shrunk)."""
    return st.integers(0, 99).map(lambda n: n >= 100 - percent)


@st.composite
def _hostile_or(draw: st.DrawFn, good: st.SearchStrategy[str]) -> str:
    if not draw(chance(6)):
        return draw(good)
    return draw(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30)))


def _value(good: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return _hostile_or(good)


def _row(fields: dict[str, st.SearchStrategy[str]]) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries({name: _value(good) for name, good in fields.items()})


HOSPITAL = _row(
    {
        "hospital_id": st.sampled_from(HOSPITAL_IDS),
        "level": st.sampled_from(["0", "1", "2", "3"]),
        "is_new": st.sampled_from(["true", "false"]),
        "hist_avg_cost": st.sampled_from(["0", "8000", "12000.5"]),
        "hist_weight_total": st.sampled_from(["0", "400", "3000"]),
    }
)
GROUP = _row(
    {
        "drg_code": st.sampled_from(CODES[:2]),
        "weight": st.sampled_from(["0.55", "1.25", "3.4"]),
        "avg_cost": st.sampled_from(["6600.00", "15000", "40800.00"]),
    }
)
CASE = _row(
    {
        "case_id": st.sampled_from([f"C{i}" for i in range(12)]),
        "hospital_id": st.sampled_from(HOSPITAL_IDS),
        "drg_code": st.sampled_from(CODES),
        "total_cost": st.sampled_from(["100", "6543.21", "20000", "150000.99"]),
        "discharge_date": st.sampled_from(["2024-03-01", "2024-11-30", "2023-12-31"]),
        "bilateral": st.sampled_from(["false", "true"]),
        "unreasonable_cost": st.sampled_from(["0", "50"]),
        "patient_paid": st.sampled_from(["0", "2000.00"]),
        "los": st.sampled_from(["3", "12"]),
    }
)
BUDGET = st.sampled_from(
    ["1e8", "123456.78", "0", "-1", ".nan", ".inf", "lots", "{A: 1}", "1.234", "1e400", "''"]
)


@st.composite
def table_text(draw: st.DrawFn, rows: st.SearchStrategy[dict[str, str]]) -> bytes:
    """A CSV file: proper (quoted) or raw (joined by commas, so a comma or quote in a value
    makes a row that does not fit), sometimes with a BOM, sometimes empty or header only."""
    shape = "csv" if not draw(chance(20)) else draw(st.sampled_from(["raw", "empty", "header"]))
    if shape == "empty":
        return b""
    records = draw(st.lists(rows, min_size=1, max_size=8))
    columns = list(records[0])
    if draw(chance(10)):
        columns.remove(draw(st.sampled_from(columns)))
    if shape == "raw":
        lines = [",".join(columns)] + [",".join(r[c] for c in columns) for r in records]
        text = "\n".join(lines) + "\n"
    else:
        out = io.StringIO()
        writer = csv.DictWriter(out, columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(records if shape == "csv" else [])
        text = out.getvalue()
    bom = "\ufeff" if draw(st.booleans()) else ""
    return (bom + text).encode("utf-8")


@st.composite
def folders(draw: st.DrawFn) -> dict[str, bytes]:
    tier = draw(BUDGET) if draw(chance(25)) else "3.3e8"
    budget = f'contract_version: "1.0"\nyear: 2024\nvalues:\n  drg_fund: {tier}\n'
    if draw(chance(10)):
        budget += f"  drg_fund: {draw(BUDGET)}\n"  # a key given twice
    return {
        "hospitals.csv": draw(table_text(HOSPITAL)),
        "groups.csv": draw(table_text(GROUP)),
        "cases.csv": draw(table_text(CASE)),
        "budget.yaml": budget.encode("utf-8"),
    }


def _as_parquet(folder: Path, name: str) -> None:
    """A table moved to Parquet (all text columns) when polars can read the CSV at all."""
    try:
        frame = pl.read_csv(folder / name, infer_schema=False)
    except pl.exceptions.PolarsError:
        return
    (folder / name).unlink()
    frame.write_parquet(folder / name.replace(".csv", ".parquet"))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(files=folders(), parquet=st.sampled_from([None, "cases.csv", "hospitals.csv"]))
def test_hostile_data_settles_with_every_row_accounted_for_or_stops_with_a_project_error(
    files: dict[str, bytes], parquet: str | None
) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for file, data in files.items():
            (folder / file).write_bytes(data)
        if parquet:
            _as_parquet(folder, parquet)
        try:
            result = settle(POLICY, load_data(folder, POLICY), Period.parse("2024"))
        except PolicyError as exc:
            event(f"stopped: {type(exc).__name__}")
            return
        event("settled")
        rows = result.rows
        assert rows["read"] == rows["settled"] + rows["rejected"] + rows["outside_period"]
        assert min(rows.values()) >= 0
        payments = result.cases()["payment"].drop_nulls()
        assert payments.is_finite().all()
        assert payments.abs().max() is None or payments.abs().max() <= 2**53 / 100  # type: ignore[operator]
