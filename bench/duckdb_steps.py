"""Where a DuckDB settlement spends its memory and time, step by step (issue 14's 8 GB target).

Runs `drgpolicy settle --backend duckdb --format parquet` (Xuancheng 2024) in this process with
each step of the run wrapped: its wall time, the resident set when it starts and ends, and the
largest resident set while it runs (`/proc/self/status` VmRSS, sampled every 10 ms by a
thread). A step within another shows indented; the last row is the whole run and its peak
(`getrusage`). The data folder is generated once (`drgpolicy sample --format parquet`).

    .venv/bin/python bench/duckdb_steps.py --cases 1000000 --limit 4GB
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "xuancheng" / "2024.policy"
DRGPOLICY = Path(sys.executable).parent / "drgpolicy"

#: (module, attribute, step): the functions timed, where the run calls them; `Class.method`
#: for a class's method. One the code does not have (an older commit) is left out.
PROBES = [
    ("engine.commands.settle", "load_data", "read and validate the inputs"),
    ("engine.plan.sql.validation", "_texts_found", "what the text columns hold (polars)"),
    ("engine.plan.sql.validation", "_checked", "check the case file in DuckDB"),
    ("engine.plan.sql.validation", "_duplicate", "duplicate keys, from the checked table"),
    ("engine.plan.sql.validation", "_read", "read rows back (rejected, accepted)"),
    ("engine.plan.sql.validation", "_kept", "type the accepted cases in the database"),
    ("engine.inputs.contract", "checked_table", "word the rejects"),
    ("engine.inputs.contract", "_with_case_derivations", "case derivations (month, ungrouped)"),
    ("engine.run.settle", "load_supervision", "supervision files"),
    ("engine.commands.settle", "settle", "settle"),
    ("engine.run.settle", "check_columns", "check columns"),
    ("engine.inputs.rundata", "RunData.build", "RunData.build (period, level/tier, codes)"),
    ("engine.inputs.rundata", "RunData.in_database", "the period's cases as a view"),
    ("engine.run.settle", "check_scores", "check scores"),
    ("engine.plan.sql.plan", "Tables.register", "register the inputs in DuckDB"),
    ("engine.plan.sql.backends", "SqlStages.run", "stage"),
    ("engine.commands.settle", "fill_outputs", "write the outputs"),
    ("engine.run.case_file", "write_case_files", "cases tables (DuckDB COPY)"),
    ("engine.run.indicators", "evaluate", "monitoring stage"),
    ("engine.plan.sql.backends", "SqlStages.monitoring", "in DuckDB"),
    ("engine.inputs.rundata", "RunData.with_case_columns", "read back its case columns"),
]


def rss() -> int:
    """This process's resident set now (bytes)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class Steps:
    """The steps timed so far, and a thread keeping each open step's largest resident set."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.open: list[dict[str, Any]] = []
        self.done = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self.done.wait(0.01):
            now = rss()
            for row in list(self.open):
                row["peak"] = max(row["peak"], now)

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            label = name
            if name == "stage":
                label = f"stage {args[1].name}"
            now = rss()
            row = {"step": label, "depth": len(self.open), "start": now, "peak": now}
            self.rows.append(row)
            self.open.append(row)
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                row["seconds"] = time.perf_counter() - began
                row["end"] = rss()
                row["peak"] = max(row["peak"], row["end"])
                self.open.remove(row)

        return timed


def install(steps: Steps) -> None:
    for module_name, attribute, name in PROBES:
        module = importlib.import_module(module_name)
        if "." in attribute:
            owner_name, method = attribute.split(".")
            owner = getattr(module, owner_name)
            if method not in owner.__dict__:
                continue
            raw = owner.__dict__[method]
            if isinstance(raw, classmethod):
                setattr(owner, method, classmethod(steps.wrap(name, raw.__func__)))
            else:
                setattr(owner, method, steps.wrap(name, raw))
        elif hasattr(module, attribute):
            setattr(module, attribute, steps.wrap(name, getattr(module, attribute)))


def dataset(cases: int, folder: Path) -> Path:
    if not (folder / "sample.json").exists():
        parts = max(1, -(-cases // 5_000_000))
        command = [str(DRGPOLICY), "sample", "--out", str(folder), "--cases", str(cases)]
        command += ["--format", "parquet", "--parts", str(parts), "--quiet"]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=300_000)
    parser.add_argument("--limit", default="4GB", help="DuckDB's --memory-limit")
    parser.add_argument("--data", type=Path, help="a data folder (default: generated)")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    data = args.data or dataset(
        args.cases, Path(tempfile.gettempdir()) / "drgpolicy-bench" / f"steps-{args.cases}"
    )
    from engine import cli

    steps = Steps()
    install(steps)
    load = os.getloadavg()[0]
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="drgpolicy-steps-") as scratch:
        command = ["settle", "--policy", str(POLICY), "--data", str(data), "--period", "2024"]
        command += ["--any-date", "--out", f"{scratch}/out", "--format", "parquet", "--quiet"]
        command += ["--backend", "duckdb", "--memory-limit", args.limit, "--accept-rejects"]
        with contextlib.suppress(SystemExit):
            cli.main(command)
    wall = time.perf_counter() - began
    steps.done.set()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    gb = 2**30
    print(f"{args.cases:,} cases, --memory-limit {args.limit}, load {load:.1f} → "
          f"{os.getloadavg()[0]:.1f}")  # fmt: skip
    print("| step | s | RSS at start (GB) | peak in step (GB) | RSS at end (GB) |")
    print("|---|---:|---:|---:|---:|")
    for row in steps.rows:
        indent = "&nbsp;&nbsp;" * row["depth"]
        print(
            f"| {indent}{row['step']} | {row['seconds']:.1f} | {row['start'] / gb:.2f} | "
            f"{row['peak'] / gb:.2f} | {row['end'] / gb:.2f} |"
        )
    print(f"| **whole run** | {wall:.1f} | | {peak / gb:.2f} | |")
    if args.json:
        args.json.write_text(json.dumps({"rows": steps.rows, "wall": wall, "peak": peak}))


if __name__ == "__main__":
    main()
