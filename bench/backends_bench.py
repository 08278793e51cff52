"""Backends side by side (`make bench`): the same policy settled on polars, DuckDB and Spark.

For each size (default 1M and 10M cases) a synthetic city is generated once (`drgpolicy sample
--format parquet --parts …`, cached in `/tmp/drgpolicy-bench/backends-<n>`) and settled under
Xuancheng 2024 by `drgpolicy settle --backend B --format parquet` in a fresh process per
backend: wall time end to end (read Parquet, validate, settle, write) and peak memory (the
largest resident set of the process and the children it waited for — Spark's JVM — from
`wait4`). Each backend's `<stage>/*` outputs must equal polars': a CSV file's sha256 (the
manifest's), a Parquet file's schema and rows (DuckDB's writer makes other bytes of the same
table) — the equality guarantee, checked at scale. `--duckdb-only N` adds a DuckDB run with a
memory limit at a larger size. Spark runs with `--spark-limit` (12 GB) of driver memory — in
local mode all of Spark's: with its default 4 GiB, 10M cases ran out of heap. A run that fails,
or takes longer than `--timeout` (20 minutes), is a row "did not finish" with its error; each
row has the load average before and after it (the machine is shared). Last, PASS / FAIL / NOT
RUN for each target of issue 14 (`targets`).

    .venv/bin/python bench/backends_bench.py                          # 1M and 10M, three backends
    .venv/bin/python bench/backends_bench.py --sizes 1000000 --backends polars,duckdb
    .venv/bin/python bench/backends_bench.py --sizes 1000000 --duckdb-only 30000000 --limit 8GB
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

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


#: The issue's targets (issue 14): DuckDB at 100M within 8 GB and 10 minutes; Spark at 10M.
DUCKDB_CASES, DUCKDB_GB, DUCKDB_S = 100_000_000, 8.0, 600.0
SPARK_CASES = 10_000_000


def settle(
    data: Path, backend: str, limit: str | None, out: Path, timeout: float
) -> dict[str, Any]:
    """One settlement in a fresh process: wall seconds, peak GB, the outputs' hashes — or why
    it did not finish (its error, or the timeout that stopped it)."""
    command = [str(DRGPOLICY), "settle", "--policy", str(POLICY), "--data", str(data)]
    command += ["--period", "2024", "--any-date", "--out", str(out), "--format", "parquet"]
    command += ["--backend", backend, "--accept-rejects", "--quiet"]
    if limit:
        command += ["--memory-limit", limit]
    start = time.perf_counter()
    spill = out.parent / f"{out.name}-tmp"  # the process's TMPDIR: DuckDB spills there
    spill.mkdir()
    with tempfile.TemporaryFile() as err:
        environment = os.environ | {"TMPDIR": str(spill)}
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, env=environment)
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        spilled = Largest(spill)
        _, status, usage = os.wait4(process.pid, 0)
        timer.cancel()
        wall = time.perf_counter() - start
        err.seek(0)
        error = err.read().decode(errors="replace")[-2000:]
    found: dict[str, Any] = {"wall_s": round(wall, 1), "peak_gb": round(usage.ru_maxrss / 2**20, 2)}
    found["spill_gb"] = round(spilled.stop() / 2**30, 2)
    shutil.rmtree(spill, ignore_errors=True)
    if wall >= timeout:
        return found | {"failed": f"stopped after the timeout of {timeout:.0f} s"}
    if os.waitstatus_to_exitcode(status) not in (0, 1) or not (out / "manifest.json").exists():
        return found | {"failed": error.strip().splitlines()[-1] if error.strip() else "no output"}
    manifest = json.loads((out / "manifest.json").read_text())
    files = {k: v for k, v in manifest["outputs"].items() if "/" in k}
    return found | {"hashes": {k: content(out / k, v) for k, v in files.items()}}


def content(path: Path, sha256: str) -> str:
    """What must be equal across backends: a CSV file's bytes (its sha256), a Parquet file's
    columns, types and rows (DuckDB writes its cases tables itself: the same content, other
    bytes; `engine.run.case_file`)."""
    if path.suffix != ".parquet":
        return sha256
    frame = pl.read_parquet(path)
    digest = hashlib.sha256(str(frame.schema).encode())
    digest.update(frame.hash_rows().to_numpy().tobytes())
    return digest.hexdigest()


class Largest:
    """The largest size a folder reached (its files' bytes, every half second) while a run
    wrote to it: how much DuckDB spilled."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.largest, self.done = folder, 0, threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        while not self.done.wait(0.5):
            sizes = []
            for path in self.folder.rglob("*"):
                try:
                    sizes.append(path.stat().st_size if path.is_file() else 0)
                except OSError:  # removed while listed
                    continue
            self.largest = max(self.largest, sum(sizes))

    def stop(self) -> int:
        self.done.set()
        self.thread.join()
        return self.largest


def run(
    sizes: Sequence[int],
    backends: Sequence[str],
    large: int | None,
    limit: str,
    timeout: float,
    spark_limit: str | None = None,
) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="drgpolicy-backends-") as scratch:
        limits = {"duckdb": limit, "spark": spark_limit}
        plan = [(n, b, limits.get(b)) for n in sizes for b in backends]
        plan += [(large, "duckdb", limit)] if large else []
        reference: dict[int, dict[str, str]] = {}
        for cases, backend, memory in plan:
            data = dataset(cases)
            load = os.getloadavg()[0]
            found = settle(data, backend, memory, Path(scratch) / f"{backend}-{cases}", timeout)
            shutil.rmtree(Path(scratch) / f"{backend}-{cases}", ignore_errors=True)
            if backend == "polars" and "hashes" in found:
                reference[cases] = found["hashes"]
            equal = (
                found["hashes"] == reference[cases]
                if cases in reference and "hashes" in found
                else None
            )
            row = {"cases": cases, "backend": backend, "memory_limit": memory, "equal": equal}
            row |= {"load_before": round(load, 1), "load_after": round(os.getloadavg()[0], 1)}
            rows.append(row | {k: v for k, v in found.items() if k != "hashes"})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def table(rows: Sequence[dict[str, Any]]) -> str:
    lines = [
        "| cases | backend | memory limit | end to end (s) | peak (GB) | spilled (GB) "
        "| load (1 min) | outputs |",
        "|---:|---|---|---:|---:|---:|---|---|",
    ]
    for r in rows:
        equal = {True: "byte-identical", False: "DIFFERENT", None: "(not compared)"}[r["equal"]]
        outcome = f"did not finish: {r['failed']}" if "failed" in r else equal
        lines.append(
            f"| {r['cases']:,} | {r['backend']} | {r['memory_limit'] or '—'} | {r['wall_s']} | "
            f"{r['peak_gb']} | {r.get('spill_gb', '—')} | {r['load_before']} → {r['load_after']} "
            f"| {outcome} |"
        )
    return "\n".join(lines)


