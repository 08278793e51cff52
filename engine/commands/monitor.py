"""`drgpolicy monitor RUN_DIRS… --out DIR`: the indicators of a city's runs (the output folders
of `settle`, e.g. the twelve months of a year) side by side — trends, targets, outliers — as
`report.html` and `monitor.json` (`engine.monitor`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from engine.monitor import Monitoring, read_runs, write_monitoring
from engine.run.run_lock import hold


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "monitor",
        description="Read the indicators.csv of each run (the --out folders of `drgpolicy "
        "settle` for one city, periods of one length that do not overlap, e.g. its twelve "
        "months) and write report.html (one "
        "self-contained page with charts) and monitor.json (every value) to --out.",
    )
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR", help="a settle output")
    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        help="output folder, replaced as a whole: new, empty or an earlier monitoring report",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with hold(args.out):
        monitoring = Monitoring.of(read_runs(args.runs))
        write_monitoring(monitoring, args.out)
    missed = sum(o.kind == "target" for o in monitoring.outliers)
    history = sum(o.kind == "history" for o in monitoring.outliers)
    print(
        f"{monitoring.title()}: {len(monitoring.series)} series; {missed} value(s) miss a "
        f"target, {history} far from their hospital's history; report in {args.out}",
        file=sys.stderr,
    )
    return 0
