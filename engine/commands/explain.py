"""`drgpolicy explain`: why one case got what it got, step by step."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from engine.commands.settle import add_setting_arguments, settings_from
from engine.explain import Trace, explain
from engine.report_text import render_trace
from engine.rundata import Period
from engine.settle import load_data, load_policy, settle
from engine.whatif.trace_diff import render_trace_diff, trace_diff


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="explain one case step by step",
        description="Settle the data under the policy, then show every step that decided one "
        "case's payment: each definition's formula, inputs and value, the classes tried in "
        "order and why they did not match, and the adjustments applied.",
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
    parser.add_argument("--period", required=True, help="2024 or 2024-03")
    parser.add_argument("--stage", help="the stage to explain (default: the last settling one)")
    add_setting_arguments(parser)
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
    result = settle(
        policy, load_data(args.data, policy), Period.parse(args.period), settings_from(args)
    )
    return explain(result, args.case, args.stage)


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)
