"""Run outputs: per-case results, hospital statements, period summaries, rejects and a manifest,
written into a fresh folder that then takes the place of `out` (`engine.run.atomic.replace_folder`):
a failed or interrupted run leaves the previous outputs, never half files. An existing `out` is
replaced only if it is empty or exactly an earlier output (`engine.run.out_folder`), never if it is
or holds the run's data folder or policy files; `out`'s lock is held while it is checked and
replaced (`engine.run.run_lock`).

Layout of an output folder:

    <out>/manifest.json                  policy, inputs (sha256), row counts, outputs (sha256)
    <out>/rejects.csv                    every rejected input row with its reason
    <out>/deductions.csv                 every deduction of the period, the stage applying it
    <out>/<stage>/cases.csv              one row per settled case
    <out>/<stage>/hospitals.csv          one row per hospital (and month, in a monthly stage)
    <out>/<stage>/summary.csv            one row per period (month, or the year)
    <out>/report.html                    the period's totals as one page with charts

With `--format parquet` the tables are `.parquet` files; with `--format xlsx` they are the
sheets of one workbook, `settlement.xlsx` (`engine.run.table_files`). With `--labels zh` their
headers and class names are the policy's Chinese labels (`engine.run.output_labels`). Points,
weights, ratios and prices are written to the decimals of their type (`engine.run.decimals`).

Money is written as exact decimal text to the fen. The same input files and policy give
byte-identical outputs, manifest included (a run into an earlier run's folder adds what moved
against it: `replaced`, `engine.run.replaced`). Reordering the input rows changes no `<stage>/*.csv`
byte (every table is sorted by its key on load); `rejects.csv` then lists the same rows with
their new row numbers, and `manifest.json` the new files' sha256.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import polars as pl

from engine.inputs.contract import CONTRACT_VERSION
from engine.inputs.earlier import read_later
from engine.inputs.supervision import Declared
from engine.plan import money
from engine.plan.exact import exact_sum
from engine.plan.polars.batch import StageResult, key_columns
from engine.run import atomic, settle_report
from engine.run.decimals import DECIMALS, rounded, value_types
from engine.run.indicators import indicators_manifest
from engine.run.out_folder import MARKER_KEY, SETTLEMENT, Kind, check_out_folder, inside
from engine.run.output_labels import LABELS
from engine.run.run_lock import hold
from engine.run.settle import (
    ENGINE_VERSION,
    Settlement,
    case_results,
    missing_cases,
    missing_in,
    paid_below_zero,
)
from engine.run.supervision_outputs import (
    applied_deductions,
    supervision_rows,
    with_months_deducted,
    with_supervision_columns,
)
from engine.run.table_files import FORMATS, Tables, write_tables
from policy_dsl import grains as g
from policy_dsl import ir

if TYPE_CHECKING:
    from engine.plan.sql.duckdb_runner import DuckDB
    from engine.run.replaced import Replaced

T = TypeVar("T")

#: The page of the period's totals every settlement writes (`engine.run.settle_report`).
REPORT = "report.html"


def stage_tables(
    settlement: Settlement,
    stage: str,
    database: DuckDB | None = None,
    statement: bool = True,
    summary: bool = True,
) -> dict[str, pl.DataFrame]:
    """The three tables of a settling stage, ready to write. The cases table has the method's
    outputs and every other per-case value a later stage reads (so that a year's run can take
    this stage from these files: `engine.inputs.earlier`). Given the `database` that writes the
    cases file (`case_file.in_database`), the cases table is read from it without the later
    values (`case_file.case_frame`: what the statements, the summary and the report read), and
    the stage's whole case frame is not read back. Without `statement`, the hospitals'
    statement is left out (a what-if of a policy whose statement has no money to compare);
    without `summary`, the period's summary (a what-if takes its prices: `period_values`)."""
    result = settlement.stages[stage]
    if database is not None and settlement.sql is not None:
        from engine.run.case_file import case_frame

        sql_stage = settlement.sql.done[stage]
        cases = case_frame(database, settlement.policy, sql_stage, settlement.outputs())
    else:
        cases = _case_table(settlement, stage)
    hospitals = {"hospitals": hospital_statement(result, cases, settlement)} if statement else {}
    totals = {"summary": period_summary(result, cases, settlement)} if summary else {}
    if statement and summary:
        settlement.statements[stage] = hospitals | totals
    return {"cases": cases, **hospitals, **totals}


