"""Stages taken from earlier runs (已结算的月度结果): a year's run that clears the months as they
were paid, instead of settling them again.

    drgpolicy settle --policy policies/wuxi/2024.policy --data year --period 2024 \\
      --out out/2024 --earlier out/2024-01 … --earlier out/2024-12

Each `--earlier` folder is the output of a `settle` run (its `manifest.json`) of the same city
for one month of the year; together they are the year's twelve months, each once. For every
`per month` stage of the policy, the run reads the per-case values those runs wrote to
`<stage>/cases.csv` (or `.parquet`) instead of evaluating the stage, and the later stages read
them: Wuxi's year end sums the monthly payments and deposits actually made. A run writes every
per-case value that a later stage reads (`read_later`), so a month's outputs hold what its
year-end needs. Only per-case values can be taken.

Each month's cases file must be the one its run wrote (the sha256 its manifest gives): a file
changed afterwards no longer says what was paid, and is refused.

A case paid in some month but absent from the year's data adds nothing to the year's sums, and
a case of the year's data that no month paid reads no monthly value (null, left out of a sum):
both counts are kept in the manifest and said on stderr. A case paid in two months is refused.

Each month's input files (their sha256, as its manifest gives them) are kept in the year's
manifest beside its run; a month that read another `cases.csv`, `deductions.csv`… than the year's
run (the file corrected since, or the month's own extract) is named there (`other_inputs`) and in
a note on stderr.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from engine.inputs.contract import file_sha256
from engine.inputs.rundata import Period
from engine.plan.polars.frames import StageResult
from engine.run.out_folder import read_marker
from policy_dsl import ir
from policy_dsl.errors import PolicyError
from policy_dsl.grains import CASE


class EarlierError(PolicyError):
    """Earlier outputs that cannot stand for the months of this run."""


def read_later(policy: ir.Policy, stage: str) -> list[str]:
    """The definitions of `stage` that later stages read (as `stage.name`), in stage order."""
    read = {
        node.name
        for later in policy.stages
        for node in ir.walk([d.expr for d in later.definitions])
        if isinstance(node, ir.Ref) and node.stage == stage
    }
    return [d.name for d in policy.stage(stage).definitions if d.name in read]


@dataclass(frozen=True)
class EarlierRun:
    """One earlier run: its folder, month and policy, as its manifest says."""

    folder: Path
    month: str
    version: str
    policy_hash: str
    files: Mapping[str, str]  # stage → the sha256 its manifest gives for the stage's cases file
    inputs: Mapping[str, str]  # input file → the sha256 of the file the run read

    def record(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "period": self.month,
            "policy_version": self.version,
            "policy_hash": self.policy_hash,
            "cases_sha256": dict(self.files),
            "inputs": dict(self.inputs),
        }


@dataclass(frozen=True)
class Earlier:
    """The months of a year as earlier runs paid them: per taken stage, one row per case."""

    runs: list[EarlierRun]
    cases: Mapping[str, pl.DataFrame]  # stage → case_id and the values later stages read

    def result(self, stage: ir.Stage) -> StageResult:
        """The stage as the earlier runs left it: its per-case values, by case id."""
        frame = self.cases[stage.name]
        home = {name: CASE for name in frame.columns if name != "case_id"}
        return StageResult(stage, {CASE: frame}, home, frozenset({"month"}))

    def coverage(self, stage: str, settled: pl.Series) -> dict[str, int]:
        """How the taken cases match the run's: paid in a month but not in this data, and
        of this data but paid in no month."""
        paid = self.cases[stage]["case_id"]
        return {
            "cases_taken": paid.len(),
            "paid_not_in_data": int((~paid.is_in(settled.implode())).sum()),
            "not_paid": int((~settled.is_in(paid.implode())).sum()),
        }

    def other_inputs(self, inputs: Mapping[str, str]) -> dict[str, list[str]]:
        """Input file → the months whose run read another file of its table than this run
        (`inputs`: file → sha256; `cases.csv` and `cases.parquet` are one table) — a file
        corrected after a month was paid, a month's own extract, another format — or recorded
        none (settled before runs recorded their inputs): legitimate, said, never silent."""
        other = {run.month: other_tables(run.inputs, inputs) for run in self.runs}
        found = {name: [m for m, names in other.items() if name in names] for name in inputs}
        return {name: months for name, months in sorted(found.items()) if months}

    def manifest(self, settled: pl.Series, inputs: Mapping[str, str]) -> dict[str, Any]:
        return {
            "runs": [run.record() for run in self.runs],
            "stages": {stage: self.coverage(stage, settled) for stage in self.cases},
            "other_inputs": self.other_inputs(inputs),
        }


def other_tables(theirs: Mapping[str, str], ours: Mapping[str, str]) -> list[str]:
    """The files of `ours` (file → sha256) whose table `theirs` read another file of, or none
    of: `cases.csv` and `cases.parquet` are one table (by the name without its suffix)."""
    by_table = {Path(name).stem: sha for name, sha in theirs.items()}
    return [name for name, sha in sorted(ours.items()) if by_table.get(Path(name).stem) != sha]


def load_earlier(folders: list[Path], policy: ir.Policy, period: Period) -> Earlier:
    """Read and check the earlier runs that stand for the months of a year's run."""
    if not period.is_year:
        raise EarlierError(
            f"--earlier takes the months of a year's run; this run is for {period.label}: "
            f"settle --period {period.year}"
        )
    monthly = [s for s in policy.stages if s.period == "month"]
    if not monthly:
        raise EarlierError(
            f"{policy.city} {policy.version} has no `per month` stage: nothing to take from "
            "earlier runs"
        )
    runs = sorted((_run(folder, policy, period) for folder in folders), key=lambda r: r.month)
    _check_months(runs, period)
    cases = {stage.name: _stage_cases(stage, runs, policy) for stage in monthly}
    return Earlier(runs, cases)