def targets(rows: Sequence[dict[str, Any]], sizes: Sequence[int]) -> list[str]:
    """PASS or FAIL for each target of the issue, from the rows measured (NOT RUN if none)."""

    def finished(backend: str, cases: int) -> list[dict[str, Any]]:
        return [
            r for r in rows if r["backend"] == backend and r["cases"] >= cases and "failed" not in r
        ]

    def tried(backend: str, cases: int) -> bool:
        return any(r["backend"] == backend and r["cases"] >= cases for r in rows)

    def verdict(ok: bool, ran: bool) -> str:
        return "PASS" if ok else "FAIL" if ran else "NOT RUN"

    duck = finished("duckdb", DUCKDB_CASES)
    duck_ok = any(r["peak_gb"] <= DUCKDB_GB and r["wall_s"] <= DUCKDB_S for r in duck)
    side = all(
        any(r["backend"] == b and r["cases"] == n and r["equal"] for r in rows)
        for n in sizes
        for b in ("duckdb", "spark")
    )
    different = any(r["equal"] is False for r in rows)
    return [
        f"{verdict(duck_ok, tried('duckdb', DUCKDB_CASES))}: DuckDB settles "
        f"{DUCKDB_CASES:,} cases within {DUCKDB_GB:g} GB and {DUCKDB_S / 60:g} minutes",
        f"{verdict(bool(finished('spark', SPARK_CASES)), tried('spark', SPARK_CASES))}: Spark "
        f"local settles {SPARK_CASES:,} cases",
        f"{verdict(side, bool(rows))}: polars, DuckDB and Spark side by side at "
        f"{', '.join(f'{n:,}' for n in sizes)}, byte-identical",
        f"{'FAIL' if different else 'PASS'}: no backend's outputs differ from polars'",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--backends", default="polars,duckdb,spark")
    parser.add_argument("--duckdb-only", type=int, default=None, metavar="CASES")
    parser.add_argument("--limit", default="4GB", help="DuckDB's memory limit")
    parser.add_argument(
        "--spark-limit", default="12GB", help="Spark's driver memory (local: all of Spark's)"
    )
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds per run")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    backends = args.backends.split(",")
    rows = run(sizes, backends, args.duckdb_only, args.limit, args.timeout, args.spark_limit)
    print(table(rows))
    print("\n".join(targets(rows, sizes)))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0 if all(r["equal"] is not False for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
