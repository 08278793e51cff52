"""Attribution per clause: the parts and the interaction add up to the change exactly, to the
fen, per hospital, per level and in total — for the shipped versions and for random parameter
edits of a copy of the 2024 file next to a copy of 2023."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.inputs.contract import Inputs
from engine.inputs.rundata import Period
from engine.whatif import Attribution, Runs, attribute
from engine.whatif.attribution import INTERACTION, compiled
from engine.whatif.impact import impact_of
from policy_dsl.loader import Resolved, read_policy_file, resolve
from tests.whatif.conftest import NEW, OLD

#: Parameters declared in 2024.policy and values to try for each.
EDITS = {
    "low_ratio_grassroots": ["20%", "30%", "35%", "45%"],
    "level_share": ["70%", "80%", "100%"],
    "cost_share": ["0%", "20%", "30%"],
    "new_hospital_share": ["60%", "80%", "95%"],
    "large_number_cases": ["20", "100", "400"],
}


def assert_adds_up(attribution: Attribution) -> None:
    table = attribution.table()
    parts = [p.key for p in attribution.parts] + [INTERACTION]
    summed = table.select(pl.sum_horizontal(parts).alias("sum"), "total")
    assert summed["sum"].to_list() == summed["total"].to_list()
    assert (
        sum(p.delta for p in attribution.parts) + attribution.interaction
        == attribution.impact.delta
    )
    by_level = attribution.levels().group_by("level").agg(pl.col("delta").sum()).sort("level")
    assert by_level.rows() == attribution.impact.levels.select("level", "delta").rows()
    assert table["total"].dtype == pl.Int64


def resolved(path: Path) -> Resolved:
    return resolve(read_policy_file(path))


def test_xuancheng_2023_to_2024_adds_up(sample_inputs: Inputs) -> None:
    attribution = attribute(Runs(sample_inputs, Period.parse("2024")), resolved(OLD), resolved(NEW))
    assert_adds_up(attribution)
    keys = {p.key for p in attribution.parts}
    assert {"class:category/low", "definition:hospital_coefficient"} <= keys
    low = next(p for p in attribution.parts if p.key == "class:category/low")
    assert "param:low_ratio_grassroots" in low.brought
    assert low.levels[1] > 0  # the grassroots threshold pays level-1 hospitals more
    assert "param:low_ratio_grassroots" not in keys  # brought along, not measured alone


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    edits=st.dictionaries(st.sampled_from(sorted(EDITS)), st.none(), min_size=1).flatmap(
        lambda chosen: st.fixed_dictionaries({k: st.sampled_from(EDITS[k]) for k in chosen})
    )
)
def test_random_parameter_edits_add_up(sample_inputs: Inputs, edits: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        shutil.copy(OLD, Path(folder) / "2023.policy")
        text = NEW.read_text(encoding="utf-8")
        for name, value in edits.items():
            text = re.sub(rf"(param {name} .*? = )\S+( 元)?", rf"\g<1>{value}", text)
        (Path(folder) / "2024.policy").write_text(text, encoding="utf-8")
        base, new = resolved(Path(folder) / "2023.policy"), resolved(Path(folder) / "2024.policy")
        assert_adds_up(attribute(Runs(sample_inputs, Period.parse("2024")), base, new))


def test_the_comparison_made_already_gives_the_same_attribution(sample_inputs: Inputs) -> None:
    """The studio passes the comparison its run has made (`attribute(…, impact=)`): the
    attribution is the one `attribute` makes with its own, to the fen, part for part."""
    base, new = resolved(OLD), resolved(NEW)
    alone = attribute(Runs(sample_inputs, Period.parse("2024")), base, new)
    runs = Runs(sample_inputs, Period.parse("2024"))
    made = impact_of(runs.outcome(compiled(base)), runs.outcome(compiled(new)))
    given_it = attribute(runs, base, new, impact=made)
    assert given_it.impact is made
    assert given_it.to_json() == alone.to_json()
    assert [p.to_json() for p in given_it.parts] == [p.to_json() for p in alone.parts]