def stage_statements(settlement: Settlement, stage: str) -> dict[str, pl.DataFrame]:
    """A settling stage's hospitals' statement and period summary: those `stage_tables` made
    (when the outputs were written), else made now — not twice from every case."""
    if stage not in settlement.statements:
        stage_tables(settlement, stage, sql_database(settlement))
    return settlement.statements[stage]


def sql_database(settlement: Settlement, fmt: str | None = None) -> DuckDB | None:
    """The open DuckDB that writes the settlement's cases tables (`case_file.in_database`);
    None on polars, without importing the SQL lowering."""
    if settlement.sql is None:
        return None
    from engine.run.case_file import in_database

    return in_database(settlement, fmt)


def _case_table(settlement: Settlement, stage: str) -> pl.DataFrame:
    """The cases table from the stage's case frame (polars)."""
    result = settlement.stages[stage]
    payment = money.to_fen(pl.col("payment"))
    patient_paid = money.to_fen(pl.lit(result.cases["patient_paid"]))
    return case_results(result, settlement.case_values(stage), settlement.data.codes).with_columns(
        payment.alias("payment"),
        patient_paid.alias("patient_paid"),
        (payment - patient_paid).alias("fund_payment"),  # 基金支付 = 应付 − 个人负担
        money.to_fen(pl.lit(result.cases["total_cost"])).alias("total_cost"),
    )


def file_metadata(settlement: Settlement) -> dict[str, str]:
    """What a Parquet output carries in its own metadata (the manifest says it too): the
    policy, its hash and the period — once per file, not once per row."""
    policy = settlement.policy
    return {
        "drgpolicy.policy_city": policy.city,
        "drgpolicy.policy_version": policy.version,
        "drgpolicy.policy_hash": policy.hash,
        "drgpolicy.period": settlement.period.label,
        "drgpolicy.engine_version": ENGINE_VERSION,
    }


def _period_keys(result: StageResult) -> list[str]:
    return key_columns(result.period_keys)


#: Money summed over a hospital's (or a period's) cases, in fen: payable, patient, fund.
PAID = ("payment", "patient_paid", "fund_payment")


def _money_sums() -> list[pl.Expr]:
    return [pl.col(name).sum() for name in PAID]


def _category_counts(classes: list[str]) -> list[pl.Expr]:
    return [(pl.col("category") == c).sum().alias(f"cases_{c}") for c in classes]


def _classes(cases: pl.DataFrame) -> list[str]:
    dtype = cases.schema["category"]
    return list(dtype.categories) if isinstance(dtype, pl.Enum) else []


def hospital_statement(
    result: StageResult, cases: pl.DataFrame, settlement: Settlement
) -> pl.DataFrame:
    """Per hospital (× month in a monthly stage): cases, cost, points, payment, reports."""
    keys = ["hospital_id", *_period_keys(result)]
    settled = "settled_points" if settlement.policy.method == "points" else "settled_weight"
    totals = (  # lazy: polars' eager group-by evaluates an exact sum group by group
        cases.lazy()
        .group_by(keys)
        .agg(
            pl.len().alias("cases"),
            pl.col("total_cost").sum().alias("total_cost"),
            exact_sum(pl.col(settled)).alias(settled),
            *_money_sums(),
            *_category_counts(_classes(cases)),
        )
        .collect()
    )
    hospitals = settlement.data.hospitals.select(
        "hospital_id", _hospital_name(settlement), "level", "tier"
    )
    statement = (
        hospitals.join(totals, on="hospital_id", how="left")
        if not _period_keys(result)
        else with_months_deducted(totals, settlement).join(hospitals, on="hospital_id", how="left")
    )
    statement = statement.with_columns(pl.col("cases", *PAID, "total_cost").fill_null(0))
    for name in _reports(result, frozenset({"hospital"}) | result.period_keys):
        statement = statement.join(result.value_frame(name), on=keys, how="left")
    return with_supervision_columns(statement, result, settlement).sort(keys)


