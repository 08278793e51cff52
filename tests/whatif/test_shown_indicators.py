"""The indicators a what-if shows, computed lazily, are the ones computed eagerly: evaluated only
at the grains shown (`Settlement.indicators(grains)`), and, for a re-settled run, taken from the
run it was re-settled from where nothing they read changed (`engine.run.resettled`) — row for
row, value for value (the values as text, as `indicators.csv` writes them), on every shipped
city with the sample and on a generated city, after a parameter moved and after an edit of the
text."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from engine.inputs.rundata import Period
from engine.plan.polars.batch import Settings
from engine.run.resettled import reused
from engine.run.settle import Settlement, load_data, load_policy, settle
from engine.synthetic.sample import generate_sample
from engine.whatif.attribution import compiled
from engine.whatif.exposure import _thresholds
from engine.whatif.indicators import GRAINS
from engine.whatif.rerun import resettle
from engine.whatif.thresholds import threshold_uses
from policy_dsl import ir
from policy_dsl.loader import policy_from_text, read_policy_file, resolve
from tests.conftest import POLICIES

CITIES = ["xuancheng/2024", "wuxi/2024", "yantai/2024", "wuhan/2024", "suzhou/2024"]
PERIOD = Period.parse("2024")
SHOWN = frozenset(GRAINS)


@pytest.fixture(scope="module")
def generated_city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("generated-city")
    generate_sample(folder, cases=20_000, seed=23, fmt="parquet", hospitals=30)
    return folder


def shown(table: pl.DataFrame, grains: frozenset[str] = SHOWN) -> pl.DataFrame:
    return table.filter(pl.col("grain").is_in(list(grains)))


def moved_params(policy: ir.Policy) -> list[Settings]:
    """The policy's first thresholds (parameters), each moved by a fifth."""
    found = []
    for use in threshold_uses(policy)[:4]:
        for threshold in _thresholds(policy, use, Settings(), {})[:1]:
            if threshold.row is None:
                found.append(Settings(params={threshold.name: threshold.value * 1.2 + 0.01}))
    assert found, "the city has thresholds"
    return found


@pytest.mark.parametrize("city", CITIES)
def test_indicators_at_some_grains_are_those_of_the_whole_table(
    city: str, sample_cut: Path
) -> None:
    policy = load_policy(POLICIES / f"{city}.policy")
    data = load_data(sample_cut, policy)
    lazy = settle(policy, data, PERIOD)
    by_grain = {word: lazy.indicators([word]) for word in ("group", "hospital", "month")}
    at_shown = lazy.indicators(GRAINS)
    full = settle(policy, data, PERIOD).indicators()
    assert at_shown.height > 0
    assert at_shown.equals(shown(full))
    for word, table in by_grain.items():
        assert table.equals(shown(full, frozenset({word}))), word
    # once the whole table is there, a set of grains is read from it
    assert lazy.indicators().equals(full)
    assert lazy.indicators(GRAINS).equals(at_shown)


def check_resettled(base: Settlement, policy: ir.Policy, settings: Settings) -> bool:
    """`policy` re-settled from `base` with `settings`: its indicators at the shown grains and in
    full, taken in part from `base`, equal those of a fresh settlement, and some were taken;
    whether an indicator shown moves."""
    fresh = settle(policy, base.inputs, PERIOD, settings).indicators()
    base.indicators(GRAINS)
    later = resettle(base, policy, settings)
    taken = reused(later, SHOWN)
    assert taken is not None and taken.home, "nothing was taken from the base run"
    assert later.indicators(GRAINS).equals(shown(fresh))
    base.indicators()  # the whole table of the base: the later run's is taken from it
    again = resettle(base, policy, settings)
    assert again.indicators().equals(fresh)
    moved = shown(fresh).join(
        shown(base.indicators()), on=["indicator", "grain", "key"], suffix="_base"
    )
    return bool((moved["value"] != moved["value_base"]).any())


@pytest.mark.parametrize("city", CITIES)
def test_a_moved_parameter_gives_the_indicators_of_a_fresh_settlement(
    city: str, sample_cut: Path
) -> None:
    policy = load_policy(POLICIES / f"{city}.policy")
    base = settle(policy, load_data(sample_cut, policy), PERIOD)
    moved = [check_resettled(base, policy, settings) for settings in moved_params(policy)]
    assert any(moved), "no threshold moved moves an indicator shown"


def edited_xuancheng(percent: int) -> ir.Policy:
    """Xuancheng 2024 with its grassroots low-ratio threshold written as `percent`%."""
    path = POLICIES / "xuancheng" / "2024.policy"
    written = path.read_text(encoding="utf-8")
    assert "ratio = 30%" in written
    text = written.replace("ratio = 30%", f"ratio = {percent}%")
    others = [read_policy_file(p) for p in path.parent.glob("*.policy") if p != path]
    return compiled(resolve(policy_from_text(text, str(path)), others))


def test_an_edited_text_gives_the_indicators_of_a_fresh_settlement_on_a_generated_city(
    generated_city: Path,
) -> None:
    policy = load_policy(POLICIES / "xuancheng" / "2024.policy")
    base = settle(policy, load_data(generated_city, policy), PERIOD)
    assert check_resettled(base, edited_xuancheng(45), Settings())
    assert check_resettled(base, policy, Settings(params={"low_ratio_grassroots": 0.42}))


def test_an_indicator_reading_a_changed_value_is_evaluated_again(sample_cut: Path) -> None:
    """The low-ratio share reads the category a threshold decides; the CMI reads the groups'
    weights alone: only the first is evaluated again."""
    policy = load_policy(POLICIES / "xuancheng" / "2024.policy")
    base = settle(policy, load_data(sample_cut, policy), PERIOD)
    base.indicators(GRAINS)
    later = resettle(base, policy, Settings(params={"low_ratio_grassroots": 0.42}))
    assert later.resettled_from is not None
    redo = later.resettled_from.redo
    assert {"low_ratio_share@city", "low_ratio_share@level"} <= redo
    assert "cmi@city" not in redo
    taken = reused(later, SHOWN)
    assert taken is not None and "cmi@city" in taken.home
    assert "low_ratio_share@city" not in taken.home
