"""Settle, engine ÷ the hand-written plan: both policies, same data, same process, interleaved.

For each size (default 1M and 10M cases; the synthetic city of `settle_bench.py`, cached in
`/tmp/drgpolicy-bench/<n>`), the data is read once (`engine.run.settle.load_data`; the hand-written
plans make their integer keys from the same `Inputs` with `prepare`, not timed: "made once on
load"). Then `--runs` times in turn: the engine's `settle` of Xuancheng 2024, the hand-written
`bench/handwritten.py`, the engine's `settle` of `bench/simple/simple.policy`, its hand-written
`bench/simple/handwritten.py`. The ratio of the medians is checked against the target (≤ 1.3 at
1M and 10M for both policies). Before timing, each pair is checked to agree on every case
(category, payment to the fen; points within 1e-9 relative).

Like for like: a policy's settlement stage also has definitions that neither its outputs
nor its reports read — Xuancheng's take in the standard indicators' helpers (`include
"indicators"`: group means, mortality, the cost CV between hospitals), which the monitoring
stage computes itself and the hand-written plans do not compute. The engine is timed twice: as
`settle` runs by default (column `engine, all`) and as `drgpolicy settle` runs it, computing
only what the outputs read (`settle(..., written_only=True)`, column `engine`): the ratio, and
the target, are of the latter.

    .venv/bin/python bench/ratio_bench.py                      # 1M and 10M, median of 5
    .venv/bin/python bench/ratio_bench.py --sizes 1000000 --runs 3 --json out.json
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

import polars as pl  # noqa: E402

from bench import handwritten  # noqa: E402
from bench.settle_bench import DEFAULT_CACHE, dataset  # noqa: E402
from bench.simple import handwritten as simple  # noqa: E402
from engine.inputs.contract import Inputs  # noqa: E402
from engine.inputs.rundata import Period  # noqa: E402
from engine.plan import money  # noqa: E402
from engine.run.heap import keep_freed_pages  # noqa: E402
from engine.run.settle import (  # noqa: E402
    load_data,
    load_policy,
    settle,
)

XUANCHENG = ROOT / "policies" / "xuancheng" / "2024.policy"
YEAR = 2024
RATIO_LIMIT = 1.3
POINTS = ("base_points", "case_points", "coefficient", "settled_points", "point_value")


@dataclass
class Pair:
    """One policy at one size: the engine's and the hand-written settle times (seconds)."""

    policy: str
    size: int
    engine_s: list[float]
    hand_s: list[float]
    #: the engine on the whole policy (the definitions no output reads included)
    engine_all_s: list[float]
    #: CPU seconds of the process (all its threads), engine and by hand: on a shared machine
    #: the load moves them less than the wall-clock seconds
    engine_cpu_s: list[float] = field(default_factory=list)
    hand_cpu_s: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return statistics.median(self.engine_s) / statistics.median(self.hand_s)

    @property
    def cpu_ratio(self) -> float:
        return statistics.median(self.engine_cpu_s) / statistics.median(self.hand_cpu_s)


def disagreements(engine: pl.DataFrame, hand: pl.DataFrame) -> dict[str, int]:
    """Per output, the cases on which the engine and a hand-written plan differ."""
    expected = engine.with_columns(
        money.to_fen(pl.col("payment")).alias("payment"), pl.col("category").cast(pl.String)
    )
    got = hand.with_columns(pl.col("category").cast(pl.String))
    joined = expected.join(got, on="case_id", how="full", suffix="_hand")
    found = {}
    for name in ("category", "payment", *POINTS):
        a, b = pl.col(name), pl.col(f"{name}_hand")
        same = a.eq_missing(b)
        if name in POINTS:
            same = same | ((a - b).abs() <= 1e-9 * pl.max_horizontal(a.abs(), b.abs()))
        if bad := joined.filter(~same.fill_null(False)).height:
            found[name] = bad
    return found


