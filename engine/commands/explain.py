"""`drgpolicy explain`: why one case got what it got, step by step."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import polars as pl

from engine.commands.check import add_sources_argument, sources_of
from engine.commands.settle import add_encoding_argument, add_setting_arguments, settings_for
from engine.explainer.explain import Trace, UnknownCase, payment_trace
from engine.explainer.passages import with_passages
from engine.explainer.report_text import render_trace
from engine.inputs.rundata import Period
from engine.run.settle import Settlement, load_data, load_policy, settle
from engine.whatif.trace_diff import render_trace_diff, trace_diff
from policy_dsl.check.scope import did_you_mean


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "explain",
        description="Settle the data under the policy, then show every step that decided one "
        "case's payment (the steps its outputs read: not a definition they do not read) — each "
        "definition's formula, inputs and value, the classes tried in order and why they did "
        "not match, and the adjustments applied; under each quote cited, its passage in the "
        "document's text where the text is found (see --sources).",
    )
    parser.add_argument("--case", required=True, help="the case_id")
    parser.add_argument("--policy", required=True, type=Path, help="a .policy file")
    parser.add_argument(
        "--vs",
        type=Path,
        metavar="POLICY",
        help="another version: show both traces side by side and where they first part",
    )
    parser.add_argument("--data", required=True, type=Path, help="the data folder")
    parser.add_argument("--period", required=True, help="2024, 2024-Q2 or 2024-03")
    parser.add_argument("--stage", help="the stage to explain (default: the last settling one)")
    add_setting_arguments(parser)
    add_sources_argument(parser)
    add_encoding_argument(parser)
    parser.add_argument("--json", action="store_true", help="print the trace as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    trace = _trace(args, args.policy)
    if args.vs is not None:
        diff = trace_diff(trace, _trace(args, args.vs))
        print(_json(diff.to_json()) if args.json else render_trace_diff(diff))
        return 0
    print(_json(trace.to_json()) if args.json else render_trace(trace))
    return 0


def _trace(args: argparse.Namespace, path: Path) -> Trace:
    policy = load_policy(path)
    inputs = load_data(args.data, policy, args.encoding)
    result = settle(policy, inputs, Period.parse(args.period), settings_for(policy, args))
    try:
        trace = payment_trace(result, args.case, args.stage)
    except UnknownCase as exc:
        raise UnknownCase(f"{exc}; {case_hint(result, args.case)}") from None
    return with_passages(trace, policy, sources_of(args))


def case_hint(result: Settlement, case_id: str) -> str:
    """Where an unknown case id went: another month, the rejects, a close id, or the id format."""
    cases, rejects = result.inputs.cases, result.inputs.rejects
    rejected = rejects.filter(pl.col("key") == case_id, pl.col("file").str.starts_with("cases"))
    if rejected.height:
        row = rejected.row(0, named=True)
        return f"it was rejected ({row['file']} row {row['row']}): {row['reason']}"
    found = cases.filter(pl.col("case_id") == case_id)
    if found.height:
        return f"it was discharged in {found['month'][0]}: give a period that includes it"
    return _close_ids(cases["case_id"], case_id)


def _close_ids(ids: pl.Series, case_id: str) -> str:
    """A case id equal but for leading zeros (C000004 → C0000004), a close one, or the format."""
    same = ids.filter(_without_zeros(ids) == _without_zeros(pl.Series([case_id]))[0]).head(3)
    if len(same):
        return "did you mean " + " or ".join(f"`{i}`" for i in same) + "?"
    close = did_you_mean(case_id, ids.head(50_000))
    if close:
        return close
    first, last = str(ids.min()), str(ids.max())
    return f"case ids here run from {first} to {last}"


def _without_zeros(ids: pl.Series) -> pl.Series:
    return ids.str.replace_all(r"(^|\D)0+(\d)", "${1}${2}")


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)
