"""Run outputs: per-case results, hospital statements, period summaries, rejects and a manifest,
written atomically (a crashed run leaves the previous outputs, never half files).

Layout of an output folder:

    <out>/manifest.json                  policy, inputs (sha256), row counts, outputs (sha256)
    <out>/rejects.csv                    every rejected input row with its reason
    <out>/<stage>/cases.csv              one row per settled case
    <out>/<stage>/hospitals.csv          one row per hospital (and month, in a monthly stage)
    <out>/<stage>/summary.csv            one row per period (month, or the year)

Money is written as exact decimal text to the fen; the same inputs and policy give byte-identical
files whatever the input row order.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from engine import functions, money
from engine.batch import StageResult, key_columns
from engine.contract import CONTRACT_VERSION
from engine.settle import ENGINE_VERSION, Settlement, case_results, missing_in
from policy_dsl import grains as g

MONEY_COLUMNS = ("payment", "total_cost")


def stage_tables(settlement: Settlement, stage: str) -> dict[str, pl.DataFrame]:
    """The three tables of a settling stage, ready to write."""
    result = settlement.stages[stage]
    cases = case_results(result, settlement.outputs()).with_columns(
        money.to_fen(pl.col("payment")).alias("payment"),
        money.to_fen(pl.lit(result.cases["total_cost"])).alias("total_cost"),
    )
    return {
        "cases": _policy_columns(cases, settlement),
        "hospitals": hospital_statement(result, cases, settlement),
        "summary": period_summary(result, cases, settlement),
    }


def _policy_columns(cases: pl.DataFrame, settlement: Settlement) -> pl.DataFrame:
    policy = settlement.policy
    return cases.with_columns(
        policy_city=pl.lit(policy.city),
        policy_version=pl.lit(policy.version),
        policy_hash=pl.lit(policy.hash),
    )


def _period_keys(result: StageResult) -> list[str]:
    return key_columns(result.period_keys)


def _category_counts(classes: list[str]) -> list[pl.Expr]:
    return [(pl.col("category") == c).sum().alias(f"cases_{c}") for c in classes]


def _classes(result: StageResult) -> list[str]:
    dtype = result.cases.schema["category"]
    return list(dtype.categories) if isinstance(dtype, pl.Enum) else []


def hospital_statement(
    result: StageResult, cases: pl.DataFrame, settlement: Settlement
) -> pl.DataFrame:
    """Per hospital (× month in a monthly stage): cases, cost, points, payment, reports."""
    keys = ["hospital_id", *_period_keys(result)]
    settled = "settled_points" if settlement.policy.method == "points" else "settled_weight"
    totals = cases.group_by(keys).agg(
        pl.len().alias("cases"),
        pl.col("total_cost").sum().alias("total_cost"),
        functions.stable_sum(pl.col(settled)).alias(settled),
        pl.col("payment").sum().alias("payment"),
        *_category_counts(_classes(result)),
    )
    hospitals = settlement.data.hospitals.select("hospital_id", "level", "tier")
    statement = (
        hospitals.join(totals, on="hospital_id", how="left")
        if not _period_keys(result)
        else totals.join(hospitals, on="hospital_id", how="left")
    )
    statement = statement.with_columns(pl.col("cases", "payment", "total_cost").fill_null(0))
    for name in _reports(result, frozenset({"hospital"}) | result.period_keys):
        statement = statement.join(result.value_frame(name), on=keys, how="left")
    return statement.sort(keys)


def period_summary(
    result: StageResult, cases: pl.DataFrame, settlement: Settlement
) -> pl.DataFrame:
    """Per period: cases, cost, points or weight, point value or rate, payment, reports."""
    keys = _period_keys(result)
    method = settlement.policy.method
    settled = "settled_points" if method == "points" else "settled_weight"
    price = "point_value" if method == "points" else "rate"
    aggregates = [
        pl.len().alias("cases"),
        pl.col("total_cost").sum().alias("total_cost"),
        functions.stable_sum(pl.col(settled)).alias(settled),
        pl.col("payment").sum().alias("payment"),
        *_category_counts(_classes(result)),
    ]
    summary = cases.group_by(keys).agg(*aggregates) if keys else cases.select(*aggregates)
    summary = summary.with_columns(period=pl.lit(settlement.period.label))
    if result.home.get(price) == result.period_keys:
        summary = _join_value(summary, result, price, keys)
    budget = _closing_budget(settlement, result)
    if budget is not None:
        summary = _join_value(summary, result, budget, keys).rename({budget: "budget"})
    for name in _reports(result, result.period_keys):
        summary = _join_value(summary, result, name, keys)
    return summary.sort(keys) if keys else summary


def _closing_budget(settlement: Settlement, result: StageResult) -> str | None:
    """The budget the payments close to (from a `closes payment to …` invariant), if any."""
    for invariant in settlement.policy.invariants:
        if (
            invariant.kind == "closes"
            and invariant.target == "payment"
            and invariant.stage in (None, result.stage.name)
            and (
                invariant.budget in result.home
                and result.home[invariant.budget] == result.period_keys
            )
        ):
            return invariant.budget
    return None


def _join_value(
    frame: pl.DataFrame, result: StageResult, name: str, keys: list[str]
) -> pl.DataFrame:
    if not keys:
        return frame.with_columns(pl.lit(result.frame_of(name)[name][0]).alias(name))
    return frame.join(result.value_frame(name), on=keys, how="left")


def _reports(result: StageResult, grain: g.Grain) -> list[str]:
    return [
        d.name
        for d in result.stage.definitions
        if d.report and result.home.get(d.name) == g.normalize(grain)
    ]


# ---- files ----------------------------------------------------------------------


def whole_counts(frame: pl.DataFrame, settlement: Settlement) -> pl.DataFrame:
    """Report values declared `count` written as whole numbers."""
    counts = {
        d.name
        for s in settlement.policy.stages
        for d in s.definitions
        if d.declared_type == "count"
    }
    return frame.with_columns(
        pl.col(c).round().cast(pl.Int64)
        for c in frame.columns
        if c in counts and frame.schema[c].is_float()
    )


def csv_frame(frame: pl.DataFrame, money_columns: frozenset[str] = frozenset()) -> pl.DataFrame:
    """The frame as written: money as exact decimal text to the fen, classes as plain text.
    Money columns are integer fen, or yuan (float) for the names in `money_columns`."""
    columns = []
    for name, dtype in frame.schema.items():
        if name in MONEY_COLUMNS and dtype.is_integer():
            columns.append(_fen_decimal(pl.col(name)).alias(name))
        elif name in money_columns or name in MONEY_COLUMNS or name == "budget":
            columns.append(_fen_decimal(money.to_fen(pl.col(name))).alias(name))
        elif isinstance(dtype, pl.Enum):
            columns.append(pl.col(name).cast(pl.String))
        else:
            columns.append(pl.col(name))
    return frame.select(columns)


def _fen_decimal(fen: pl.Expr) -> pl.Expr:
    """Integer fen as a 2-decimal Decimal: written exactly (`123.45`), faster than text."""
    return fen.cast(pl.Decimal(38, 2)) / 100


def to_csv_bytes(frame: pl.DataFrame, money_columns: frozenset[str] = frozenset()) -> bytes:
    return csv_frame(frame, money_columns).write_csv(float_precision=None).encode("utf-8")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def money_definitions(settlement: Settlement) -> frozenset[str]:
    """Definitions whose values are money (written to the fen)."""
    return frozenset(
        d.name
        for s in settlement.policy.stages
        for d in s.definitions
        if d.type.kind == "number" and (d.type.money, d.type.points) == (1, 0)
    )


def write_outputs(settlement: Settlement, out: Path) -> dict[str, Any]:
    """Write every output into `out` atomically; return the manifest."""
    yuan = money_definitions(settlement)
    tables: dict[str, tuple[pl.DataFrame, frozenset[str]]] = {
        "rejects.csv": (settlement.inputs.rejects, frozenset())
    }
    missing: dict[str, dict[str, int]] = {}
    for stage in settlement.settling_stages():
        for table, frame in stage_tables(settlement, stage).items():
            tables[f"{stage}/{table}.csv"] = (whole_counts(frame, settlement), yuan)
            if table == "cases" and (absent := missing_in(frame, settlement.outputs())):
                missing[stage] = absent

    def write(staging: Path) -> dict[str, Any]:
        hashes = {}
        for name, (frame, money_columns) in tables.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            csv_frame(frame, money_columns).write_csv(path, float_precision=None)
            hashes[name] = _sha256_file(path)
        manifest = build_manifest(settlement, hashes, missing)
        (staging / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
            encoding="utf-8",
        )
        return manifest

    return write_folder_with(out, write)


def build_manifest(
    settlement: Settlement, hashes: dict[str, str], missing: dict[str, dict[str, int]]
) -> dict[str, Any]:
    policy = settlement.policy
    return {
        "engine_version": ENGINE_VERSION,
        "contract_version": CONTRACT_VERSION,
        "ir_version": policy.ir_version,
        "policy": {
            "city": policy.city,
            "version": policy.version,
            "hash": policy.hash,
            "method": policy.method,
        },
        "period": settlement.period.label,
        "stages": list(settlement.stages),
        "inputs": dict(sorted(settlement.inputs.file_hashes.items())),
        "rows": {"cases": settlement.rows, "input_rows_read": settlement.inputs.rows_read},
        "missing_outputs": missing,
        "overrides": {
            "definitions": dict(settlement.settings.definitions),
            "params": dict(settlement.settings.params),
        },
        "outputs": dict(sorted(hashes.items())),
    }


def write_folder_atomically(out: Path, files: dict[str, bytes]) -> None:
    """Write all files into a fresh sibling folder, then swap it into place."""

    def write(staging: Path) -> None:
        for name, data in files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

    write_folder_with(out, write)


def write_folder_with(out: Path, write: Callable[[Path], Any]) -> Any:
    """Let `write` fill a fresh sibling folder, then swap it into place."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        value = write(staging)
        previous = out.with_name(f".{out.name}.previous")
        if out.exists():
            shutil.rmtree(previous, ignore_errors=True)
            os.replace(out, previous)
        os.replace(staging, out)
        shutil.rmtree(previous, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return value
