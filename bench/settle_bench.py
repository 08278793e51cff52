"""Settlement benchmark (`make bench`): the engine against a hand-written polars plan.

For each size (default 100k, 1M and 10M cases) a synthetic city is generated once with
`engine.synthetic.sample.generate_sample` into a cache folder (`/tmp/drgpolicy-bench/<n>`, reused
while its seed matches) and settled under Xuancheng 2024 twice, each run in a fresh subprocess:

- engine:       load_data → settle → write_outputs (Parquet; then the same outputs as CSV,
                timed apart: the first write also computes the policy's indicators, once)
                (then `explain` on random cases);
- hand-written: `bench/handwritten.py` (load_inputs → settle → write_outputs).

Each run reports its phases (load+validate, settle, write outputs), end to end (the three
phases: read Parquet, settle, write), cases/second and peak memory (the child's maximum resident
set size, from `wait4`, as `/usr/bin/time -v` measures it). After its timed phases each run saves
its per-case values as computed (`<out>-values.parquet`: the engine's files round points and
ratios to 4 decimals, `engine.run.decimals`, the hand-written plan's do not), and the two are
compared as `ratio_bench.disagreements` compares them: category and payment to the fen equal,
points and coefficients within 1e-9 relative, on every case. Compiling the policy is timed warm
(median of several compiles in one process) and cold (first compile in fresh processes), each
with the compile cache (`engine.run.compile_cache`, a folder of its own under `--cache`) and
without it.

    .venv/bin/python bench/settle_bench.py                       # 100k, 1M, 10M
    .venv/bin/python bench/settle_bench.py --sizes 100000,1000000 --json out.json

Targets (PASS/FAIL, issue 11): engine/hand-written settle ≤ 1.3 at 1M and 10M (here each in a
fresh process, preparing the data included; `ratio_bench.py` measures the same in one process);
10M end to end (read Parquet, validate, settle, write Parquet) ≤ 8 s and peak ≤ 3 GB, with the
ratio to the hand-written end-to-end run; compile ≤ 20 ms (warm and cold); explain ≤ 50 ms;
`drgpolicy --help` in a fresh process ≤ 0.2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # after PYTHONPATH: an engine checkout there is benchmarked

POLICY = ROOT / "policies" / "xuancheng" / "2024.policy"
YEAR = 2024
DEFAULT_SIZES = (100_000, 1_000_000, 10_000_000)
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "drgpolicy-bench"
MARKER = ".bench-complete"
PATHS = ("engine", "hand-written")

# Targets
RATIO_LIMIT = 1.3
RATIO_SIZES = (1_000_000, 10_000_000)
E2E_SIZE = 10_000_000
E2E_LIMIT_S = 8.0
RSS_LIMIT_BYTES = 3 * 1024**3
COMPILE_LIMIT_MS = 20.0
EXPLAIN_LIMIT_MS = 50.0
CLI_LIMIT_MS = 200.0


# ---- results -------------------------------------------------------------------------------


@dataclass
class Run:
    """One settlement run in a fresh process."""

    size: int
    path: str
    load_s: float
    settle_s: float
    write_s: float
    cases: int
    peak_rss_bytes: int
    process_s: float
    cpu_s: dict[str, float] = field(default_factory=dict)
    explain_ms: list[float] = field(default_factory=list)
    #: the engine's outputs written again as Parquet (`settle --format parquet`)
    write_parquet_s: float | None = None

    @property
    def end_to_end_s(self) -> float:
        return self.load_s + self.settle_s + self.write_s

    @property
    def end_to_end_parquet_s(self) -> float | None:
        if self.write_parquet_s is None:
            return None
        return self.load_s + self.settle_s + self.write_parquet_s

    @property
    def cases_per_s(self) -> float:
        return self.cases / self.end_to_end_s if self.end_to_end_s else 0.0


@dataclass
class Target:
    name: str
    value: str
    limit: str
    passed: bool


# ---- workers (each in its own process) -----------------------------------------------------


CPU: dict[str, float] = {}  # CPU seconds (all threads) of the phases timed in this process


def _timed(fn: Callable[[], Any], phase: str = "") -> tuple[Any, float]:
    start, cpu = time.perf_counter(), time.process_time()
    value = fn()
    if phase:
        CPU[phase] = time.process_time() - cpu
    return value, time.perf_counter() - start


def worker_engine(data: Path, out: Path, explain_cases: int, seed: int) -> dict[str, Any]:
    from engine.explainer.explain import explain
    from engine.inputs.rundata import Period
    from engine.run.heap import keep_freed_pages
    from engine.run.outputs import write_outputs
    from engine.run.settle import load_data, load_policy, settle

    keep_freed_pages()  # as `drgpolicy settle` does (engine.run.heap)
    policy = load_policy(POLICY)
    inputs, load_s = _timed(lambda: load_data(data, policy), "load")
    # as `drgpolicy settle` does: only what the outputs read (not the indicator library's
    # helpers, which the monitoring stage computes itself)
    year = Period.parse(str(YEAR))
    result, settle_s = _timed(lambda: settle(policy, inputs, year, written_only=True), "settle")
    # Parquet first: the first write computes what the outputs compute once (the indicators of
    # the policy's monitoring stage), and Parquet is the end-to-end target's
    parquet = out.with_name(out.name + "-parquet")
    _, write_parquet_s = _timed(lambda: write_outputs(result, parquet, "parquet"), "write")
    shutil.rmtree(parquet)
    _, write_s = _timed(lambda: write_outputs(result, out))
    result.cases("settlement").select(VALUES).write_parquet(values_file(out))
    ids = result.data.cases["case_id"]
    chosen = random.Random(seed).sample(range(ids.len()), min(explain_cases, ids.len()))
    explain_ms = []
    for index in chosen:
        case_id = ids[index]
        start = time.perf_counter()
        explain(result, case_id)
        explain_ms.append((time.perf_counter() - start) * 1000)
    return {
        "load_s": load_s,
        "settle_s": settle_s,
        "write_s": write_s,
        "write_parquet_s": write_parquet_s,
        "cases": result.data.cases.height,
        "cpu_s": CPU,
        "explain_ms": explain_ms,
    }


def worker_handwritten(data: Path, out: Path, policy_hash: str) -> dict[str, Any]:
    from bench import handwritten
    from engine.inputs.contract import load_inputs

    inputs, load_s = _timed(lambda: load_inputs(data, budget_names=["drg_fund"]), "load")
    result, settle_s = _timed(lambda: handwritten.settle(inputs, YEAR), "settle")
    stamp = handwritten.Stamp(hash=policy_hash)
    parquet = out.with_name(out.name + "-parquet")
    _, write_parquet_s = _timed(
        lambda: handwritten.write_outputs(result, parquet, stamp, "parquet"), "write"
    )
    shutil.rmtree(parquet)
    _, write_s = _timed(lambda: handwritten.write_outputs(result, out, stamp))
    result.cases.select(VALUES).write_parquet(values_file(out))
    return {
        "load_s": load_s,
        "settle_s": settle_s,
        "write_s": write_s,
        "write_parquet_s": write_parquet_s,
        "cases": result.cases.height,
        "cpu_s": CPU,
    }


def worker_generate(data: Path, cases: int, seed: int) -> dict[str, Any]:
    from engine.synthetic.sample import generate_sample

    if data.exists():
        shutil.rmtree(data)
    summary = generate_sample(data, cases=cases, seed=seed, fmt="parquet")
    (data / MARKER).write_text(json.dumps({"cases": cases, "seed": seed}) + "\n")
    return summary


def worker_compile(runs: int) -> dict[str, Any]:
    """Compile times in this process: the first (cold: the parser's tables read, or the IR from
    the compile cache) and `runs` more (warm); plus how long importing the compiler took."""
    start = time.perf_counter()
    from engine.cli import freeze_imported
    from engine.run.settle import load_policy

    import_s = time.perf_counter() - start
    freeze_imported()  # as `drgpolicy` does once the command's modules are imported
    times = [_timed(lambda: load_policy(POLICY))[1] * 1000 for _ in range(runs + 1)]
    return {"import_ms": import_s * 1000, "first_ms": times[0], "warm_ms": times[1:]}


def worker_policy_hash() -> dict[str, Any]:
    from engine.run.settle import load_policy

    return {"hash": load_policy(POLICY).hash}


#: The per-case values compared (`worker_verify`), saved by each run after its timed phases.
VALUES = [
    "case_id",
    "category",
    "payment",
    "base_points",
    "case_points",
    "coefficient",
    "settled_points",
    "point_value",
]


def values_file(out: Path) -> Path:
    """Where a run saves its per-case values as computed, beside its output folder."""
    return out.with_name(out.name + "-values.parquet")


def worker_verify(engine_out: Path, hand_out: Path) -> dict[str, Any]:
    """Compare the two runs' per-case values as computed (`values_file`), not their files: the
    engine writes points and ratios rounded to 4 decimals (`engine.run.decimals`), the
    hand-written plan as computed, so the files differ beyond any tolerance on almost every
    case. Category and payment (fen) equal, points within 1e-9 relative
    (`ratio_bench.disagreements`); the cases and the cases of only one run counted too."""
    import polars as pl

    from bench.ratio_bench import disagreements

    engine = pl.read_parquet(values_file(engine_out))
    hand = pl.read_parquet(values_file(hand_out))
    unmatched = engine.join(hand, on="case_id", how="anti").height
    unmatched += hand.join(engine, on="case_id", how="anti").height
    return {"cases": engine.height, "unmatched": unmatched, **disagreements(engine, hand)}


WORKERS = ("engine", "handwritten", "generate", "compile", "policy-hash", "verify")


def run_worker(args: argparse.Namespace) -> None:
    if args.worker == "engine":
        result = worker_engine(Path(args.data), Path(args.out), args.explain_cases, args.seed)
    elif args.worker == "handwritten":
        result = worker_handwritten(Path(args.data), Path(args.out), args.policy_hash)
    elif args.worker == "generate":
        result = worker_generate(Path(args.data), args.cases, args.seed)
    elif args.worker == "compile":
        result = worker_compile(args.compile_runs)
    elif args.worker == "policy-hash":
        result = worker_policy_hash()
    else:
        result = worker_verify(Path(args.data), Path(args.out))
    Path(args.result).write_text(json.dumps(result, default=str))


# ---- the parent: spawn, measure, report ----------------------------------------------------


@dataclass
class Child:
    result: dict[str, Any]
    peak_rss_bytes: int
    wall_s: float


def spawn(worker: str, env: dict[str, str] | None = None, **options: Any) -> Child:
    """Run one worker in a fresh interpreter (`env`: variables set for it); its result, peak
    RSS (wait4) and wall time."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        result_path = Path(handle.name)
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", worker]
    command += ["--result", str(result_path)]
    for name, value in options.items():
        command += [f"--{name.replace('_', '-')}", str(value)]
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **(env or {})})
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    try:
        if process.returncode != 0:
            raise SystemExit(f"benchmark worker `{worker}` failed (exit {process.returncode})")
        result = json.loads(result_path.read_text())
    finally:
        result_path.unlink(missing_ok=True)
    return Child(result, usage.ru_maxrss * 1024, wall)  # ru_maxrss is in KiB on Linux


