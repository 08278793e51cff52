"""What explaining a case reads: after the run's first explanation, a case is found by a binary
search of the case ids (sorted in the run's data) and every per-case value is read at its row —
no scan of the ids, no filter of a frame of every case, no evaluation over every row
(`explain_windows.BatchRows` keeps each rank's and allocation's groups) — and the traces are
those of an explainer made afresh for each case."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import polars as pl
import pytest

from engine.explainer.explain import Explainer, UnknownCase, explain, explainer_of
from engine.inputs.rundata import Period
from engine.run.settle import Settlement, load_data, load_policy, settle
from tests.conftest import POLICIES, SAMPLE


@pytest.fixture(scope="module")
def xuancheng() -> Settlement:
    policy = load_policy(POLICIES / "xuancheng" / "2024.policy")
    return settle(policy, load_data(SAMPLE, policy), Period.parse("2024"))


def ranked_cases(result: Settlement, count: int) -> list[str]:
    """Cases that take part in the incentive rank (a window over the hospital's cases), then
    others: every path of the explainer."""
    cases = result.stages["settlement"].cases
    ranked = cases.filter(pl.col("incentive_rank").is_not_null())["case_id"].head(count)
    others = cases.filter(pl.col("incentive_rank").is_null())["case_id"].head(count)
    assert ranked.len() == count  # the sample has cases in the rank
    return [*ranked, *others]


class Reads:
    """The frames filtered and the id scans made while explaining."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.filtered: list[int] = []
        self.scans = 0
        self.evaluated = 0
        filter_, index_of = pl.DataFrame.filter, pl.Series.index_of

        def filter(frame: pl.DataFrame, *args: Any, **kwargs: Any) -> pl.DataFrame:
            self.filtered.append(frame.height)
            return filter_(frame, *args, **kwargs)

        def scan(series: pl.Series, value: Any) -> int | None:
            self.scans += 1
            return index_of(series, value)

        monkeypatch.setattr(pl.DataFrame, "filter", filter)
        monkeypatch.setattr(pl.Series, "index_of", scan)


def test_a_case_is_read_at_its_row(xuancheng: Settlement, monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = ranked_cases(xuancheng, 5)
    cases = xuancheng.stages["settlement"].cases
    candidates = cases.filter(pl.col("incentive_candidate").fill_null(False)).height
    explain(xuancheng, chosen[0])  # the run's explainer prepares its groups once
    reads = Reads(monkeypatch)
    for case_id in chosen[1:]:
        explain(xuancheng, case_id)
    every = xuancheng.data.cases.height
    assert reads.scans == 0
    assert every not in reads.filtered
    # the rank reads its hospital's candidates (not all its cases), a lookup a frame of groups
    assert max(reads.filtered) <= max(candidates, xuancheng.data.groups.height)


def test_the_kept_explainer_gives_the_fresh_traces(xuancheng: Settlement) -> None:
    stage = xuancheng.stages["settlement"]
    for case_id in ranked_cases(xuancheng, 5):
        kept = explain(xuancheng, case_id)
        assert kept == Explainer(xuancheng, stage).explain(case_id)


def test_the_explainer_is_kept_with_its_run(xuancheng: Settlement) -> None:
    first = explainer_of(xuancheng, "settlement")
    assert explainer_of(xuancheng, "settlement") is first
    stages = dict(xuancheng.stages)
    try:  # a stage settled again is explained afresh
        xuancheng.stages["settlement"] = stages["settlement"].__class__(
            **vars(stages["settlement"])
        )
        assert explainer_of(xuancheng, "settlement") is not first
    finally:
        xuancheng.stages.clear()
        xuancheng.stages.update(stages)


def test_an_unknown_case(xuancheng: Settlement, monkeypatch: pytest.MonkeyPatch) -> None:
    reads = Reads(monkeypatch)
    for unknown in ("no-such-case", "", "C0"):
        with pytest.raises(UnknownCase, match="not among the 20000 cases"):
            explain(xuancheng, unknown)
    assert reads.scans == 3  # not found by the search: looked for in every row


def test_cases_not_in_id_order(xuancheng: Settlement) -> None:
    """Cases not sorted by id (not what `RunData` gives) are found by a scan."""
    shuffled = xuancheng.data.cases.sample(fraction=1.0, shuffle=True, seed=1)
    explainer = Explainer(xuancheng, xuancheng.stages["settlement"])
    explainer.settlement = Settlement(
        xuancheng.policy,
        xuancheng.period,
        xuancheng.inputs,
        replace(xuancheng.data, cases=shuffled),
    )
    for case_id in shuffled["case_id"].head(20):
        assert explainer.position(case_id) == shuffled["case_id"].index_of(case_id)
