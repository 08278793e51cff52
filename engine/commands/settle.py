"""`drgpolicy settle`: settle a data folder under one or more policies and write the outputs.

Everything that can be checked before settling is checked first — the policies, `--set`/`--fix`
against each policy, the output folder, the period against each policy's dates and the budget's
year (unless `--any-date`) — so that a refused run writes nothing. The run holds `--out`'s lock
from start to end (a second run into the same folder is refused at once), writes every policy's
outputs into one staging folder and then puts it in the place of `--out` in one step: with a
policy folder, every city's new outputs or none. A run whose outputs lack a payment (or class,
or settled points) or pay a case less than zero writes them for inspection and exits 1; so does
a run in which more case rows were rejected than `--max-reject-share` (1% by default), or any
case_id, hospital or group on more than one row (every copy rejected), or any deductions row,
unless `--accept-rejects`: the money of a rejected case goes to the others under a fixed budget,
and a hospital whose deduction was rejected is paid without it.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from engine.explainer.report_text import table
from engine.inputs.earlier import Earlier, load_earlier
from engine.inputs.previous import Previous
from engine.inputs.reading import ENCODINGS
from engine.inputs.rundata import Period
from engine.inputs.terms import shown
from engine.plan.overrides import SettingError, checked_settings, parse_value, split_assignments
from engine.plan.polars.batch import Settings
from engine.plan.sql.backends import BACKENDS, BackendOptions, memory_bytes, open_database
from engine.plan.sql.database import Database
from engine.run.out_folder import SETTLEMENT, check_out_folder, inside
from engine.run.output_labels import LABELS
from engine.run.outputs import fill_outputs, policy_paths, write_folder_with
from engine.run.progress import add_quiet_argument, progress_for, reporting, step
from engine.run.replaced import Replaced
from engine.run.run_lock import hold
from engine.run.settle import Settlement, date_problems, load_data, load_policy, settle
from engine.run.summary import (
    copied_keys,
    indicator_rows,
    level_rows,
    rejected_because_lines,
    stage_rows,
)
from engine.run.table_files import FORMATS, place
from policy_dsl import ir
from policy_dsl.errors import PolicyError
from policy_dsl.versions import InForce, city_folders, in_force, load_city


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "settle",
        description="Settle the cases of a data folder for a period (a year such as 2024 or a "
        "month such as 2024-03) under each policy given, and write per-case results, hospital "
        "statements, period summaries, rejects and a manifest to --out.",
    )
    parser.add_argument(
        "--policy",
        action="append",
        required=True,
        type=Path,
        help="a .policy file, or a folder: for each city under it, the version in force for "
        "the period (every version with --any-date); repeatable",
    )
    add_data_argument(parser)
    parser.add_argument(
        "--period", required=True, help="2024 (a year), 2024-Q2 (a quarter) or 2024-03 (a month)"
    )
    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        help="output folder, replaced as a whole in one step: it must be new, empty or exactly "
        "an earlier output (its manifest.json and the files it lists); one sub-folder per "
        "policy for a folder or several policies; one run at a time (a lock beside it)",
    )
    parser.add_argument(
        "--any-date",
        action="store_true",
        help="settle even if the period is outside a policy's effective dates or the budget is "
        "of another year (what-ifs, demos)",
    )
    parser.add_argument(
        "--earlier",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="with a year's --period and one policy: the output folder of an earlier run of one "
        "month (repeat for the twelve); the `per month` stages are taken as those runs paid "
        "them instead of being settled again",
    )
    parser.add_argument(
        "--previous",
        type=Path,
        metavar="DIR",
        help="the output folder of the previous run of the same city — of the period just "
        "before (last month's for a month: 环比) or of the same period a year earlier (同比); or "
        "of a policy folder: its sub-folder of the city — whose indicators.csv the growth-rate "
        "indicators read (previous.<indicator>)",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="csv",
        help="format of the output tables: csv (default), parquet (a quarter of the bytes, "
        "for province-scale runs) or xlsx (one workbook, settlement.xlsx, a sheet per table)",
    )
    parser.add_argument(
        "--labels",
        choices=LABELS,
        default="en",
        help="column headers and class names: en (the names, the default) or zh (the policy's "
        "Chinese labels: 病例点数, 低倍率病例…)",
    )
    add_setting_arguments(parser)
    add_encoding_argument(parser)
    parser.add_argument(
        "--max-reject-share",
        type=reject_share,
        default=0.01,
        metavar="SHARE",
        help="exit 1 (outputs written) when more than this share of the case rows is rejected, "
        "e.g. 1%% (the default), 0.5%%, 0.02",
    )
    parser.add_argument(
        "--accept-rejects",
        action="store_true",
        help="exit 0 whatever share of the case rows is rejected (still counted and printed)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    add_backend_arguments(parser)
    add_quiet_argument(parser)
    parser.set_defaults(run=run)


def add_backend_arguments(parser: argparse.ArgumentParser) -> None:
    """`--backend` and its options (`engine.plan.sql.backends`)."""
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="polars",
        help="what evaluates the plan: polars (the default, in memory), duckdb (embedded, "
        "spills to disk beyond --memory-limit) or spark (--spark-master); the outputs are "
        "byte-identical",
    )
    parser.add_argument(
        "--memory-limit",
        metavar="SIZE",
        type=_memory_size,
        help="duckdb: the memory it may use before spilling to disk, e.g. 200MB, 8GB; spark: "
        "the driver's memory (in local mode all of Spark's; default 4GiB, 12GB for 10M cases)",
    )
    parser.add_argument(
        "--spark-master",
        metavar="URL",
        help="spark: the master URL, e.g. spark://host:7077 (default local[*])",
    )


def _memory_size(text: str) -> str:
    try:
        memory_bytes(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def backend_for(args: argparse.Namespace, cases_on_demand: bool = False) -> str | Database:
    """The backend `settle` runs on: `polars`, or an open database (`cases_on_demand`: DuckDB
    reads a stage's case frame back only when something reads it)."""
    if args.backend == "polars":
        return "polars"
    options = BackendOptions(
        memory_limit=args.memory_limit,
        spark_master=args.spark_master,
        cases_on_demand=cases_on_demand,
    )
    return open_database(args.backend, options)


def add_data_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        required=True,
        type=Path,
        help="folder with cases, hospitals, groups (CSV or Parquet) and budget.yaml",
    )


