"""`drgpolicy render POLICY --out DIR [--vs OLD]`: the policy as a document to sign (政策文本) —
`policy.html`, and `policy.pdf` where Chromium is installed — and with `--vs` a version against
its predecessor as a redline (`redline.html`, `redline.pdf`), clause by clause as `drgpolicy
diff` lists them. The quotes' passages come from the documents' texts (`--sources`, as for
`check`). When the version's folder has a fidelity ledger (条文对照表, `fidelity.md`) that covers
it, policy.html shows it after the clauses, each rule a link to its clause; a ledger that does not
check is shown under the list of its problems (and a note on stderr says how many). `--out` is
replaced as a whole, atomically, as for `settle`: it must be new, empty or an earlier render (its
`render.json`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from engine.commands.check import add_sources_argument, sources_of
from engine.render.clauses import clauses
from engine.render.ledger import covering_ledger
from engine.render.pages import document_html, redline_html
from engine.render.pdf import chromium, print_pdf
from engine.run.out_folder import MARKER_KEY, RENDER, inside
from engine.run.outputs import policy_paths, write_folder_with
from engine.run.progress import add_quiet_argument, progress_for, reporting, step
from policy_dsl.diff import checked_versions, diff_versions
from policy_dsl.lower import lower


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "render",
        description="Write the policy as a readable page — every clause in Chinese with its "
        "formula, the words of its source beside it, every assumption marked — and, with --vs, "
        "a redline of the changes from an earlier version (exactly those `drgpolicy diff` "
        "lists). PDF copies are printed by headless Chromium where it is installed.",
    )
    parser.add_argument("policy", type=Path, help="the .policy file to render")
    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        help="folder for policy.html (and policy.pdf, redline.html, redline.pdf), replaced "
        "as a whole: new, empty or an earlier render",
    )
    parser.add_argument(
        "--vs", type=Path, metavar="OLD", help="an earlier version: also write the redline"
    )
    parser.add_argument("--no-pdf", action="store_true", help="write the HTML pages only")
    add_sources_argument(parser, " (the passage of each quote is shown beside it)")
    add_quiet_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with reporting(progress_for(args)):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    folders = sources_of(args)
    with step("check the versions"):
        paths = [args.vs, args.policy] if args.vs else [args.policy]
        checked = checked_versions(*paths)
    new = checked[-1]
    with step("check the ledger"):
        ledger = covering_ledger(args.policy, folders)
    with step("write the policy document"):
        pages = {"policy.html": document_html(new, folders, ledger)}
    if args.vs:
        with step("compare the versions"):
            pages["redline.html"] = redline_html(checked[0], new, folders)
    browser = None if args.no_pdf else chromium()
    protect = [p for c in checked for p in policy_paths(lower(c))]

    ids = [c.clause for clause in clauses(new.resolved) for c in clause.all()]

    def fill(staging: Path) -> dict[str, Any]:
        return _write(staging, pages, browser, args, ids)

    record = write_folder_with(args.out, fill, kind=RENDER, protect=protect)
    for note in record["notes"]:
        print(f"note: {note}", file=sys.stderr)
    if ledger is not None and ledger.diagnostics:
        print(
            f"note: {ledger.ledger.path} has {len(ledger.diagnostics)} problem(s) "
            f"({ledger.errors} error(s)), listed in policy.html above its rows: check it "
            "(drgpolicy check) before signing",
            file=sys.stderr,
        )
    header = new.resolved.header
    changes = len(diff_versions(checked[0].resolved, new.resolved)) if args.vs else None
    print(
        f"{header.city} {header.version}: {len(record['clauses'])} clauses in "
        f"{args.out / 'policy.html'}"
        + (f"; ledger: {len(ledger.ledger.rows)} rows" if ledger is not None else "")
        + (f"; {changes} changes in {args.out / 'redline.html'}" if changes is not None else "")
        + (f"; PDF: {', '.join(record['pdf'])}" if record["pdf"] else "")
    )
    return 0


def _write(
    staging: Path,
    pages: dict[str, str],
    browser: Path | None,
    args: argparse.Namespace,
    ids: list[str],
) -> dict[str, Any]:
    """The pages, their PDFs where Chromium prints them, and `render.json`."""
    hashes, pdfs, notes = {}, [], []
    for name, html in pages.items():
        path = inside(staging, name)
        path.write_text(html, encoding="utf-8")
        hashes[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        if browser is None:
            continue
        pdf = path.with_suffix(".pdf")
        with step(f"print {pdf.name}"):
            problem = print_pdf(path, pdf, browser)
        if problem is None:
            pdfs.append(pdf.name)
        else:
            notes.append(f"no {pdf.name}: {problem}")
    if browser is None and not args.no_pdf:
        notes.append(
            "no PDF: Chromium was not found (set DRGPOLICY_CHROMIUM, or install chromium); "
            "print the HTML page from a browser"
        )
    record = {
        MARKER_KEY: RENDER.name,
        "policy": str(args.policy),
        "vs": str(args.vs) if args.vs else None,
        "pages": hashes,
        "pdf": pdfs,
        "notes": notes,
        "clauses": ids,
    }
    text = json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True)
    inside(staging, RENDER.marker).write_text(text + "\n", encoding="utf-8")
    return record


__all__ = ["register", "run"]
