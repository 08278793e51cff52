"""`drgpolicy validate --data DIR [--policy FILE]`: what a settlement of a data folder would reject
and why, before any settlement (`engine.inputs.validation`). Exit 1 when anything would be."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from engine.commands.settle import add_data_argument, add_encoding_argument
from engine.inputs.rundata import Period
from engine.inputs.validation import Findings, validate_folder
from engine.run.settle import load_policy


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "validate",
        description="Read a data folder as a settlement would and report what it would reject "
        "and why: rows per file and reason with the first rows, the cases rejected because of "
        "their hospital or group, files it would refuse (a missing column, budget.yaml of the "
        "wrong shape) and, with --policy, what settle refuses before settling. Writes nothing; "
        "exit code 1 when anything would be rejected or refused.",
    )
    add_data_argument(parser)
    parser.add_argument(
        "--policy",
        type=Path,
        help="a .policy file: also check its own columns, budget figures, deductions and "
        "scores, and what settle refuses for the period",
    )
    parser.add_argument(
        "--period",
        help="with --policy: the period to check as settle would (default: the budget's year)",
    )
    add_encoding_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy) if args.policy else None
    period = Period.parse(args.period) if args.period else None  # refused in words, exit 1
    findings = validate_folder(args.data, policy, period, args.encoding)
    print(render(findings))
    if not findings.clean:
        print(
            f"{args.data}: settling it would reject or refuse what is listed above; fix the "
            "files (engine/CONTRACT.md says what each field takes), then validate again",
            file=sys.stderr,
        )
    return 0 if findings.clean else 1


def render(findings: Findings) -> str:
    """The findings as lines for a terminal: files, reasons, first rows, causes, refusals."""
    lines = [f"{findings.folder}:"]
    for count in findings.files:
        rejected = f", {count.rejected:,} rejected" if count.rejected else ", none rejected"
        if count.rejected and count.file.startswith("cases."):
            rejected += (
                f" ({count.rejected / count.read:.2%} of the case rows; settle fails above "
                "--max-reject-share, 1% by default)"
            )
        lines.append(f"  {count.file}: {count.read:,} rows read{rejected}")
    lines += [f"  {note}" for note in findings.notes]
    if findings.reasons:
        lines += ["", "rejected rows, per file and reason:"]
        for reason in findings.reasons:
            rows = ", ".join(map(str, reason.first_rows))
            more = ", …" if reason.rows > len(reason.first_rows) else ""
            counted = f"1 row (row {rows})" if reason.rows == 1 else f"{reason.rows:,} rows "
            counted += "" if reason.rows == 1 else f"(rows {rows}{more})"
            lines.append(f"  {reason.file} {reason.field}: {counted}, e.g. {reason.example}")
        lines += ["", f"the first {len(findings.first)} rejected rows (file, row, key, field):"]
        lines += [
            f"  {r['file']} row {r['row']} {r['key'] or '(no key)'} {r['field']}: {r['reason']}"
            for r in findings.first
        ]
    if findings.because:
        lines += ["", "cases rejected because of their hospital or group:"]
        lines += [f"  {line}" for line in findings.because]
    if findings.refused:
        lines += ["", "refused (settle would stop, nothing written):"]
        lines += [f"  {problem}" for problem in findings.refused]
    lines += ["", "nothing would be rejected" if findings.clean else "NOT CLEAN"]
    return "\n".join(lines)
