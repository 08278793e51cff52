"""`drgpolicy whatif`: what a new version does to the money, clause by clause, and where it is
fragile — settled on the same data under both versions, written as a report."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl

from engine.commands.settle import add_backend_arguments, add_encoding_argument, backend_for
from engine.inputs.rundata import Period
from engine.page import show
from engine.plan.overrides import SettingError, checked_settings
from engine.plan.polars.batch import Settings
from engine.run.out_folder import WHATIF, check_out_folder
from engine.run.progress import add_quiet_argument, progress_for, reporting, step
from engine.run.run_lock import hold
from engine.run.settle import load_data
from engine.whatif.attribution import compiled
from engine.whatif.report import Report, check_same_city, whatif, write_report
from engine.whatif.runs import Runs, inputs_policy
from engine.whatif.sweep import checked_grid
from engine.whatif.wording import effect
from policy_dsl import ir
from policy_dsl.loader import Resolved, read_policy_file, resolve


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "whatif",
        description="Settle the cases of a data folder under a base and a new version of a "
        "policy and report the change: totals, per hospital, level, group and category, the "
        "cases that change category, winners and losers; how the change splits over the changed "
        "clauses; how many cases lie near each threshold of the new version and what one step "
        "of it does; and, with --set, a sweep of one or two parameters. Writes report.html, "
        "summary.md and whatif.json to --out.",
    )
    parser.add_argument("--base", required=True, type=Path, help="the base (old) .policy file")
    parser.add_argument("--new", required=True, type=Path, help="the new .policy file")
    parser.add_argument("--data", required=True, type=Path, help="the data folder")
    parser.add_argument("--period", help="2024, 2024-Q2 or 2024-03 (default: the budget's year)")
    parser.add_argument(
        "--out", required=True, type=Path, help="report folder (replaced atomically)"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PARAM=V1,V2,…",
        help="sweep a parameter of the new version over these values (once or twice: a grid)",
    )
    parser.add_argument(
        "--fix",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="fix a definition's value in every run, e.g. point_value=10 (repeatable)",
    )
    parser.add_argument(
        "--no-exposure", action="store_true", help="skip the threshold exposure (faster)"
    )
    add_encoding_argument(parser)
    parser.add_argument(
        "--cross-city",
        action="store_true",
        help="allow --base and --new of two different cities (the report's heading says so)",
    )
    parser.add_argument("--json", action="store_true", help="print whatif.json to stdout")
    add_backend_arguments(parser)
    add_quiet_argument(parser)
    parser.set_defaults(run=run)


def parse_grid(items: list[str]) -> dict[str, list[str]]:
    """`low_ratio_grassroots=0.25,0.3,30%` → {"low_ratio_grassroots": ["0.25", "0.3", "30%"]}
    (the text of each value, checked against the policy by `checked_grid`)."""
    grid: dict[str, list[str]] = {}
    for item in items:
        name, sep, text = item.partition("=")
        values = [v.strip() for v in text.split(",") if v.strip()]
        if not sep or not name.strip() or not values:
            raise SettingError(f"`{item}`: write PARAM=V1,V2,…, e.g. low_ratio_grassroots=0.25,0.3")
        name = name.strip()
        if name in grid:
            both = ",".join([*grid[name], *values])
            raise SettingError(
                f"--set {name} is given twice ({','.join(grid[name])} and {','.join(values)}): "
                f"give it once with every value, e.g. --set {name}={both}"
            )
        grid[name] = values
    return grid


def parse_fixed(items: list[str]) -> dict[str, str]:
    """`--fix NAME=VALUE` items as text by name; a name given twice is refused."""
    fixed: dict[str, str] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise SettingError(f"`{item}`: write NAME=VALUE, e.g. point_value=10")
        name = name.strip()
        if name in fixed:
            raise SettingError(
                f"--fix {name} is given twice ({fixed[name]} and {text.strip()}): give it once"
            )
        fixed[name] = text.strip()
    return fixed


def checked_inputs(
    policy: ir.Policy, args: argparse.Namespace
) -> tuple[dict[str, list[float]], Settings]:
    """The sweep and the fixed values, every one checked before anything is settled."""
    fixed = checked_settings(policy, parse_fixed(args.fix), {})
    items = parse_grid(args.set)
    grid = checked_grid(policy, items) if items else {}
    return grid, Settings(definitions=fixed.definitions)


def run(args: argparse.Namespace) -> int:
    # one run at a time into --out: a second one is refused at once
    with hold(args.out), reporting(progress_for(args)):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    with step("read the policies"):
        base, new = _resolved(args.base), _resolved(args.new)
        check_same_city(base, new, args.cross_city)
        policy = compiled(new)
        grid, settings = checked_inputs(policy, args)
    # the data folder and the policy files are inputs: an --out that is or holds one is refused
    # before the run, in settle's words (and again where the report is written)
    protect = [args.data, *(file.path for file in [*base.chain, *new.chain])]
    check_out_folder(args.out, WHATIF, protect)
    backend = backend_for(args)
    try:
        with step(f"read {args.data}"):
            database = None if isinstance(backend, str) else backend
            read = inputs_policy(compiled(base), policy)
            inputs = load_data(args.data, read, args.encoding, database)
        period = Period.parse(args.period or str(inputs.budget.get("year") or _year(new)))
        runs = Runs(inputs, period, backend=backend)
        report = whatif(
            runs,
            base,
            new,
            str(args.data),
            grid or None,
            settings,
            with_exposure=not args.no_exposure,
            cross_city=args.cross_city,
        )
    finally:
        if not isinstance(backend, str):
            backend.close()
    with step("write the report"):
        write_report(report, args.out, protect)
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2, default=str))
    else:
        print(render_summary(report))
    print(f"report in {args.out} (report.html, summary.md, whatif.json)", file=sys.stderr)
    return 0


def _resolved(path: Path) -> Resolved:
    return resolve(read_policy_file(path))


def _year(resolved: Resolved) -> int:
    start = resolved.header.effective_from
    return start.year if start else time.localtime().tm_year


def render_summary(report: Report) -> str:
    """A few lines for the terminal: the effect in one line, the total and each moved money
    report per level, the clauses, category moves."""
    impact = report.impact
    base, new = impact.base.policy, impact.new.policy
    other = f"{new.city} {new.version} (across cities)" if report.cross_city else new.version
    lines = [
        f"{report.side(0, f'{base.city} {base.version}')} → {report.side(1, other)}: "
        f"{impact.new.totals.cases:,} cases; "
        f"{effect(impact)}",
        f"  payment {show.yuan(impact.base.totals.payment)} → "
        f"{show.yuan(impact.new.totals.payment)} ({show.yuan(impact.delta, True)})",
    ]
    moved = impact.moved_reports()
    for row in impact.levels.iter_rows(named=True):
        change = f"{show.yuan(row['delta'], True)} ({show.pct(row['pct'])})"
        reports = impact.level_reports.filter(pl.col("level") == row["level"])
        shown = [
            f"{r['report']} {show.yuan(r['delta'], True)}"
            for r in reports.iter_rows(named=True)
            if r["report"] in moved
        ]
        lines.append(f"  {show.level(row['level'])}: {'; '.join([change, *shown])}")
    attribution = report.attribution
    if not attribution.parts:
        lines.append("clauses: no clause changed")
    else:
        lines.append("clauses:")
    for part in attribution.parts:
        if part.moved or part.delta:
            lines.append(f"  {part.label}: {_per_level(part.levels)}")
        elif part.moves_reports:
            lines.append(f"  {part.label}: no effect on case payments")
        for name in moved:
            if any(part.report_levels.get(name, {}).values()):
                lines.append(f"    {name}: {_per_level(part.report_levels[name])}")
    if attribution.parts:
        lines.append(f"  interaction: {_per_level(attribution.interaction_levels)}")
        for name, levels in attribution.interaction_report_levels.items():
            if any(levels.values()):
                lines.append(f"    {name}: {_per_level(levels)}")
    for row in impact.moved().iter_rows(named=True):
        lines.append(
            f"  {show.level(row['level'])}: {row['cases']:,} cases {row['from']} → {row['to']}"
        )
    return "\n".join(lines)


def _per_level(levels: dict[int, int]) -> str:
    """`L1 +¥250,760.97; L2 −¥3,120.00` (fen per hospital level)."""
    return "; ".join(f"L{n} {show.yuan(v, True)}" for n, v in levels.items()) or show.yuan(0, True)