def dataset(cache: Path, cases: int, seed: int) -> Path:
    """The cached synthetic city of `cases` cases, generated if absent or of another seed."""
    folder = cache / str(cases)
    marker = folder / MARKER
    if marker.is_file() and json.loads(marker.read_text()) == {"cases": cases, "seed": seed}:
        return folder
    print(f"generating {cases:,} cases (seed {seed}) into {folder} …", flush=True)
    child = spawn("generate", data=folder, cases=cases, seed=seed)
    print(f"  done in {child.wall_s:.1f} s", flush=True)
    return folder


def settle_runs(
    data: Path, size: int, out_root: Path, args: argparse.Namespace, policy_hash: str
) -> tuple[list[Run], dict[str, Any] | None]:
    runs = []
    outs = {}
    for path in PATHS:
        out = out_root / f"{size}-{path}"
        best: Run | None = None
        for _ in range(args.repeat):
            if path == "engine":
                child = spawn(
                    "engine", data=data, out=out, explain_cases=args.explain_cases, seed=args.seed
                )
            else:
                child = spawn("handwritten", data=data, out=out, policy_hash=policy_hash)
            r = child.result
            run = Run(
                size,
                path,
                r["load_s"],
                r["settle_s"],
                r["write_s"],
                r["cases"],
                child.peak_rss_bytes,
                child.wall_s,
                r["cpu_s"],
                r.get("explain_ms", []),
                r.get("write_parquet_s"),
            )
            parquet = f" (parquet {run.write_parquet_s:.2f} s)" if run.write_parquet_s else ""
            print(
                f"  {size:>10,} {path:<12} load {run.load_s:6.2f} s  settle {run.settle_s:6.2f} s"
                f"  write {run.write_s:6.2f} s{parquet}  peak {_gb(run.peak_rss_bytes)}",
                flush=True,
            )
            if best is None or run.settle_s < best.settle_s:
                best = run
        assert best is not None
        runs.append(best)
        outs[path] = out
    verified = None
    if not args.no_verify:
        verified = spawn("verify", data=outs["engine"], out=outs["hand-written"]).result
    if not args.keep_outputs:
        for out in outs.values():
            shutil.rmtree(out, ignore_errors=True)
            values_file(out).unlink(missing_ok=True)
    return runs, verified


