"""Backends side by side (`make bench`): the same policy settled on polars, DuckDB and Spark.

For each size (default 1M and 10M cases) a synthetic city is generated once (`drgpolicy sample
--format parquet --parts …`, cached in `/tmp/drgpolicy-bench/backends-<n>`) and settled under
Xuancheng 2024 by `drgpolicy settle --backend B --format parquet` in a fresh process per
backend: wall time end to end (read Parquet, validate, settle, write) and peak memory (the
largest resident set of the process and the children it waited for — Spark's JVM — from
`wait4`). Each backend's `<stage>/*` outputs must have the sha256 of polars' (the manifests'
hashes): the equality guarantee, checked at scale. `--duckdb-only N` adds a DuckDB run with a
memory limit at a larger size.

    .venv/bin/python bench/backends_bench.py                          # 1M and 10M, three backends
    .venv/bin/python bench/backends_bench.py --sizes 1000000 --backends polars,duckdb
    .venv/bin/python bench/backends_bench.py --sizes 1000000 --duckdb-only 30000000 --limit 8GB
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "xuancheng" / "2024.policy"
CACHE = Path(tempfile.gettempdir()) / "drgpolicy-bench"
DRGPOLICY = Path(sys.executable).parent / "drgpolicy"
#: Cases per part when generating (bounded memory: `engine.synthetic.sample_parts`).
PART = 5_000_000


def dataset(cases: int) -> Path:
    """The city of `cases` cases (generated once, reused while its marker says so)."""
    folder = CACHE / f"backends-{cases}"
    marker = folder / "sample.json"
    if marker.exists() and json.loads(marker.read_text())["cases"] == cases:
        return folder
    parts = max(1, -(-cases // PART))
    command = [str(DRGPOLICY), "sample", "--out", str(folder), "--cases", str(cases)]
    subprocess.run([*command, "--format", "parquet", "--parts", str(parts)], check=True)
    return folder


def settle(data: Path, backend: str, limit: str | None, out: Path) -> dict[str, Any]:
    """One settlement in a fresh process: wall seconds, peak GB, the outputs' hashes."""
    command = [str(DRGPOLICY), "settle", "--policy", str(POLICY), "--data", str(data)]
    command += ["--period", "2024", "--any-date", "--out", str(out), "--format", "parquet"]
    command += ["--backend", backend, "--accept-rejects"]
    if limit:
        command += ["--memory-limit", limit]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    err = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) not in (0, 1) or not (out / "manifest.json").exists():
        raise SystemExit(f"{backend} at {data} failed after {wall:.0f} s:\n{err[-3000:]}")
    manifest = json.loads((out / "manifest.json").read_text())
    stages = {k: v for k, v in manifest["outputs"].items() if "/" in k}
    return {
        "wall_s": round(wall, 1),
        "peak_gb": round(usage.ru_maxrss / 2**20, 2),
        "hashes": stages,
    }


def run(
    sizes: Sequence[int], backends: Sequence[str], large: int | None, limit: str
) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="drgpolicy-backends-") as scratch:
        plan = [(n, b, limit if b == "duckdb" else None) for n in sizes for b in backends]
        plan += [(large, "duckdb", limit)] if large else []
        reference: dict[int, dict[str, str]] = {}
        for cases, backend, memory in plan:
            data = dataset(cases)
            found = settle(data, backend, memory, Path(scratch) / f"{backend}-{cases}")
            if backend == "polars":
                reference[cases] = found["hashes"]
            equal = found["hashes"] == reference[cases] if cases in reference else None
            row = {"cases": cases, "backend": backend, "memory_limit": memory, "equal": equal}
            rows.append(row | {k: found[k] for k in ("wall_s", "peak_gb")})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def table(rows: Sequence[dict[str, Any]]) -> str:
    lines = ["| cases | backend | memory limit | end to end (s) | peak (GB) | equal to polars |"]
    lines.append("|---:|---|---|---:|---:|---|")
    for r in rows:
        equal = {True: "byte-identical", False: "DIFFERENT", None: "(not compared)"}[r["equal"]]
        lines.append(
            f"| {r['cases']:,} | {r['backend']} | {r['memory_limit'] or '—'} | {r['wall_s']} | "
            f"{r['peak_gb']} | {equal} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--backends", default="polars,duckdb,spark")
    parser.add_argument("--duckdb-only", type=int, default=None, metavar="CASES")
    parser.add_argument("--limit", default="4GB", help="DuckDB's memory limit")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = run(sizes, args.backends.split(","), args.duckdb_only, args.limit)
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0 if all(r["equal"] is not False for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
