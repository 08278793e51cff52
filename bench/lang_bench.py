"""Language benchmark (`make bench`, after the settlement benchmark): checking and formatting at
the sizes and depths of issue 10, on the policies of `bench/lang_inputs.py`.

    .venv/bin/python bench/lang_bench.py            # every measurement, best of 3
    .venv/bin/python bench/lang_bench.py --repeat 5 --json out.json

Each measurement runs in this process after one warm-up (the grammar built), best of
`--repeat`, in CPU seconds of this process (`time.process_time`: what the work costs, whatever
else the machine runs) and in wall seconds; the machine's load average is printed before and
after. `drgpolicy check` in a fresh process adds its start-up (imports) to these: timed apart.

Targets (PASS/FAIL, CPU seconds): checking a 20,000-row table < 1 s; checking a city of 150
chained versions (every file and the timeline, as `drgpolicy check <folder>` does) < 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lang_inputs import (
    big_table,
    chained_versions,
    condition_chain,
    deep_policy,
    with_definition,
)
from engine.commands.check import check_files, timeline_diagnostics
from engine.explainer.explain import explain
from engine.inputs.rundata import Period
from engine.run.settle import load_data, settle
from policy_dsl import loader
from policy_dsl.check import check
from policy_dsl.check.module_memo import MEMO
from policy_dsl.diagnostics import PolicyErrors
from policy_dsl.format import format_policy
from policy_dsl.limits import MAX_DEPTH
from policy_dsl.loader import policy_from_text, resolve
from policy_dsl.lower import lower
from policy_dsl.parser import _lark, parse

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"check a 20,000-row table": 1.0, "check a city of 150 chained versions": 1.0}


@dataclass
class Timing:
    """One measurement: the best of its runs, CPU and wall seconds."""

    name: str
    cpu: float
    wall: float


def best(name: str, work: Callable[[], Any], repeat: int) -> Timing:
    work()  # warm-up
    runs = []
    for _ in range(repeat):
        loader._parsed.cache_clear()  # a fresh process parses every file
        MEMO.records.clear()  # and checks the library modules' declarations afresh
        cpu, wall = time.process_time(), time.perf_counter()
        work()
        runs.append((time.process_time() - cpu, time.perf_counter() - wall))
    cpu, wall = min(runs)
    return Timing(name, cpu, wall)


def refused(text: str) -> Callable[[], None]:
    """Parse `text`, which must be refused with a diagnostic (E010, E011)."""

    def run() -> None:
        try:
            parse(text)
        except PolicyErrors:
            return
        raise AssertionError("expected a diagnostic")

    return run


def checked(text: str) -> Callable[[], None]:
    def run() -> None:
        result = check(resolve(policy_from_text(text, "bench/2023.policy"), []))
        assert result.ok, result.diagnostics[:1]

    return run


def measurements(folder: Path, repeat: int) -> list[Timing]:
    table = big_table(20_000)
    city = folder / "city"
    chained_versions(city, 150)
    deep = deep_policy(MAX_DEPTH)
    policy = lower(check(resolve(policy_from_text(deep, "bench/2023.policy"), [])))
    inputs = load_data(ROOT / "sample", policy)
    settled = settle(policy, inputs, Period.parse("2024"))
    case = settled.cases()["case_id"][0]
    table_tree = parse(table)
    found: list[Timing] = []

    def add(name: str, work: Callable[[], Any]) -> None:
        found.append(best(name, work, repeat))
        print(f"  {name:<58} {found[-1].cpu:7.3f} s CPU {found[-1].wall:7.3f} s wall", flush=True)

    add("check a 20,000-row table", checked(table))
    add("  of which parsing it (rows set aside, Lark, the syntax tree)", lambda: parse(table))
    add("format a 20,000-row table", lambda: format_policy(table_tree, table))
    big = lower(check(resolve(policy_from_text(table, "bench/2023.policy"), [])))
    big_inputs = load_data(ROOT / "sample", big)
    add(
        "settle with it (20,000 sample cases)",
        lambda: settle(big, big_inputs, Period.parse("2024")),
    )
    add(
        "check a city of 150 chained versions",
        lambda: timeline_diagnostics(check_files([city])),
    )
    add(
        "check its newest version alone (a chain of 151 files)",
        lambda: check_files([city / "v150.policy"]),
    )
    add("check a condition of 5,000 `and`s", checked(with_definition(condition_chain(5000))))
    add(f"check expressions of every shape {MAX_DEPTH} levels deep", checked(deep))
    add("format them", lambda: format_policy(parse(deep), deep))
    add("settle them (20,000 sample cases)", lambda: settle(policy, inputs, Period.parse("2024")))
    add("explain one case", lambda: explain(settled, case))
    add("refuse 1,000 nested `not` (E010)", refused(with_definition("not " * 1000 + "bilateral")))
    add("refuse a 100,000-digit number (E011)", refused(with_definition("9" * 100_000, "number")))
    return found


def cli_check(folder: Path) -> float:
    """Wall seconds of `drgpolicy check` on the city, in a fresh process (start-up included)."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "engine.cli", "check", str(folder / "city")],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best kept)")
    parser.add_argument("--json", type=Path, help="write the timings as JSON here")
    args = parser.parse_args()
    _lark()
    print(f"load average before: {_load()}")
    with tempfile.TemporaryDirectory(prefix="drgpolicy-lang-bench-") as tmp:
        timings = measurements(Path(tmp), args.repeat)
        fresh = cli_check(Path(tmp))
    print(f"  {'drgpolicy check on the 150 versions, fresh process':<58} {fresh:7.3f} s wall")
    print(f"load average after: {_load()}")
    failed = False
    for name, target in TARGETS.items():
        timing = next(t for t in timings if t.name == name)
        verdict = "PASS" if timing.cpu < target else "FAIL"
        failed |= verdict == "FAIL"
        print(f"{verdict}: {name}: {timing.cpu:.3f} s CPU (target < {target:g} s)")
    if args.json:
        data = {"timings": [asdict(t) for t in timings], "cli_check_wall": fresh}
        args.json.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return 1 if failed else 0


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