def compile_times(args: argparse.Namespace) -> dict[str, Any]:
    """Compile times with the compile cache (its own folder under `--cache`, filled by a first
    process) and without it (`DRGPOLICY_COMPILE_CACHE=off`: parsing, checking and lowering)."""
    cached = {"DRGPOLICY_COMPILE_CACHE": str(Path(args.cache) / "compile-cache")}
    uncached = {"DRGPOLICY_COMPILE_CACHE": "off"}
    spawn("compile", env=cached, compile_runs=0)  # fills the cache
    warm = spawn("compile", env=cached, compile_runs=args.compile_runs).result
    warm_uncached = spawn("compile", env=uncached, compile_runs=args.compile_runs).result
    cold_first, cold_process, cold_uncached = [], [], []
    for _ in range(args.cold_runs):
        child = spawn("compile", env=cached, compile_runs=0)
        cold_first.append(child.result["first_ms"])
        cold_process.append(child.wall_s * 1000)
        cold_uncached.append(spawn("compile", env=uncached, compile_runs=0).result["first_ms"])
    cli_help = []
    for _ in range(args.cold_runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "engine.cli", "--help"], check=True, capture_output=True
        )
        cli_help.append((time.perf_counter() - start) * 1000)
    return {
        "cli_help_median_ms": statistics.median(cli_help),
        "warm_median_ms": statistics.median(warm["warm_ms"]),
        "warm_ms": warm["warm_ms"],
        "cold_first_median_ms": statistics.median(cold_first),
        "cold_first_ms": cold_first,
        "warm_uncached_median_ms": statistics.median(warm_uncached["warm_ms"]),
        "cold_uncached_median_ms": statistics.median(cold_uncached),
        "cold_uncached_ms": cold_uncached,
        "cold_import_ms": warm["import_ms"],
        "cold_process_median_ms": statistics.median(cold_process),
    }


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def cpu_ratios(runs: Sequence[Run]) -> dict[int, float]:
    """Per size, the engine's settle CPU time over the hand-written one's (less sensitive than
    wall time to other processes on the machine)."""
    by = {(r.size, r.path): r for r in runs}
    ratios = {}
    for (size, path), run in by.items():
        hand = by.get((size, "hand-written"))
        if path == "engine" and hand and hand.cpu_s.get("settle"):
            ratios[size] = run.cpu_s["settle"] / hand.cpu_s["settle"]
    return ratios


