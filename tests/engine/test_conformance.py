"""Both evaluation paths run the same IR and agree value for value: for generated datasets, every
case's explained outputs equal the batch outputs, under every shipped policy."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from engine.explain import explain
from engine.rundata import Period
from engine.settle import Settlement, load_data, load_policy, settle
from tests.conftest import SAMPLE, shipped_policies
from tests.engine.datasets import datasets, write_dataset

POLICIES = {path: load_policy(path) for path in shipped_policies()}


def disagreements(result: Settlement, limit: int | None = None) -> list[str]:
    found = []
    for stage in result.settling_stages():
        cases = result.cases(stage)
        for row in (
            cases.head(limit).iter_rows(named=True) if limit else cases.iter_rows(named=True)
        ):
            trace = explain(result, row["case_id"], stage)
            for name in result.outputs():
                batch, explained = _plain(row[name]), _plain(trace.value(name))
                if batch != explained:
                    found.append(
                        f"{stage} {row['case_id']} {name}: batch {batch!r}, explain {explained!r}"
                    )
    return found


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
