"""Both evaluation paths run the same IR and agree value for value: for generated datasets and the
bundled sample, under every shipped policy, every value the explainer computes for a case equals
the batch run's — the outputs, every case definition it evaluates itself, and every rank, which it
recomputes by counting the rows of the case's group that sort before it. An allocation is checked
by its rule: each case's payment lies within a fen of its exact share, the fen left over go to the
largest remainders (ties to the earlier case), and as many as are left over."""

from __future__ import annotations

import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from engine.explainer.explain import explain
from engine.explainer.trace import AllocationCheck, Trace
from engine.inputs.rundata import Period
from engine.plan.money import round_half_away
from engine.run.settle import Settlement, load_data, load_policy, settle
from tests.conftest import SAMPLE, shipped_policies
from tests.engine.datasets import datasets, write_dataset

POLICIES = {path: load_policy(path) for path in shipped_policies()}
#: Remainders (in fen) closer than this may sort either way: the explainer's share of a case
#: can differ from the batch run's in the last bits of a double.
NEAR = 1e-6


def disagreements(result: Settlement, limit: int | None = None) -> list[str]:
    found = []
    for stage in result.settling_stages():
        frame = result.stages[stage].cases  # every value the batch run computed per case
        frame = frame.head(limit) if limit else frame
        outputs = {row["case_id"]: row for row in result.cases(stage).iter_rows(named=True)}
        traces = [explain(result, case_id, stage) for case_id in frame["case_id"]]
        for row, trace in zip(frame.iter_rows(named=True), traces, strict=True):
            batch = {**row, **outputs[row["case_id"]]}
            found += [f"{stage} {row['case_id']} {d}" for d in _case(result, batch, trace)]
        found += [f"{stage} {d}" for d in _left_over_fen(traces, complete=limit is None)]
    return found


def _case(result: Settlement, row: dict[str, Any], trace: Trace) -> list[str]:
    """Outputs and computed values equal to the batch run's; each share within a fen."""
    found = []
    computed = [s.name for s in trace.steps if s.source == "computed"]
    for name in dict.fromkeys([*result.outputs(), *computed]):
        batch, explained = _plain(row[name]), _plain(trace.value(name))
        if batch != explained:
            found.append(f"{name}: batch {batch!r}, explain {explained!r}")
    for step in trace.steps:
        for check in step.allocations:
            paid = check.floor + check.fen_given
            if not (check.fen_given in (0, 1) and abs(check.share - paid) < 1):
                found.append(f"{step.name}: {paid} fen paid, share {check.share} fen")
        for rank in step.ranks:
            if _plain(row[step.name]) != _plain(rank.position and float(rank.position)):
                found.append(f"{step.name}: batch rank {row[step.name]}, counted {rank.position}")
    return found


def _left_over_fen(traces: list[Trace], complete: bool) -> list[str]:
    """Per allocation and group (its total and weight sum): the cases given a left-over fen have
    larger remainders than those not given one (ties: the earlier case); with every case of the
    group at hand, as many fen are given as are left over."""
    groups: dict[tuple[str, Any, Any], list[tuple[int, AllocationCheck]]] = defaultdict(list)
    for index, trace in enumerate(traces):
        for step in trace.steps:
            for check in step.allocations:
                groups[(step.name, check.total, check.weight_sum)].append((index, check))
    found = []
    for (name, total, _), members in groups.items():
        given = [(c.share - c.floor, i) for i, c in members if c.fen_given == 1]
        kept = [(c.share - c.floor, i) for i, c in members if c.fen_given == 0]
        if given and kept:
            low = min(given, key=_order)  # the last case given a fen …
            high = max(kept, key=_order)  # … and the first not given one
            if high[0] > low[0] + NEAR or (high[0] == low[0] and high[1] < low[1]):
                found.append(f"{name}: a fen went to remainder {low}, none to {high}")
        if complete and total is not None:
            left_over = round_half_away(total * 100) - sum(c.floor for _, c in members)
            if len(given) != left_over:
                found.append(f"{name}: {len(given)} left-over fen given, {left_over} left over")
    return found


def _order(member: tuple[float, int]) -> tuple[float, int]:
    """Remainder first (larger first when the largest is taken), then the earlier case."""
    remainder, index = member
    return remainder, -index


def _plain(value: Any) -> Any:
    return str(value) if value is not None and not isinstance(value, int | float | bool) else value


@pytest.mark.parametrize("path", list(POLICIES), ids=lambda p: f"{p.parent.name}/{p.stem}")
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=datasets())
def test_explain_equals_batch_on_generated_data(path: Path, data: dict[str, Any]) -> None:
    policy = POLICIES[path]
    with tempfile.TemporaryDirectory() as folder:
        inputs = load_data(write_dataset(data, Path(folder)), policy)
        result = settle(policy, inputs, Period.parse("2024"))
    assert disagreements(result) == []


@pytest.mark.parametrize("path", list(POLICIES), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_explain_equals_batch_on_the_bundled_sample(path: Path) -> None:
    policy = POLICIES[path]
    result = settle(policy, load_data(SAMPLE, policy), Period.parse("2024"))
    assert disagreements(result, limit=400) == []
