"""The months of a year settled one by one for monitoring (the studio's Monitoring page): each
month's growth rates read the month before, as `settle --previous` would."""

from __future__ import annotations

from collections.abc import Callable

from engine.inputs.contract import Inputs
from engine.inputs.indicator_runs import IndicatorRun
from engine.inputs.previous import Previous, just_before
from engine.inputs.rundata import Period
from engine.monitor.runs import MonitorError, Runs, runs_of
from engine.plan.polars.batch import Settings
from engine.run.settle import settle
from policy_dsl import ir

Progress = Callable[[float, str], object]


def months_of(
    policy: ir.Policy,
    inputs: Inputs,
    year: int,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> Runs:
    """Every month of `year` with discharged cases, settled under `policy` in order, each reading
    the indicators of the month before — none after a month without cases (a growth rate spans
    one month, as `--previous` takes only the period just before)."""
    months = set(inputs.cases["month"].unique().to_list())
    labels = [m for m in Period(year).month_labels() if m in months]
    if not labels:
        raise MonitorError(f"no case is discharged in {year}: nothing to monitor")
    previous: Previous | None = None
    runs = []
    for index, label in enumerate(labels):
        if progress is not None:
            progress(index / len(labels), f"settling {label}…")
        period = Period.parse(label)
        if index and Period.parse(labels[index - 1]) != just_before(period)[0]:
            previous = None
        # only its indicators are read: what they read of the stages (`definitions_written`)
        settled = settle(policy, inputs, period, settings, previous=previous, written_only=True)
        run = IndicatorRun.of(settled)
        runs.append(run)
        previous = Previous(run)
    return runs_of(runs)
