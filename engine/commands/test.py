"""`drgpolicy test`: run the analysts' example tests of the policies."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from engine.commands.settle import add_encoding_argument
from engine.inputs.terms import shown, shown_lines
from engine.run.examples import example_files, run_example
from policy_dsl.errors import PolicyError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "test",
        description="Run every example under the given folders (or the given example files); "
        "show each failure as expected / got (money to the fen) with the trace of the failing "
        "case, or of the failing hospital or period value: its formula, the values it reads "
        "there and, each once, the definitions it reads.",
    )
    parser.add_argument(
        "paths", nargs="+", type=Path, help="policies/, a city folder or example files"
    )
    add_encoding_argument(parser, "the example files")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    files = [f for path in args.paths for f in example_files(path)]
    if not files:
        given = shown(" ".join(str(path) for path in args.paths))
        print(f"no example files in {given}: an example is <city>/examples/*.yaml", file=sys.stderr)
        return 1
    failed = 0
    for path in files:
        try:
            outcome = run_example(path, args.encoding)
        except PolicyError as exc:
            print(shown_lines(f"ERROR {path}\n  {exc}"))
            failed += 1
            continue
        verdict = "PASS" if outcome.passed else "FAIL"
        print(shown(f"{verdict}  {path}  {outcome.example.title}"))
        for mismatch in outcome.mismatches:
            print(mismatch.render())
        failed += not outcome.passed
    print(f"{len(files) - failed} passed, {failed} failed", file=sys.stderr)
    return 1 if failed or not files else 0
