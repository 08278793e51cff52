"""`drgpolicy sample`: generate a realistic synthetic city (cases, hospitals, groups, budget,
deductions and assessment scores)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from engine.run.out_folder import SAMPLE
from engine.run.outputs import write_folder_with
from engine.run.progress import add_quiet_argument, progress_for, reporting
from engine.synthetic.sample import generate_sample
from engine.synthetic.sample_parts import generate_in_parts


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sample",
        description="Write cases, hospitals, a CHS-DRG-shaped group catalog, a budget, "
        "deductions and assessment scores for one year; the same arguments always give the "
        "same files.",
    )
    parser.add_argument("--out", required=True, type=Path, help="folder to write")
    parser.add_argument("--cases", required=True, type=int, help="number of cases")
    parser.add_argument("--seed", type=int, default=2024, help="random seed (default 2024)")
    parser.add_argument("--year", type=int, default=2024, help="settlement year (default 2024)")
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument(
        "--parts",
        type=int,
        default=1,
        help="draw and write the cases in this many parts (Parquet; memory of one part): "
        "e.g. --cases 100000000 --parts 20",
    )
    add_quiet_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Generate into a fresh folder beside `--out` and swap it in: `--out` must be new, empty or
    an earlier sample (its `sample.json`), so no other folder's files are overwritten."""

    def fill(staging: Path) -> dict[str, Any]:
        if args.parts > 1:
            return generate_in_parts(
                staging, cases=args.cases, seed=args.seed, parts=args.parts, year=args.year
            )
        return generate_sample(
            staging, cases=args.cases, seed=args.seed, year=args.year, fmt=args.format
        )

    with reporting(progress_for(args)):
        summary = write_folder_with(args.out, fill, kind=SAMPLE)
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0
