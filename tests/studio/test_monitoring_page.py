"""The Monitoring page: Wuhan's months of the sample side by side, the grouping-rate floor checked
month by month as `drgpolicy settle` checks it for one month, the report to download."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from engine.inputs.rundata import Period
from engine.run.settle import load_data, load_policy, settle
from tests.conftest import SAMPLE
from tests.studio.apptest import open_app, texts


def settled_month(policies: Path, month: str) -> pl.DataFrame:
    policy = load_policy(policies / "wuhan" / "2024.policy")
    return settle(policy, load_data(SAMPLE, policy), Period.parse(month)).indicators()


def test_the_monitoring_page_shows_each_months_targets_as_a_settlement_does(
    policies: Path,
) -> None:
    at = open_app("monitoring")
    at.selectbox(key="monitoring_city").set_value("wuhan").run()
    next(b for b in at.button if b.label == "Settle the months and compare").click().run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["结算次数 runs"] == "12"
    targets = at.dataframe[0].value
    floor = targets[targets["indicator"] == "整体入组率"]
    assert list(floor["period"]) == [f"2024-{m:02d}" for m in range(1, 13)]
    march = settled_month(policies, "2024-03").filter(
        (pl.col("indicator") == "grouping_rate") & (pl.col("grain") == "city")
    )
    shown = floor[floor["period"] == "2024-03"].iloc[0]
    assert shown["value"] == f"{float(march['value'][0]):.2%}"  # a ratio, written as %
    headers = json.loads(at.dataframe[0].proto.columns)
    assert headers["value"]["label"] == "值 value" and headers["met"]["label"] == "达标 met"
    assert shown["met"] == ("✓ met" if march["met"][0] else "✗ not met")
    assert len(at.get("download_button")) == 2
    assert any("wuhan, 2024-01 … 2024-12" in c for c in texts(at.caption))
