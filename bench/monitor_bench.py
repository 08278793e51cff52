"""Run-monitoring benchmark: what the indicators add to a settlement, and what `monitor` costs.

For each size (default 100k and 1M cases) a synthetic city is generated once (as
`settle_bench.py` does, into `/tmp/drgpolicy-bench/<n>`, Parquet) and settled for the year under
Xuancheng 2024 in this process: the settlement, then the indicators (`engine.run.indicators`: the
monitoring stage and the long table of `indicators.csv`), each timed (wall and CPU seconds,
best of `--repeat`). Then the sample's twelve Wuxi months are settled with their indicators and
`drgpolicy monitor` reads them back and writes its report (timed).

    .venv/bin/python bench/monitor_bench.py
    .venv/bin/python bench/monitor_bench.py --sizes 100000,1000000,10000000 --repeat 2

Target (PASS/FAIL): at 1M cases the indicators (some forty, each at up to six grains) cost at
most 1.5 times the settlement itself, in CPU seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from engine.cli import main as cli  # noqa: E402
from engine.inputs.rundata import Period  # noqa: E402
from engine.run.settle import load_data, load_policy, settle  # noqa: E402
from engine.synthetic.sample import generate_sample  # noqa: E402

POLICY = ROOT / "policies" / "xuancheng" / "2024.policy"
CACHE = Path(tempfile.gettempdir()) / "drgpolicy-bench"
RATIO_SIZE, RATIO_LIMIT = 1_000_000, 1.5


def city(size: int) -> Path:
    folder = CACHE / f"monitor-{size}"
    if not (folder / "sample.json").is_file():
        generate_sample(folder, cases=size, seed=7, fmt="parquet")
    return folder


def timed(run: object) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()  # type: ignore[operator]
    return time.perf_counter() - wall, time.process_time() - cpu, result


def measure(size: int, repeat: int) -> dict[str, float]:
    policy = load_policy(POLICY)
    inputs = load_data(city(size), policy)
    best: dict[str, float] = {}
    for _ in range(repeat):
        wall, cpu, result = timed(lambda: settle(policy, inputs, Period(2024)))
        i_wall, i_cpu, table = timed(result.indicators)  # type: ignore[attr-defined]
        if not best or wall + i_wall < best["settle"] + best["indicators"]:
            best = {
                "settle": wall,
                "settle_cpu": cpu,
                "indicators": i_wall,
                "indicators_cpu": i_cpu,
                "rows": float(table.height),  # type: ignore[attr-defined]
            }
    return best


def monitor_months() -> float:
    with tempfile.TemporaryDirectory() as root:
        folders: list[str] = []
        for month in range(1, 13):
            out = f"{root}/2024-{month:02d}"
            argv = ["settle", "--policy", str(ROOT / "policies/wuxi/2024.policy")]
            argv += ["--data", str(ROOT / "sample"), "--period", f"2024-{month:02d}"]
            argv += ["--out", out, *(["--previous", folders[-1]] if folders else [])]
            with (
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.redirect_stderr(io.StringIO()),
            ):
                assert cli(argv) == 0
            folders.append(out)
        report = ["monitor", *folders, "--out", f"{root}/report"]
        with contextlib.redirect_stderr(io.StringIO()):
            wall, _, code = timed(lambda: cli(report))
        assert code == 0
        return wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    print("cases       settle (wall / cpu)   indicators (wall / cpu)   ratio   rows")
    ratios = {}
    for size in (int(s) for s in args.sizes.split(",")):
        found = measure(size, args.repeat)
        ratio = found["indicators"] / found["settle"]
        ratios[size] = found["indicators_cpu"] / found["settle_cpu"]
        print(
            f"{size:>10,}  {found['settle']:6.2f} s / {found['settle_cpu']:6.2f} s   "
            f"{found['indicators']:6.2f} s / {found['indicators_cpu']:6.2f} s      "
            f"{ratio:5.2f}   {found['rows']:,.0f}"
        )
    print(f"monitor of the sample's twelve Wuxi months: {monitor_months():.2f} s")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    if RATIO_SIZE in ratios:
        verdict = "PASS" if ratios[RATIO_SIZE] <= RATIO_LIMIT else "FAIL"
        print(
            f"indicators ÷ settle at {RATIO_SIZE:,} (CPU): {ratios[RATIO_SIZE]:.2f} "
            f"{verdict} (≤ {RATIO_LIMIT})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