def _gb(size: int) -> str:
    return f"{size / 1024**3:.2f} GB"


def _mark(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def targets(
    runs: Sequence[Run], compiled: dict[str, Any] | None, verified: dict[int, Any]
) -> list[Target]:
    found = []
    by = {(r.size, r.path): r for r in runs}
    for size in RATIO_SIZES:
        engine, hand = by.get((size, "engine")), by.get((size, "hand-written"))
        if engine and hand:
            ratio = engine.settle_s / hand.settle_s
            found.append(
                Target(
                    f"settle engine/hand-written at {size:,}",
                    f"{ratio:.2f}",
                    f"≤ {RATIO_LIMIT}",
                    ratio <= RATIO_LIMIT,
                )
            )
    engine, hand = by.get((E2E_SIZE, "engine")), by.get((E2E_SIZE, "hand-written"))
    if engine and engine.end_to_end_parquet_s is not None:
        seconds = engine.end_to_end_parquet_s
        by_hand = hand.end_to_end_parquet_s if hand else None
        versus = f" ({seconds / by_hand:.2f} × by hand)" if by_hand else ""
        found.append(
            Target(
                f"end to end at {E2E_SIZE:,}, Parquet in and out",
                f"{seconds:.1f} s{versus}",
                f"≤ {E2E_LIMIT_S:.0f} s",
                seconds <= E2E_LIMIT_S,
            )
        )
    if engine:
        versus = f" ({engine.peak_rss_bytes / hand.peak_rss_bytes:.2f} × by hand)" if hand else ""
        found.append(
            Target(
                f"peak memory at {E2E_SIZE:,}",
                _gb(engine.peak_rss_bytes) + versus,
                f"≤ {_gb(RSS_LIMIT_BYTES)}",
                engine.peak_rss_bytes <= RSS_LIMIT_BYTES,
            )
        )
    if compiled:
        labels = (
            ("warm_median_ms", "warm"),
            ("cold_first_median_ms", "cold"),
            ("warm_uncached_median_ms", "warm, no compile cache"),
            ("cold_uncached_median_ms", "cold, no compile cache"),
        )
        for key, label in labels:
            found.append(
                Target(
                    f"compile ({label})",
                    f"{compiled[key]:.1f} ms",
                    f"≤ {COMPILE_LIMIT_MS:.0f} ms",
                    compiled[key] <= COMPILE_LIMIT_MS,
                )
            )
        cli = compiled["cli_help_median_ms"]
        found.append(
            Target(
                "drgpolicy --help, fresh process",
                f"{cli:.0f} ms",
                f"≤ {CLI_LIMIT_MS:.0f} ms",
                cli <= CLI_LIMIT_MS,
            )
        )
    for run in runs:
        if run.explain_ms:
            median = statistics.median(run.explain_ms)
            found.append(
                Target(
                    f"explain at {run.size:,} (median of {len(run.explain_ms)})",
                    f"{median:.1f} ms",
                    f"≤ {EXPLAIN_LIMIT_MS:.0f} ms",
                    median <= EXPLAIN_LIMIT_MS,
                )
            )
    for size, counts in verified.items():
        bad = {k: v for k, v in counts.items() if k != "cases" and v}
        found.append(
            Target(
                f"same results at {size:,} (hand-written vs engine)",
                "equal" if not bad else json.dumps(bad),
                "equal",
                not bad,
            )
        )
    return found


def table(runs: Sequence[Run]) -> str:
    header = (
        f"{'size':>11}  {'path':<12} {'load+valid':>10} {'settle':>8} {'write':>8} "
        f"{'end-to-end':>10} {'cases/s':>11} {'peak RSS':>9}  {'settle e/h':>10}  "
        f"{'end-to-end, Parquet out':>23}"
    )
    lines = [header, "-" * len(header)]
    by = {(r.size, r.path): r for r in runs}
    for run in runs:
        ratio = ""
        hand = by.get((run.size, "hand-written"))
        if run.path == "engine" and hand:
            ratio = f"{run.settle_s / hand.settle_s:.2f}"
        parquet = run.end_to_end_parquet_s
        lines.append(
            f"{run.size:>11,}  {run.path:<12} {run.load_s:>9.2f}s {run.settle_s:>7.2f}s "
            f"{run.write_s:>7.2f}s {run.end_to_end_s:>9.2f}s {run.cases_per_s:>11,.0f} "
            f"{_gb(run.peak_rss_bytes):>9}  {ratio:>10}  "
            f"{f'{parquet:.2f}s' if parquet is not None else '':>23}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    if args.worker:
        run_worker(args)
        return 0
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    cache = Path(args.cache)
    out_root = cache / "out"
    import polars as pl

    print(
        f"drgpolicy settlement benchmark: Xuancheng 2024, {YEAR}; {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, polars {pl.__version__}; load average "
        f"{_load()} (other processes share the machine: timings vary with it)",
        flush=True,
    )
    load_before = os.getloadavg()
    policy_hash = spawn("policy-hash").result["hash"]
    runs: list[Run] = []
    verified: dict[int, Any] = {}
    for size in sizes:
        data = dataset(cache, size, args.seed)
        found, check = settle_runs(data, size, out_root, args, policy_hash)
        runs += found
        if check is not None:
            verified[size] = check
    compiled = compile_times(args) if args.compile_runs else None

    load_after = os.getloadavg()
    print()
    print(table(runs))
    ratios = cpu_ratios(runs)
    if ratios:
        shown = ", ".join(f"{size:,}: {ratio:.2f}" for size, ratio in ratios.items())
        print(f"settle CPU seconds (all threads) engine/hand-written: {shown}")
    print(f"load average at the end: {_load()}")
    print()
    if compiled:
        print(
            f"compile: warm median {compiled['warm_median_ms']:.1f} ms "
            f"({len(compiled['warm_ms'])} runs); cold first compile median "
            f"{compiled['cold_first_median_ms']:.1f} ms ({args.cold_runs} processes; importing "
            f"the compiler {compiled['cold_import_ms']:.0f} ms, whole process "
            f"{compiled['cold_process_median_ms']:.0f} ms); without the compile cache: warm "
            f"{compiled['warm_uncached_median_ms']:.1f} ms, cold "
            f"{compiled['cold_uncached_median_ms']:.1f} ms"
        )
    for run in runs:
        if run.explain_ms:
            ms = sorted(run.explain_ms)
            print(
                f"explain at {run.size:,}: median {statistics.median(ms):.1f} ms, "
                f"max {ms[-1]:.1f} ms ({len(ms)} random cases)"
            )
    checks = targets(runs, compiled, verified)
    print()
    width = max((len(t.name) for t in checks), default=10)
    for t in checks:
        print(f"{_mark(t.passed)}  {t.name:<{width}}  {t.value:>12}  (target {t.limit})")
    if args.json:
        payload = {
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "polars": pl.__version__,
                "platform": platform.platform(),
            },
            "policy": str(POLICY.relative_to(ROOT)),
            "seed": args.seed,
            "runs": [
                asdict(r)
                | {
                    "end_to_end_s": r.end_to_end_s,
                    "end_to_end_parquet_s": r.end_to_end_parquet_s,
                    "cases_per_s": r.cases_per_s,
                }
                for r in runs
            ],
            "load_average": {"start": load_before, "end": load_after},
            "settle_cpu_ratio": {str(k): v for k, v in ratios.items()},
            "compile": compiled,
            "verify": {str(k): v for k, v in verified.items()},
            "targets": [asdict(t) for t in checks],
        }
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n")
        print(f"\nfigures saved to {args.json}")
    return 0


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, DEFAULT_SIZES)),
        help="comma-separated case counts (default: 100000,1000000,10000000)",
    )
    parser.add_argument("--json", help="save the figures to this JSON file")
    parser.add_argument("--cache", default=str(DEFAULT_CACHE), help="dataset cache folder")
    parser.add_argument("--seed", type=int, default=7, help="dataset seed (default 7)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size and path (best)")
    parser.add_argument("--explain-cases", type=int, default=50, help="cases explained per size")
    parser.add_argument("--compile-runs", type=int, default=20, help="warm compiles (0: skip)")
    parser.add_argument("--cold-runs", type=int, default=5, help="fresh processes compiling")
    parser.add_argument("--no-verify", action="store_true", help="skip comparing the results")
    parser.add_argument("--keep-outputs", action="store_true", help="keep the output folders")
    parser.add_argument("--worker", choices=WORKERS, help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--cases", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--policy-hash", default="", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(main())