def _hospital_name(settlement: Settlement) -> pl.Expr:
    """The hospital's name (医疗机构名称) from the hospitals file, empty where it has none."""
    names = settlement.data.hospitals.columns
    return (pl.col("name") if "name" in names else pl.lit("")).alias("hospital_name")


def period_summary(
    result: StageResult, cases: pl.DataFrame, settlement: Settlement
) -> pl.DataFrame:
    """Per period: cases, cost, points or weight, point value or rate, payment, reports."""
    keys = _period_keys(result)
    method = settlement.policy.method
    settled = "settled_points" if method == "points" else "settled_weight"
    aggregates = [
        pl.len().alias("cases"),
        pl.col("total_cost").sum().alias("total_cost"),
        exact_sum(pl.col(settled)).alias(settled),
        *_money_sums(),
        *_category_counts(_classes(cases)),
    ]
    lazy = cases.lazy()  # polars' eager group-by evaluates an exact sum group by group
    summary = (lazy.group_by(keys).agg(*aggregates) if keys else lazy.select(*aggregates)).collect()
    return _with_period_values(summary, result, settlement)


def period_values(result: StageResult, cases: pl.DataFrame, settlement: Settlement) -> pl.DataFrame:
    """Per period of the cases, the values the summary shows beside its sums over the cases:
    the point value (or rate) and the closing budget where the stage has them per period, and
    the reports per period — without the sums (a what-if reads the price and the budget)."""
    keys = _period_keys(result)
    count = pl.len().alias("cases")
    counted = cases.group_by(keys).agg(count) if keys else cases.select(count)
    return _with_period_values(counted, result, settlement)


def _with_period_values(
    summary: pl.DataFrame, result: StageResult, settlement: Settlement
) -> pl.DataFrame:
    keys = _period_keys(result)
    price = "point_value" if settlement.policy.method == "points" else "rate"
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
    counts = whole_count_names(settlement)
    return frame.with_columns(
        pl.col(c).round().cast(pl.Int64)
        for c in frame.columns
        if c in counts and frame.schema[c].is_float()
    )


def whole_count_names(settlement: Settlement) -> set[str]:
    """The definitions declared `count` (written as whole numbers)."""
    return {
        d.name
        for s in settlement.policy.stages
        for d in s.definitions
        if d.declared_type == "count"
    }


def money_definitions(settlement: Settlement) -> frozenset[str]:
    """Definitions whose values are money, and the deductions a statement shows (written to
    the fen)."""
    policy = settlement.policy
    deductions = {i.name for i in policy.inputs if i.table == "deduction"}
    return (
        frozenset(d.name for s in policy.stages for d in s.definitions if d.type.is_money)
        | deductions
    )


def write_outputs(
    settlement: Settlement, out: Path, fmt: str = "csv", labels: str = "en"
) -> dict[str, Any]:
    """Write every output into `out` atomically, the tables as `fmt` (`FORMATS`) headed in
    `labels` (`LABELS`); return the manifest. Refused (`OutFolderError`, nothing written) where
    `check_out_folder` says so; the run's data folder and policy files are protected."""
    return write_folder_with(
        out,
        lambda staging: fill_outputs(settlement, staging, fmt, labels),
        kind=SETTLEMENT,
        protect=run_inputs(settlement),
    )


