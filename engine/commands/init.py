"""`drgpolicy init CITY`: start a new city — a commented policy that checks and settles at once,
an example test that passes, and a `sources/` folder for its documents (`engine.new_city`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from engine.new_city import METHODS, create_city


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "init",
        help="start a new city: a policy that checks and settles, an example, a sources folder",
        description="Make policies/CITY with a commented starting policy (in Chinese) for the "
        "payment method, one example test and a sources/ folder for the city's documents; or "
        "start from a version of another city (--from). An existing city folder is never "
        "touched.",
    )
    parser.add_argument("city", help="the city's name in Latin letters, e.g. hefei")
    parser.add_argument(
        "--method",
        choices=METHODS,
        default="points",
        help="points (点数法, the default) or rate (费率法)",
    )
    parser.add_argument(
        "--year",
        type=int,
        help="the year of the first version (its name and effective dates); default: this year",
    )
    parser.add_argument(
        "--from",
        dest="start_from",
        metavar="CITY/VERSION",
        help="start from this version of another city (its rules in one file, its dates and "
        "its examples), e.g. xuancheng/2024",
    )
    parser.add_argument(
        "--policies",
        type=Path,
        default=Path("policies"),
        metavar="DIR",
        help="the folder of the cities (default: policies)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    made = create_city(args.policies, args.city, args.method, args.year, args.start_from)
    folder = args.policies / args.city
    print(f"made {folder}/:")
    for name in made.files:
        print(f"  {folder / name}")
    policy = folder / made.policy
    steps = [
        (f"drgpolicy check {folder}", "it checks clean"),
        (f"drgpolicy test {folder}", "its example passes"),
        (f"drgpolicy validate --data DIR --policy {policy}", "your data, before settling"),
        (f"drgpolicy settle --policy {policy} --data DIR --period YEAR --out out/{args.city}", ""),
    ]
    width = max(len(command) for command, _ in steps[:3])
    print("next:")
    for command, what in steps:
        print(f"  {command.ljust(width)}  # {what}" if what else f"  {command}")
    return 0
