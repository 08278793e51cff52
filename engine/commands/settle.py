"""`drgpolicy settle`: settle a data folder under one or more policies and write the outputs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from engine.batch import Settings
from engine.outputs import write_outputs
from engine.report_text import table
from engine.rundata import Period
from engine.settle import load_data, load_policy, settle
from engine.summary import level_rows, stage_rows
from policy_dsl.errors import PolicyError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "settle",
        help="settle cases under a policy and write the results",
        description="Settle the cases of a data folder for a period (a year such as 2024 or a "
        "month such as 2024-03) under each policy given, and write per-case results, hospital "
        "statements, period summaries, rejects and a manifest to --out.",
    )
    parser.add_argument(
        "--policy",
        action="append",
        required=True,
        type=Path,
        help="a .policy file, or a folder: every policy under it (repeatable)",
    )
    parser.add_argument(
        "--data",
        required=True,
        type=Path,
        help="folder with cases, hospitals, groups (CSV or Parquet) and budget.yaml",
    )
    parser.add_argument("--period", required=True, help="2024 (a year) or 2024-03 (a month)")
    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        help="output folder (replaced "
        "atomically); one sub-folder per policy when several are given",
    )
    add_setting_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(run=run)


def add_setting_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PARAM=VALUE",
        help="run with a parameter set to VALUE (repeatable)",
    )
    parser.add_argument(
        "--fix",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="fix a definition's value, e.g. point_value=10 (repeatable)",
    )


class SettingError(PolicyError):
    """A malformed --set/--fix."""


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings(definitions=parse_assignments(args.fix), params=parse_assignments(args.set))


def parse_assignments(items: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise SettingError(f"`{item}`: write NAME=VALUE, e.g. low_ratio_grassroots=0.3")
        values[name.strip()] = parse_value(text.strip())
    return values


def parse_value(text: str) -> Any:
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    scale = 100.0 if text.endswith("%") else (1000.0 if text.endswith("‰") else 1.0)
    try:
        return float(text.rstrip("%‰")) / scale
    except ValueError:
        return text


def policy_files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        found += sorted(path.rglob("*.policy")) if path.is_dir() else [path]
    if not found:
        raise PolicyError(f"no .policy file in {', '.join(map(str, paths))}")
    return found


def run(args: argparse.Namespace) -> int:
    period = Period.parse(args.period)
    files = policy_files(args.policy)
    settings = settings_from(args)
    rows: list[dict[str, Any]] = []
    levels: list[dict[str, Any]] = []
    for file in files:
        policy = load_policy(file)
        result = settle(policy, load_data(args.data, policy), period, settings)
        out = args.out if len(files) == 1 else args.out / f"{policy.city}-{policy.version}"
        write_outputs(result, out)
        rows += stage_rows(result)
        levels += level_rows(result)
        for stage, missing in result.missing_outputs().items():
            listed = ", ".join(f"{name} ({n} cases)" for name, n in missing.items())
            print(
                f"{file}: warning: stage {stage} has cases without {listed}; "
                "see the manifest and explain one of them",
                file=sys.stderr,
            )
        counts = result.rows
        print(
            f"{file}: {counts['read']} case rows read = {counts['settled']} settled + "
            f"{counts['rejected']} rejected + {counts['outside_period']} outside {period.label}"
            f"; outputs in {out}",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps({"stages": rows, "levels": levels}, ensure_ascii=False, indent=2))
    else:
        print(render_summary(rows))
        print()
        print(render_levels(levels))
    return 0


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
            f"{r['points_or_weight']:,.2f}",
            r["price"],
            f"{r['payment']:,.2f}",
            "" if r["budget"] is None else f"{r['budget']:,.2f}",
            " ".join(f"{k}:{v}" for k, v in r["categories"].items()),
        ]
        for r in rows
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
            f"{r['payment']:,.2f}",
            f"{r['per_case']:,.2f}",
            f"{r['share']:.1%}",
        ]
        for r in rows
    ]
    return table(headers, body)
