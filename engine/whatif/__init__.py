"""What-if across versions (政策模拟): settle the same cases under two versions and see what a
change does to the money, clause by clause, and where a policy is fragile.

    from engine.whatif import Runs, attribute, compare, exposure, sweep

    runs = Runs(load_data("sample", new_policy), Period.parse("2024"))
    impact = compare(runs, base_policy, new_policy)      # Impact: frames by hospital, level…
    parts = attribute(runs, base_resolved, new_resolved)  # Attribution: per clause, exact
    fragile = exposure(runs, new_policy)                 # Exposure: thresholds, ±1 step
    grid = sweep(runs, new_policy, {"low_ratio_grassroots": [0.25, 0.3, 0.35]})

What is cached (`Runs`): the data cut to the period, shared by every run, and the last few
settlements by policy hash and values set; a policy that differs from a kept one in a few
parameters, rows or definitions re-evaluates only the definitions that read them
(`rerun.resettle`). Re-running a what-if after editing one parameter settles the edited version
incrementally and reuses the other.
"""

from engine.whatif.attribution import Attribution, Part, attribute
from engine.whatif.exposure import (
    Exposure,
    Threshold,
    ThresholdExposure,
    ThresholdShift,
    declared_types,
    exposure,
)
from engine.whatif.impact import Impact, compare
from engine.whatif.report import Report, whatif, write_report
from engine.whatif.runs import Outcome, Runs
from engine.whatif.sweep import Sweep, sweep
from engine.whatif.trace_diff import TraceDiff, trace_diff

__all__ = [
    "Attribution",
    "Exposure",
    "Impact",
    "Outcome",
    "Part",
    "Report",
    "Runs",
    "Sweep",
    "Threshold",
    "ThresholdExposure",
    "ThresholdShift",
    "TraceDiff",
    "attribute",
    "compare",
    "declared_types",
    "exposure",
    "sweep",
    "trace_diff",
    "whatif",
    "write_report",
]
