"""The Excel workbook against CSV (`docs/outputs.md`): a generated city settled under Xuancheng
2024 by the command, once with the CSV tables and once with `--format xlsx`, each in a fresh
process; prints per run the seconds end to end, the seconds of writing the tables (from the
run's own timings line), the size of the outputs and the peak resident memory.

    .venv/bin/python bench/xlsx_bench.py                 # 1,000,000 cases
    .venv/bin/python bench/xlsx_bench.py --cases 100000

The city is generated once into `/tmp/drgpolicy-bench/xlsx-<n>` (Parquet) and reused.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "xuancheng" / "2024.policy"
DRGPOLICY = [sys.executable, "-m", "engine.cli"]
WRITE = re.compile(r"write the outputs (\d+\.\d+) s")


def city(cases: int, cache: Path) -> Path:
    folder = cache / f"xlsx-{cases}"
    if not (folder / "sample.json").is_file():
        argv = [*DRGPOLICY, "sample", "--out", str(folder), "--cases", str(cases)]
        subprocess.run([*argv, "--seed", "7", "--format", "parquet", "--quiet"], check=True)
    return folder


def settle(data: Path, out: Path, *more: str) -> tuple[float, float, int, int]:
    """Seconds end to end, seconds writing, bytes written, peak resident bytes."""
    shutil.rmtree(out, ignore_errors=True)
    argv = [*DRGPOLICY, "settle", "--policy", str(POLICY), "--data", str(data)]
    argv += ["--period", "2024", "--out", str(out), "--any-date", *more]
    started = time.perf_counter()
    child = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    err = child.stderr.read().decode() if child.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"settle failed: {err[-2000:]}")
    found = WRITE.search(err.splitlines()[-1])
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return seconds, float(found.group(1)) if found else float("nan"), size, usage.ru_maxrss * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "drgpolicy-bench"
    )
    args = parser.parse_args()
    data = city(args.cases, args.cache)
    print(f"{args.cases:,} cases, Xuancheng 2024")
    print("| output | end to end | writing the tables | size | peak memory |")
    print("|---|---:|---:|---:|---:|")
    for name, more in (("CSV (default)", []), ("`--format xlsx`", ["--format", "xlsx"])):
        seconds, writing, size, peak = settle(data, args.cache / "xlsx-out", *more)
        print(
            f"| {name} | {seconds:.1f} s | {writing:.1f} s | {size / 1e6:,.0f} MB | "
            f"{peak / 1e9:.2f} GB |"
        )


if __name__ == "__main__":
    main()