def fill_outputs(
    settlement: Settlement,
    folder: Path,
    fmt: str = "csv",
    labels: str = "en",
    replacing: Replaced | None = None,
) -> dict[str, Any]:
    """Write every output of `settlement` into `folder` (a staging folder, or a sub-folder of
    one) — the tables as `fmt` (`FORMATS`), headed in `labels` (`LABELS`), and `report.html` —
    and return the manifest; it records what moved against the run it is `replacing`."""
    if fmt not in FORMATS:
        raise ValueError(f"output format {fmt!r}: one of {', '.join(FORMATS)}")
    if labels not in LABELS:
        raise ValueError(f"output labels {labels!r}: one of {', '.join(LABELS)}")
    yuan = money_definitions(settlement)
    tables: Tables = {"rejects": (settlement.inputs.rejects, frozenset())}
    if Declared.of(settlement.policy).deductions:
        deducted = applied_deductions(settlement)
        tables["deductions"] = (deducted, frozenset({"amount"}))
    if settlement.policy.indicators:
        tables["indicators"] = (settlement.indicators(), frozenset())
    missing = Missing()
    types = value_types(settlement.policy)
    database = sql_database(settlement, fmt)
    for stage in settlement.settling_stages():
        later = read_later(settlement.policy, stage)
        for table, frame in stage_tables(settlement, stage, database).items():
            shown = rounded(whole_counts(frame, settlement), types, as_computed=later)
            tables[f"{stage}/{table}"] = (shown, yuan)
            if table == "cases":
                missing.add(stage, frame, settlement.outputs())
    folder.mkdir(parents=True, exist_ok=True)
    metadata = file_metadata(settlement)
    copied = {f"{stage}/cases" for stage in settlement.settling_stages()} if database else set()
    kept = {name: table for name, table in tables.items() if name not in copied}
    written = write_tables(kept, folder, fmt, settlement.policy, labels, metadata)
    if database is not None:
        from engine.run.case_file import Shown, write_case_files

        counts = frozenset(whole_count_names(settlement))
        written_as = Shown(yuan, counts, types, labels=labels)
        hashes, headers = write_case_files(settlement, database, folder, fmt, written_as, metadata)
        written.hashes |= hashes
        written.headers |= headers
    report = inside(folder, REPORT)
    report.write_text(settle_report.render(settlement, tables), encoding="utf-8")
    written.hashes[REPORT] = hashlib.sha256(report.read_bytes()).hexdigest()
    manifest = build_manifest(settlement, written.hashes, missing)
    manifest |= {"labels": labels, "decimals": DECIMALS}
    if written.headers:
        manifest["headers"] = written.headers
    if missing.below_zero:  # only then: a sound run's manifest keeps its bytes
        manifest["paid_below_zero"] = missing.below_zero
    if missing.far_from_cost:  # likewise
        manifest["paid_far_from_cost"] = missing.far_from_cost
    # likewise: a run into a new folder keeps its bytes, and so does a run that replaces one of
    # the same inputs, policy and money (a re-run)
    if replacing is not None and (replaced := replacing.against(manifest, tables)) is not None:
        manifest["replaced"] = replaced
    text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True, default=str)
    inside(folder, SETTLEMENT.marker).write_text(text + "\n", encoding="utf-8")
    return manifest


#: The cases' payments ÷ their costs outside this range is not a DRG settlement's (points
#: and weights are set from costs, so a city pays about what its cases cost: 0.96–1.01 on the
#: sample under every shipped policy) but a budget in the wrong unit — 万元 for 元 gives
#: 1/10,000 — costs in 分, or digits dropped or added. Our assumption, wide on purpose: said,
#: not refused.
PLAUSIBLE_PAID_TO_COST = (0.2, 5.0)


def paid_far_from_cost(cases: pl.DataFrame) -> dict[str, float] | None:
    """A stage's case table's (`stage_tables`: money in fen) payments and costs, in 元, and
    their ratio, where the ratio is outside `PLAUSIBLE_PAID_TO_COST`; None where it is
    inside, or where there is nothing to compare."""
    if not {"payment", "total_cost"} <= set(cases.columns):
        return None
    both = pl.col("payment").is_not_null() & pl.col("total_cost").is_not_null()
    paid, cost = (
        cases.filter(both).select(pl.col("payment").sum(), pl.col("total_cost").sum()).row(0)
    )
    if not cost or cost <= 0:  # paid 0 is 0% of the cost: said
        return None
    ratio = paid / cost
    low, high = PLAUSIBLE_PAID_TO_COST
    if low <= ratio <= high:
        return None
    return {"paid": paid / 100, "cost": cost / 100, "ratio": round(ratio, 6)}