def _run(folder: Path, policy: ir.Policy, period: Period) -> EarlierRun:
    manifest_path = folder / "manifest.json"
    try:
        manifest: Any = read_marker(manifest_path)
        city, version = manifest["policy"]["city"], manifest["policy"]["version"]
        month, outputs = manifest["period"], manifest["outputs"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EarlierError(
            f"--earlier {folder}: not the output of a `drgpolicy settle` run ({manifest_path}: "
            f"{exc.__class__.__name__}: {exc})"
        ) from exc
    if city != policy.city:
        raise EarlierError(f"--earlier {folder} settled {city}, not {policy.city}")
    if manifest.get("labels", "en") != "en" or "settlement.xlsx" in outputs:
        raise EarlierError(
            f"--earlier {folder} was written for people (--labels zh or --format xlsx): a year's "
            "run reads the months' tables by name, so settle that month again with the default "
            "--labels en and --format csv or parquet"
        )
    if not (len(month) == 7 and month.startswith(f"{period.year}-")):
        raise EarlierError(
            f"--earlier {folder} settled {month}: give the runs of single months of {period.year}"
        )
    files = {
        stage.name: outputs[name]
        for stage in policy.stages
        if stage.period == "month"
        for name in outputs
        if name.startswith(f"{stage.name}/cases.")
    }
    inputs = manifest.get("inputs", {})
    return EarlierRun(folder, month, version, manifest["policy"]["hash"], files, inputs)


def _check_months(runs: list[EarlierRun], period: Period) -> None:
    months = [run.month for run in runs]
    doubled = sorted({m for m in months if months.count(m) > 1})
    missing = [m for m in period.month_labels() if m not in months]
    if doubled or missing:
        said = [f"missing {', '.join(missing)}"] if missing else []
        said += [f"given twice: {', '.join(doubled)}"] if doubled else []
        raise EarlierError(
            f"--earlier must give each month of {period.year} once ({'; '.join(said)})"
        )


def _stage_cases(stage: ir.Stage, runs: list[EarlierRun], policy: ir.Policy) -> pl.DataFrame:
    """The case values later stages read from `stage`, from every month's file, typed."""
    names = read_later(policy, stage.name)
    definitions = {d.name: d for d in stage.definitions}
    not_per_case = [n for n in names if definitions[n].grain != ["case"]]
    if not_per_case:
        raise EarlierError(
            f"later stages read {', '.join(f'{stage.name}.{n}' for n in not_per_case)}, which "
            "is not a per-case value: only per-case values can be taken from earlier runs"
        )
    frames = [_month_cases(run, stage.name, names, definitions) for run in runs]
    cases = pl.concat(frames).sort("case_id")
    twice = cases.filter(pl.col("case_id").is_duplicated())["case_id"].unique().sort()
    if twice.len():
        raise EarlierError(
            f"{twice.len()} case(s) were paid in two months ({', '.join(twice.head(3))}…): a "
            "case can be cleared once; give each month's own run"
        )
    return cases


def _month_cases(
    run: EarlierRun, stage: str, names: list[str], definitions: Mapping[str, ir.Definition]
) -> pl.DataFrame:
    found = [run.folder / stage / f"cases.{fmt}" for fmt in ("csv", "parquet")]
    path = next((p for p in found if p.is_file()), None)
    if path is None:
        raise EarlierError(f"--earlier {run.folder}: no {stage}/cases.csv or cases.parquet")
    if file_sha256(path) != run.files.get(stage):
        raise EarlierError(
            f"--earlier {run.folder}: {path} is not the file that run wrote (its sha256 is not "
            "the one its manifest.json gives): changed after the run, it no longer says what "
            "was paid that month; settle that month again, or put back the file it wrote"
        )
    frame = (
        pl.read_csv(path, infer_schema=False) if path.suffix == ".csv" else pl.read_parquet(path)
    )
    absent = [n for n in names if n not in frame.columns]
    if absent:
        raise EarlierError(
            f"{path} has no column {', '.join(absent)}, which later stages read: settle that "
            "month again with this engine (it writes every per-case value a later stage reads)"
        )
    return frame.select(
        pl.col("case_id").cast(pl.String),
        *[_typed(pl.col(n), definitions[n].type).alias(n) for n in names],
    )


def _typed(column: pl.Expr, typ: ir.TypeIR) -> pl.Expr:
    """A value as written (CSV text, or Parquet's types) as the stage computed it."""
    if typ.kind == "number":
        return column.cast(pl.Float64)
    if typ.kind == "bool":
        return column.cast(pl.String).str.to_lowercase() == "true"
    return column.cast(pl.String)


__all__ = ["Earlier", "EarlierError", "load_earlier", "other_tables", "read_later"]
