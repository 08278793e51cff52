"""Studio what-if benchmark: on a million cases, a what-if re-run after one parameter is edited
must show its results within 1 s (issue 11; 3 s before it).

A synthetic city of `--cases` cases (default 1,000,000) is generated once with
`engine.synthetic.sample.generate_sample` (Parquet) into `/tmp/drgpolicy-bench/studio-1m`
(`--cache`) and reused while its size and seed match. The What-if page's own code path is then
timed, in one process and without the UI: the functions the page calls on a run, in its order —

- compile: `studio.cache.policy` for the base and the new version (the page's
  `widgets.compiled`), `whatif_view.resolved` for both, `runs.numeric_params` (its sliders),
  `whatif_view.changed_params`;
- settle: `studio.cache.runs` (the data loaded and checked against the contract, once) and
  `whatif_view.run` (both versions settled or re-settled from the kept runs, compared, the change
  attributed to each changed clause, as with the page's default);
- tables: what the page draws from the result (`whatif_view.whatif_tables`);
- report: the HTML report the page offers for download, made when the download is asked for
  (timed apart, not in the re-run's total).

Base Xuancheng 2024 against the editor's buffer:

1. first run: the buffer sets `low_ratio_grassroots` to 35% (data loaded, both versions settled);
2. re-run after editing that parameter in the text (40%, then 45%, 50%… with `--repeat`); the
   editor's check of the new text is timed too (`editor check`), though it happens on the Editor
   page before the what-if;
3. re-run after moving its slider (42%, 47%…: `Settings.params`), after each text edit.

Every re-run PASSes when it takes ≤ 1 s (compile + settle + tables); the median and the worst
are printed. Other processes on the machine slow the figures down: the load average is printed.

    .venv/bin/python bench/studio_bench.py
    .venv/bin/python bench/studio_bench.py --cases 200000 --json out/studio-bench.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from engine.synthetic.sample import generate_sample  # noqa: E402
from engine.whatif.report import Report  # noqa: E402
from engine.whatif.report_html import render_html  # noqa: E402
from studio import cache, runs, whatif_view, workspace  # noqa: E402

CITY = "xuancheng"
BASE = "2024"
PARAM = "low_ratio_grassroots"
WRITTEN = "ratio = 30%"
PERIOD = "2024"
SEED = 7
DEFAULT_CASES = 1_000_000
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "drgpolicy-bench" / "studio-1m"
MARKER = ".bench-complete"
LIMIT_S = 1.0


@dataclass
class Timed:
    """One what-if run of the page: its steps in seconds."""

    name: str
    check_s: float | None
    compile_s: float
    settle_s: float
    tables_s: float
    report_s: float
    steps: dict[str, float]
    moved: int
    limit_s: float | None

    @property
    def total_s(self) -> float:
        return self.compile_s + self.settle_s + self.tables_s

    @property
    def verdict(self) -> str:
        if self.limit_s is None:
            return ""
        return "PASS" if self.total_s <= self.limit_s else "FAIL"


def dataset(folder: Path, cases: int, seed: int) -> tuple[Path, float | None]:
    """The generated city in `folder`, made now (seconds returned) or reused (None)."""
    wanted = {"cases": cases, "seed": seed, "format": "parquet"}
    marker = folder / MARKER
    if marker.is_file() and json.loads(marker.read_text()) == wanted:
        return folder, None
    started = time.perf_counter()
    staging = folder.with_name(folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    generate_sample(staging, cases=cases, seed=seed, fmt="parquet")
    (staging / MARKER).write_text(json.dumps(wanted))
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)
    return folder, time.perf_counter() - started


def page_run(
    name: str,
    root: Path,
    folder: Path,
    base_text: str,
    new_text: str,
    sliders: dict[str, float],
    limit_s: float | None,
    check: bool = False,
) -> Timed:
    """What the What-if page computes when *Run what-if* is pressed (no drawing)."""
    check_s = None
    if check:  # the Editor page's diagnostics of the edited text (before the what-if)
        started = time.perf_counter()
        analysis = cache.analysis(root, CITY, new_text)
        check_s = time.perf_counter() - started
        assert analysis.ok, [d.render() for d in analysis.diagnostics]

    started = time.perf_counter()
    base_ir = cache.policy(root, CITY, base_text)
    new_ir = cache.policy(root, CITY, new_text)
    siblings = workspace.siblings(root, CITY, None)
    base_resolved = whatif_view.resolved(siblings, base_text, f"{CITY}/{BASE}")
    new_resolved = whatif_view.resolved(siblings, new_text, f"{CITY}/buffer")
    chosen = {spec.name: spec.value for spec in runs.numeric_params(new_resolved)}
    chosen.update(sliders)
    params = whatif_view.changed_params(new_ir, chosen)
    compiled = time.perf_counter()

    both = whatif_view.inputs_policy(base_ir, new_ir)
    kept = cache.runs(folder, PERIOD, both)
    key = cache.runs_key(folder, PERIOD, both)
    digest = runs.city_digest(root, CITY)
    loaded = time.perf_counter()
    comparison = whatif_view.run(
        kept,
        base_ir,
        new_ir,
        params,
        (base_resolved, new_resolved),
        _quiet,
        lambda kept, base, new, impact, changes: cache.attribution(
            key, (base_text, new_text), digest, kept, base, new, impact, changes
        ),
    )
    settled = time.perf_counter()

    tables = whatif_view.whatif_tables(comparison)
    done = time.perf_counter()
    assert comparison.attribution is not None
    render_html(Report(folder.name, PERIOD, comparison.attribution, None, None))
    reported = time.perf_counter()
    steps = {"load data (cached after the first run)": loaded - compiled}
    steps.update({f"  {k}": v for k, v in comparison.timings.items()})
    return Timed(
        name,
        check_s,
        compiled - started,
        settled - compiled,
        done - settled,
        reported - done,
        steps,
        int(tables["moved"]["cases"].sum()),
        limit_s,
    )


def _quiet(share: float, text: str) -> None:
    return None


def measure(folder: Path, root: Path, repeat: int) -> list[Timed]:
    written = (root / CITY / f"{BASE}.policy").read_text(encoding="utf-8")
    assert WRITTEN in written, f"{CITY} {BASE} no longer writes `{WRITTEN}`"

    def at(percent: int) -> str:
        return written.replace(WRITTEN, f"ratio = {percent}%")

    results = [page_run("first run (35%)", root, folder, written, at(35), {}, None)]
    for i in range(repeat):
        edited, moved = 40 + 5 * i, 42 + 5 * i
        results.append(
            page_run(
                f"re-run, text edited to {edited}%",
                root,
                folder,
                written,
                at(edited),
                {},
                LIMIT_S,
                check=True,
            )
        )
        results.append(
            page_run(
                f"re-run, slider moved to {moved}%",
                root,
                folder,
                written,
                at(edited),
                {PARAM: moved / 100},
                LIMIT_S,
            )
        )
    return results


def report(results: list[Timed], cases: int, generated: float | None, folder: Path) -> bool:
    print(f"studio what-if on {cases:,} cases ({folder})")
    print(
        f"python {platform.python_version()} · {platform.machine()} · {os.cpu_count()} CPUs · "
        f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print("dataset: " + ("reused" if generated is None else f"generated in {generated:.1f} s"))
    ok = True
    for run in results:
        check = "" if run.check_s is None else f"  (editor check {run.check_s:.2f} s)"
        print(
            f"\n{run.name}: {run.total_s:.2f} s {run.verdict}"
            + (f" (limit {run.limit_s:.0f} s)" if run.limit_s else "")
            + check
        )
        print(f"  compile {run.compile_s:6.2f} s")
        print(f"  settle  {run.settle_s:6.2f} s")
        for step, seconds in run.steps.items():
            print(f"    {step:<40} {seconds:6.2f} s")
        print(f"  tables  {run.tables_s:6.2f} s   ({run.moved:,} cases change category)")
        print(f"  (report when downloaded {run.report_s:.2f} s)")
        ok = ok and run.verdict != "FAIL"
    reruns = sorted(r.total_s for r in results if r.limit_s is not None)
    print(
        f"\nre-runs: {len(reruns)}, median {statistics.median(reruns):.2f} s, "
        f"worst {reruns[-1]:.2f} s"
    )
    print(("PASS" if ok else "FAIL") + f": every re-run after one parameter ≤ {LIMIT_S:.0f} s")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=DEFAULT_CASES)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--repeat", type=int, default=3, help="re-runs of each kind")
    parser.add_argument("--cache", type=Path, default=None, help="where the city is generated")
    parser.add_argument("--policies", type=Path, default=ROOT / "policies")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    options = parser.parse_args(argv)
    logging.getLogger("streamlit").setLevel(logging.ERROR)  # st.cache_* without a server

    sized = DEFAULT_CACHE.with_name(f"studio-{options.cases}")
    target = options.cache or (DEFAULT_CACHE if options.cases == DEFAULT_CASES else sized)
    folder, generated = dataset(target, options.cases, options.seed)
    results = measure(folder, options.policies.resolve(), max(1, options.repeat))
    ok = report(results, options.cases, generated, folder)
    if options.json:
        options.json.parent.mkdir(parents=True, exist_ok=True)
        figures: list[dict[str, Any]] = [
            {**asdict(r), "total_s": r.total_s, "verdict": r.verdict} for r in results
        ]
        options.json.write_text(json.dumps({"cases": options.cases, "runs": figures}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
