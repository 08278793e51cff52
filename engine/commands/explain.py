"""`drgpolicy explain`: why one case got what it got, step by step."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from engine.commands.settle import add_setting_arguments, settings_from
from engine.explain import explain
from engine.report_text import render_trace
from engine.rundata import Period
from engine.settle import load_data, load_policy, settle


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
    parser.add_argument("--data", required=True, type=Path, help="the data folder")
    parser.add_argument("--period", required=True, help="2024 or 2024-03")
    parser.add_argument("--stage", help="the stage to explain (default: the last settling one)")
    add_setting_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the trace as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)
    result = settle(
        policy, load_data(args.data, policy), Period.parse(args.period), settings_from(args)
    )
    trace = explain(result, args.case, args.stage)
    print(
        json.dumps(trace.to_json(), ensure_ascii=False, indent=2)
        if args.json
        else render_trace(trace)
    )
    return 0