def add_encoding_argument(
    parser: argparse.ArgumentParser, files: str = "the CSV data files"
) -> None:
    parser.add_argument(
        "--encoding",
        choices=sorted(ENCODINGS),
        default="utf8",
        help=f"encoding of {files}: utf8 (the default) or gbk (GBK / GB18030, as Excel and many "
        "Chinese systems save them)",
    )


def reject_share(text: str) -> float:
    """`1%`, `0.5%` or `0.01`: a share between 0 and 1."""
    try:
        share = float(text.removesuffix("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        share = -1.0
    if not 0 <= share <= 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a share such as 1% or 0.01")
    return share


def add_setting_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PARAM=VALUE",
        help="run with a parameter set to VALUE, e.g. low_ratio_grassroots=30%% (repeatable)",
    )
    parser.add_argument(
        "--fix",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="fix a definition's value, e.g. point_value=10 (repeatable)",
    )


def settings_for(policy: ir.Policy, args: argparse.Namespace) -> Settings:
    """`--fix` and `--set`, each name and value checked against `policy`."""
    return checked_settings(policy, split_assignments(args.fix), split_assignments(args.set))


def parse_assignments(items: list[str]) -> dict[str, Any]:
    """NAME=VALUE items read without a policy (see `settings_for` for the checked reading)."""
    return {name: parse_value(text) for name, text in split_assignments(items).items()}


# ---- which policies ---------------------------------------------------------------------------


def policy_files(paths: list[Path], period: Period, any_date: bool) -> list[Path]:
    """The files to settle: each file given; for a folder, each city's version in force for the
    whole period (every version under it with `any_date`)."""
    found: list[Path] = []
    for path in paths:
        if not path.is_dir():
            found.append(path)
        elif any_date:
            found += sorted(path.rglob("*.policy"))
            print(f"{path}: every version (--any-date), whatever its dates", file=sys.stderr)
        else:
            found += in_force_files(path, period)
    if not found:
        raise PolicyError(f"no .policy file in {', '.join(map(str, paths))}")
    return found


def in_force_files(root: Path, period: Period) -> list[Path]:
    """For each city folder under `root`, the version in force from the period's first day to
    its last; cities without one are skipped, each with the reason."""
    files, skipped = [], []
    for folder in city_folders(root):
        city = load_city(folder)
        first, last = in_force(city, period.first_day), in_force(city, period.last_day)
        if first.version is not None and first.version == last.version:
            files.append(first.version.path)
            print(
                f'{city.city}: version "{first.version.version}" is in force for '
                f"{period.label} ({first.version.path})",
                file=sys.stderr,
            )
        else:
            skipped.append(f"{city.city}: {_not_in_force(first, last, period)}")
    if not files and skipped:
        raise PolicyError(
            f"no version under {root} is in force for all of {period.label} ("
            + "; ".join(skipped)
            + "); pass --any-date to settle every version anyway"
        )
    for reason in skipped:
        print(f"skipped {reason}", file=sys.stderr)
    return files


def _not_in_force(first: InForce, last: InForce, period: Period) -> str:
    if first.version is None or last.version is None:
        return str(first.reason or last.reason)
    return (
        f'"{first.version.version}" is in force on {period.first_day} and '
        f'"{last.version.version}" on {period.last_day}: settle month by month'
    )


# ---- one run per policy -----------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One policy to settle: its file, compiled policy, checked settings, the sub-folder of
    `--out` its outputs go to ("" for `--out` itself) and the earlier runs it takes."""

    file: Path
    policy: ir.Policy
    settings: Settings
    folder: str
    earlier: Earlier | None = None
    previous: Previous | None = None


@dataclass(frozen=True)
class Jobs:
    """Every policy of the run, and the inputs `--out` must not hold."""

    jobs: list[Job]
    inputs: list[Path]


def jobs_of(args: argparse.Namespace, period: Period) -> Jobs:
    """Compile every policy, check its settings, the earlier runs it takes and the output
    folder — before settling any."""
    files = policy_files(args.policy, period, args.any_date)
    nested = len(files) > 1 or any(path.is_dir() for path in args.policy)
    if args.earlier and nested:
        raise PolicyError("--earlier takes the runs of one policy: give one .policy file")
    jobs: list[Job] = []
    inputs = [args.data, *args.earlier, *([args.previous] if args.previous else [])]
    for file in files:
        policy = load_policy(file)
        folder = f"{policy.city}-{policy.version}" if nested else ""
        twin = next((job.file for job in jobs if job.folder == folder), None)
        if twin is not None:
            raise PolicyError(
                f"{twin} and {file} are both {policy.city} {policy.version}: their outputs "
                f"would share {args.out / folder}; settle them one at a time"
            )
        inputs += policy_paths(policy)
        earlier = load_earlier(args.earlier, policy, period) if args.earlier else None
        previous = Previous.read(args.previous, policy.city, period) if args.previous else None
        jobs.append(Job(file, policy, settings_for(policy, args), folder, earlier, previous))
    check_out_folder(args.out, SETTLEMENT, inputs)
    return Jobs(jobs, inputs)


@dataclass(frozen=True)
class Settled:
    """What one policy's run leaves for the summary: its rows, and its manifest."""

    job: Job
    stages: list[dict[str, Any]]
    levels: list[dict[str, Any]]
    indicators: list[dict[str, Any]]
    manifest: dict[str, Any]
    #: more case rows rejected than `--max-reject-share`, a key on more than one row (of the
    #: cases, hospitals or groups), or a deductions row (and not accepted): the run fails
    rejects_fail: bool = False
    #: the earlier run this one replaced in `--out`, if any
    replacing: Replaced | None = None


def run(args: argparse.Namespace) -> int:
    """Settle every policy into one staging folder, then put it in the place of `--out` in one
    step: a run over a policy folder replaces the outputs of every city, or of none."""
    with reporting(progress_for(args)):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    period = Period.parse(args.period)
    with hold(args.out):  # one run at a time into --out: a second one is refused at once
        with step("check the policies and --out"):
            planned = jobs_of(args, period)

        def fill(staging: Path) -> list[Settled]:
            return [settle_job(job, args, period, staging) for job in planned.jobs]

        done = write_folder_with(args.out, fill, kind=SETTLEMENT, protect=planned.inputs)
    nested = any(job.folder for job in planned.jobs)
    print(
        f"outputs in {args.out}" + (" (one folder per policy: <city>-<version>)" if nested else ""),
        file=sys.stderr,
    )
    for d in done:
        report_replaced(d, args)
    incomplete = [report_missing(d.job, d.manifest, args) or d.rejects_fail for d in done]
    for d in done:
        report_fallthrough(d.job, d.manifest, args)
    rows = [row for d in done for row in d.stages]
    levels = [row for d in done for row in d.levels]
    indicators = [row for d in done for row in d.indicators]
    if args.json:
        found = {"stages": rows, "levels": levels, "indicators": indicators}
        print(json.dumps(found, ensure_ascii=False, indent=2))
    else:
        print(render_summary(rows))
        print()
        print(render_levels(levels))
        if any(row["reports"] for row in rows):
            print()
            print(render_reports(rows))
        if any(row["values"] for row in indicators):
            print()
            print(render_indicators(indicators))
    return 1 if any(incomplete) else 0


def settle_job(job: Job, args: argparse.Namespace, period: Period, staging: Path) -> Settled:
    """Settle one policy, write its outputs into the staging folder and say how every case row
    was accounted for."""
    backend = backend_for(args, cases_on_demand=True)
    try:  # open until the summary is made: the outputs read the database (`case_file`)
        return _settle_job(job, args, period, staging, backend)
    finally:
        if not isinstance(backend, str):
            backend.close()


def _settle_job(
    job: Job, args: argparse.Namespace, period: Period, staging: Path, backend: str | Database
) -> Settled:
    name = f"{job.policy.city} {job.policy.version}"
    with step(f"{name}: read {args.data}"):
        database = None if isinstance(backend, str) else backend
        inputs = load_data(args.data, job.policy, args.encoding, database)
    if args.any_date:
        for problem in date_problems(job.policy, inputs, period):
            print(f"{job.file}: note (--any-date): {problem.problem}", file=sys.stderr)
    with step(f"{name}: settle {period.label}"):
        result = settle(
            job.policy,
            inputs,
            period,
            job.settings,
            any_date=args.any_date,
            earlier=job.earlier,
            previous=job.previous,
            backend=backend,
            written_only=True,  # what the outputs read: nothing is explained from this run
        )
    folder = inside(staging, job.folder) if job.folder else staging
    replacing = Replaced.read(args.out / job.folder, job.policy.city, period.label)
    with step(f"{name}: write the outputs"):  # DuckDB writes the cases tables itself
        manifest = fill_outputs(result, folder, args.format, args.labels, replacing)
    for stage, seen in manifest.get("earlier", {}).get("stages", {}).items():
        print(
            f"{job.file}: stage {stage} taken from {len(args.earlier)} earlier runs: "
            f"{seen['cases_taken']} cases paid, {seen['paid_not_in_data']} of them not in "
            f"this data, {seen['not_paid']} cases of this data paid in no month",
            file=sys.stderr,
        )
    for file, months in manifest.get("earlier", {}).get("other_inputs", {}).items():
        print(
            f"{job.file}: note: {len(months)} of the {len(args.earlier)} earlier runs read another "
            f"{file} than this run ({', '.join(months)}): the file corrected since they were "
            "paid, or their own extract; each month's input sha256s are in manifest.json "
            "(earlier.runs[].inputs)",
            file=sys.stderr,
        )
    counts = result.rows
    print(
        f"{job.file}: {counts['read']} case rows read = {counts['settled']} settled + "
        f"{counts['rejected']} rejected + {counts['outside_period']} outside {period.label}"
        + first_reject(case_rejects(result), rejects_place(job, result, args)),
        file=sys.stderr,
    )
    for kind in ("deductions", "assessments"):
        if seen := manifest["rows"].get(kind):
            print(
                f"{job.file}: {seen['read']} {kind} rows read = {seen['in_period']} in "
                f"{period.label} + {seen['rejected']} rejected + {seen['outside_period']} "
                f"outside it + {seen['not_declared']} of kinds the policy does not read"
                + "".join(f"; {n}: {c}" for n, c in seen["not_declared_by_name"].items()),
                file=sys.stderr,
            )
    fails = report_rejects(job, result, manifest, args)
    indicators = indicator_rows(result)
    return Settled(
        job, stage_rows(result), level_rows(result), indicators, manifest, fails, replacing
    )


#: At most this many hospitals are named in the note on what a run replaced.
NAMED_HOSPITALS = 10


def report_replaced(settled: Settled, args: argparse.Namespace) -> None:
    """Say (on stderr) what moved against the run this one replaced in `--out` (if any): the
    input files changed, the policy, and the hospitals whose money moved — or that nothing did
    (then the manifest records nothing: a re-run's bytes are a fresh run's)."""
    job, replacing = settled.job, settled.replacing
    if replacing is None:
        return
    said = f"{job.file}: note: replaced the run of {replacing.manifest.get('period')} in "
    said += str(args.out / job.folder)
    replaced = settled.manifest.get("replaced")
    if replaced is None:
        print(f"{said}: the same input files and policy; nothing moved", file=sys.stderr)
        return
    if "not_compared" in replaced:
        print(f"{said}; not compared: {replaced['not_compared']}", file=sys.stderr)
        return
    changed = [*replaced["inputs_changed"], *(["the policy"] if replaced["policy_changed"] else [])]
    moved = replaced["moved"]
    named = [
        f"{hospital} " + ", ".join(f"{column} {delta}" for column, delta in columns.items())
        for hospital, columns in list(moved.items())[:NAMED_HOSPITALS]
    ]
    more = len(moved) - len(named)
    whose = "1 hospital's" if len(moved) == 1 else f"{len(moved)} hospitals'"
    print(
        f"{said}: "
        + (f"{', '.join(changed)} changed" if changed else "the same input files and policy")
        + (f"; {whose} money moved: " if moved else "; nothing moved")
        + "; ".join(named)
        + (f"; and {more} more" if more else "")
        + " (manifest.json: replaced)",
        file=sys.stderr,
    )


def report_missing(job: Job, manifest: dict[str, Any], args: argparse.Namespace) -> bool:
    """Say (on stderr) which stages have cases without a class, settled points or payment, or
    paid less than zero: either fails the run (its outputs written, to inspect)."""
    for stage, counts in manifest["missing_outputs"].items():
        cases = manifest["missing_output_cases"][stage]
        without = ", ".join(f"{n} cases without {name}" for name, n in counts.items())
        print(
            f"{job.file}: error: stage {stage}: {without} (first: {', '.join(map(shown, cases))}); "
            f"the outputs are in {args.out / job.folder} to inspect (manifest.json: "
            "missing_outputs). See why: "
            f"drgpolicy explain --case {shown(cases[0])} --policy {job.file} --data {args.data} "
            f"--period {manifest['period']}",
            file=sys.stderr,
        )
    below = manifest.get("paid_below_zero", {})
    for stage, found in below.items():
        print(
            f"{job.file}: error: stage {stage}: {found['cases']} cases paid less than zero "
            f"(first: {', '.join(map(shown, found['first']))}): the money left for the cases "
            "is below zero "
            "— a budget in budget.yaml written too small, or what the policy pays first from "
            "it (per diem, other methods) more than it; the outputs are in "
            f"{args.out / job.folder} to inspect (manifest.json: paid_below_zero). See why: "
            f"drgpolicy explain --case {shown(found['first'][0])} --policy {job.file} --data "
            f"{args.data} --period {manifest['period']}",
            file=sys.stderr,
        )
    return bool(manifest["missing_outputs"]) or bool(below)


def report_rejects(
    job: Job, result: Settlement, manifest: dict[str, Any], args: argparse.Namespace
) -> bool:
    """Say (on stderr) which cases were rejected because of their hospital or group, and
    whether the rejects make the run fail: more case rows rejected than `--max-reject-share`,
    any key on more than one row of the cases, hospitals or groups (`copied_keys`), or any
    deductions row of a kind the policy reads — a deduction is money off one hospital, so a
    rejected one pays it wrongly, however few there are (unless `--accept-rejects`). A
    rejected score needs no rule here: a hospital left without its score (a copy rejected
    rejects them all) stops the run where the score is read (`engine.inputs.supervision`)."""
    for line in rejected_because_lines(result.inputs):
        print(f"{job.file}: {line}", file=sys.stderr)
    rejects = rejects_place(job, result, args)
    counts = result.rows
    share = counts["rejected"] / max(counts["read"], 1)
    problems = []
    if share > args.max_reject_share:
        problems.append(
            f"{counts['rejected']} of {counts['read']} case rows were rejected ({share:.2%}), "
            f"more than --max-reject-share {args.max_reject_share:.2%}: under a fixed budget "
            f"their money went to the other cases. See {rejects}"
        )
    copies = copied_keys(result.inputs)
    problems += [f"{words}. See {rejects}" for words in copies.failing]
    for words in copies.noted:
        print(f"{job.file}: note: {words}. See {rejects}", file=sys.stderr)
    if rejected := manifest["rows"].get("deductions", {}).get("rejected", 0):
        rows = "1 row" if rejected == 1 else f"{rejected} rows"
        problems.append(
            f"{rows} of deductions rejected: a deduction is money off one hospital's payment, "
            f"and a rejected one is not taken off, so no share of them is let pass. See {rejects}"
        )
    for words in problems:
        if args.accept_rejects:
            print(f"{job.file}: note (--accept-rejects): {words}", file=sys.stderr)
        else:
            print(
                f"{job.file}: error: {words}; the outputs are there to inspect. Fix the "
                "rejected rows, or pass --accept-rejects to accept them",
                file=sys.stderr,
            )
    return bool(problems) and not args.accept_rejects


def rejects_place(job: Job, result: Settlement, args: argparse.Namespace) -> Path:
    """Where the run's rejects are: `rejects.csv`, `rejects.parquet` or the workbook's sheet."""
    return args.out / job.folder / place("rejects", args.format, result.policy, args.labels)


def case_rejects(result: Settlement) -> pl.DataFrame:
    """The rejects of the case file, by row."""
    return result.inputs.rejects.filter(pl.col("file").str.starts_with("cases")).sort("row")


def first_reject(rejects: pl.DataFrame, where: Path) -> str:
    """The first rejected case row as the count line ends with it: its row, field and reason,
    and where every reject is."""
    if not rejects.height:
        return ""
    row = rejects.row(0, named=True)
    return (
        f"; the first: {row['file']} row {row['row']}, {row['field']}: {row['reason']} "
        f"(every one in {where})"
    )


def report_fallthrough(job: Job, manifest: dict[str, Any], args: argparse.Namespace) -> None:
    """Say (on stderr) how many cases a class condition could not decide for a missing value
    (`engine.plan.polars.fallthrough`): they are settled under a later class, as the policy
    reads; and where the cases are paid far from what they cost (`paid_far_from_cost`)."""
    for stage, far in manifest.get("paid_far_from_cost", {}).items():
        print(
            f"{job.file}: warning: stage {stage}: the cases are paid {far['ratio']:.2%} of "
            f"what they cost ({far['paid']:,.2f} 元 against {far['cost']:,.2f} 元); a DRG "
            "settlement pays about what its cases cost — is a figure in budget.yaml in 万元 "
            "instead of 元, are the cases' costs in 分, or is a digit dropped or added? "
            "(manifest.json: paid_far_from_cost)",
            file=sys.stderr,
        )
    for stage, by_name in manifest["classified_on_missing"].items():
        for name, found in by_name.items():
            counts = ", ".join(f"{n} at class {c}" for c, n in found["classes"].items())
            first = found["first"]
            why = (
                f" (first: {', '.join(map(shown, first))}). See why: drgpolicy explain "
                f"--case {shown(first[0])} "
                f"--policy {job.file} --data {args.data} --period {manifest['period']}"
                if first
                else ""
            )
            print(
                f"{job.file}: note: stage {stage}: `{name}`: a class condition read a missing "
                f"value for some cases ({counts}); each went on to the next class "
                f"(manifest.json: classified_on_missing){why}",
                file=sys.stderr,
            )


def render_summary(rows: list[dict[str, Any]]) -> str:
    headers = [
        "city",
        "version",
        "stage",
        "period",
        "cases",
        "points/weight",
        "value/rate",
        "payment 元",
        "budget 元",
        "cases per category",
    ]
    body = [
        [
            r["city"],
            r["version"],
            r["stage"],
            r["period"],
            r["cases"],
            _amount(r["points_or_weight"]),
            r["price"],
            _amount(r["payment"]),
            "" if r["budget"] is None else _amount(r["budget"]),
            " ".join(f"{k}:{v}" for k, v in r["categories"].items()),
        ]
        for r in rows
    ]
    return table(headers, body)


def render_reports(rows: list[dict[str, Any]]) -> str:
    """Each stage's money reports for the whole period, as the policy labels them (what its
    `payment` column does not say: a year end's final amount, the clearing due)."""
    headers = ["city", "version", "stage", "report", "amount 元"]
    body = [
        [
            r["city"],
            r["version"],
            r["stage"],
            f"{report['label']} ({report['name']})",
            _amount(report["yuan"]),
        ]
        for r in rows
        for report in r["reports"]
    ]
    return table(headers, body)


def render_levels(rows: list[dict[str, Any]]) -> str:
    headers = [
        "city",
        "version",
        "stage",
        "level",
        "hospitals",
        "cases",
        "payment 元",
        "per case 元",
        "share",
    ]
    body = [
        [
            r["city"],
            r["version"],
            r["stage"],
            r["level"],
            r["hospitals"],
            r["cases"],
            _amount(r["payment"]),
            _amount(r["per_case"]),
            f"{r['share']:.1%}",
        ]
        for r in rows
    ]
    return table(headers, body)


#: The headline indicators as the summary's columns.
INDICATOR_HEADERS = {
    "cases": "cases",
    "cmi": "CMI",
    "grouping_rate": "grouped",
    "cost_index": "cost index",
    "time_index": "time index",
    "low_ratio_share": "low-ratio",
    "high_ratio_share": "high-ratio",
    "patient_burden_rate": "patient burden",
    "payment_to_cost": "paid ÷ cost",
    "low_risk_mortality": "low-risk deaths",
}
SHARES = ("grouping_rate", "low_ratio_share", "high_ratio_share", "patient_burden_rate")


def render_indicators(rows: list[dict[str, Any]]) -> str:
    """The headline indicators of each city (indicators.csv has every one, at every grain)."""
    headers = ["city", "version", *INDICATOR_HEADERS.values(), "targets met"]
    body = [
        [
            r["city"],
            r["version"],
            *(_indicator(name, r["values"].get(name, "n/a")) for name in INDICATOR_HEADERS),
            f"{r['targets_met']}/{r['targets_checked']}" if r["targets_checked"] else "—",
        ]
        for r in rows
    ]
    return table(headers, body)


def _indicator(name: str, value: float | str | None) -> str:
    if value is None or isinstance(value, str):
        return "—" if value is None else value
    if name == "cases":
        return f"{value:,.0f}"
    if name in SHARES or name == "low_risk_mortality":
        return f"{value:.2%}"
    return f"{value:.4f}"


def _amount(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


__all__ = [
    "SettingError",
    "add_data_argument",
    "add_encoding_argument",
    "add_setting_arguments",
    "parse_assignments",
    "parse_value",
    "register",
    "run",
    "settings_for",
]