def _timed(fn: Callable[[], Any], cpu: list[float] | None = None) -> float:
    """Wall-clock seconds of `fn()`; its CPU seconds appended to `cpu`."""
    gc.collect()
    start, start_cpu = time.perf_counter(), time.process_time()
    fn()
    if cpu is not None:
        cpu.append(time.process_time() - start_cpu)
    return time.perf_counter() - start


def measure(data: Path, size: int, runs: int) -> list[Pair]:
    """Both policies at one size: agreement first, then `runs` interleaved rounds."""
    period = Period.parse(str(YEAR))
    plans: list[tuple[str, Any, Inputs, Callable[[], pl.DataFrame]]] = []
    xuancheng = load_policy(XUANCHENG)
    inputs = load_data(data, xuancheng)
    prepared = handwritten.prepare(inputs, YEAR)
    plans.append(
        ("xuancheng 2024", xuancheng, inputs, lambda: handwritten.settle_prepared(prepared).cases)
    )
    simple_policy = load_policy(simple.POLICY)
    simple_inputs = load_data(data, simple_policy)
    simple_prepared = simple.prepare(simple_inputs, YEAR)
    plans.append(
        (
            "bench simple",
            simple_policy,
            simple_inputs,
            lambda: simple.settle_prepared(simple_prepared).cases,
        )
    )
    pairs = []
    for name, policy, loaded, hand in plans:
        engine_cases = settle(policy, loaded, period, written_only=True).cases()
        if found := disagreements(engine_cases, hand()):
            raise SystemExit(
                f"{name} at {size:,}: the engine and the hand-written plan differ: {found}"
            )
        pairs.append(Pair(name, size, [], [], []))
    for _ in range(runs):
        for pair, (_, policy, loaded, hand) in zip(pairs, plans, strict=True):
            pair.engine_s.append(
                _timed(
                    functools.partial(settle, policy, loaded, period, written_only=True),
                    pair.engine_cpu_s,
                )
            )
            pair.hand_s.append(_timed(hand, pair.hand_cpu_s))
            pair.engine_all_s.append(_timed(functools.partial(settle, policy, loaded, period)))
    return pairs


def report(pairs: Sequence[Pair]) -> list[str]:
    lines = [
        f"{'policy':<16} {'cases':>12} {'engine':>9} {'by hand':>9} {'ratio':>6}  target"
        f"{'':<12} {'engine, all':>11} {'ratio':>6}  "
        f"{'CPU: engine':>11} {'by hand':>8} {'ratio':>6}"
    ]
    for p in pairs:
        mark = "PASS" if p.ratio <= RATIO_LIMIT else "FAIL"
        whole = statistics.median(p.engine_all_s)
        lines.append(
            f"{p.policy:<16} {p.size:>12,} {statistics.median(p.engine_s):8.3f}s "
            f"{statistics.median(p.hand_s):8.3f}s {p.ratio:6.2f}  {mark} (≤ {RATIO_LIMIT}) "
            f"{whole:10.3f}s {whole / statistics.median(p.hand_s):6.2f}  "
            f"{statistics.median(p.engine_cpu_s):10.3f}s {statistics.median(p.hand_cpu_s):7.3f}s "
            f"{p.cpu_ratio:6.2f}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    keep_freed_pages()  # as `drgpolicy settle` does (engine.run.heap); the hand-written plans too
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--runs", type=int, default=5, help="interleaved rounds (median)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    pairs: list[Pair] = []
    for size in (int(s) for s in args.sizes.split(",")):
        pairs += measure(dataset(args.cache, size, args.seed), size, args.runs)
        print("\n".join(report([p for p in pairs if p.size == size])[-2:]), flush=True)
    print("\n".join(report(pairs)))
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json:
        figures = [asdict(p) | {"ratio": p.ratio, "cpu_ratio": p.cpu_ratio} for p in pairs]
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if all(p.ratio <= RATIO_LIMIT for p in pairs) else 1


if __name__ == "__main__":
    sys.exit(main())