@dataclass
class Missing:
    """Per settling stage, how many cases lack each decisive output, and the first of them;
    and the cases paid less than zero (`below_zero`) or paid far from what they cost
    (`far_from_cost`)."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    cases: dict[str, list[str]] = field(default_factory=dict)
    #: per settling stage, the cases paid less than zero: how many, and the first of them
    below_zero: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: per settling stage, the payments and costs where their ratio is not a settlement's
    far_from_cost: dict[str, dict[str, float]] = field(default_factory=dict)

    def add(self, stage: str, cases: pl.DataFrame, outputs: list[str]) -> None:
        if absent := missing_in(cases, outputs):
            self.counts[stage] = absent
            self.cases[stage] = missing_cases(cases, outputs)
        count, first = paid_below_zero(cases)
        if count:
            self.below_zero[stage] = {"cases": count, "first": first}
        if far := paid_far_from_cost(cases):
            self.far_from_cost[stage] = far


def build_manifest(
    settlement: Settlement, hashes: dict[str, str], missing: Missing
) -> dict[str, Any]:
    policy = settlement.policy
    return {
        MARKER_KEY: SETTLEMENT.name,
        "engine_version": ENGINE_VERSION,
        "backend": {"name": settlement.backend, "version": settlement.backend_version},
        "contract_version": CONTRACT_VERSION,
        "ir_version": policy.ir_version,
        "policy": {
            "city": policy.city,
            "version": policy.version,
            "hash": policy.hash,
            "method": policy.method,
        },
        "period": settlement.period.label,
        "dates_checked": not settlement.any_date,
        "stages": list(settlement.stages),
        "inputs": dict(sorted(settlement.inputs.file_hashes.items())),
        "rows": {
            "cases": settlement.rows,
            "input_rows_read": settlement.inputs.rows_read,
            **supervision_rows(settlement),
            "cases_rejected_because": settlement.rejected_because(),
        },
        "missing_outputs": missing.counts,
        "missing_output_cases": missing.cases,
        "classified_on_missing": {
            stage: {name: found.to_json() for name, found in by_name.items()}
            for stage, by_name in settlement.fallthrough().items()
        },
        "overrides": {
            "definitions": dict(settlement.settings.definitions),
            "params": dict(settlement.settings.params),
        },
        "outputs": dict(sorted(hashes.items())),
        "indicators": indicators_manifest(settlement),
    } | _earlier(settlement)


def _earlier(settlement: Settlement) -> dict[str, Any]:
    """The earlier runs a year's run took its monthly stages from, and how their cases match."""
    if settlement.earlier is None:
        return {}
    settled, inputs = settlement.data.cases["case_id"], settlement.inputs.file_hashes
    return {"earlier": settlement.earlier.manifest(settled, inputs)}


def write_folder_atomically(
    out: Path, files: dict[str, bytes], *, kind: Kind, protect: Iterable[Path] = ()
) -> None:
    """Write `files` into a fresh sibling folder, then swap it into the place of `out`, which
    may be replaced only if it is empty or an earlier output of `kind` (`check_out_folder`)."""

    def write(staging: Path) -> None:
        for name, data in files.items():
            path = inside(staging, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

    write_folder_with(out, write, kind=kind, protect=protect)


def write_folder_with(
    out: Path, write: Callable[[Path], T], *, kind: Kind, protect: Iterable[Path] = ()
) -> T:
    """Under `out`'s lock, check that `out` may be replaced, let `write` fill a fresh sibling
    folder, then swap it into place (`engine.run.atomic.replace_folder`)."""
    with hold(out):
        check_out_folder(out, kind, protect)
        return atomic.replace_folder(out, write)


def policy_paths(policy: ir.Policy) -> list[Path]:
    """The files a compiled policy was read from (its `extends` chain), by name."""
    origins = [d.origin for s in policy.stages for d in s.definitions]
    origins += [p.origin for p in policy.params] + [t.origin for t in policy.tables]
    return sorted({Path(origin.file) for origin in origins if origin is not None})


def run_inputs(settlement: Settlement) -> list[Path]:
    """What a run read (its data folder and policy files): never inside an output folder."""
    folder = [settlement.inputs.source] if settlement.inputs.source is not None else []
    return [*folder, *policy_paths(settlement.policy)]
