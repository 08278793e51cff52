"""A key given to a rekey by a function of one text column (`base_points[group =
no_cc(secondary_drg)]`, or any other such function): where the rekey goes by codes, the function
is computed once per distinct text (`keys.codes_of_texts`), and the values brought are those of a
join on the function computed row by row."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from bench.simple import handwritten as simple
from engine.inputs.rundata import Period
from engine.plan.polars import keys
from engine.run.settle import load_data, load_policy, settle
from policy_dsl.check import check
from policy_dsl.grains import CASE
from policy_dsl.loader import policy_from_text, resolve
from policy_dsl.lower import lower

NO_CC = "no_cc(secondary_drg)"
#: CB59's own no-CC group is CB59 (62 pt); this key sends it to OC29 (55 pt) instead
CB59_TO_OC29 = 'if secondary_drg == "CB59" then "OC29" else no_cc(secondary_drg)'


def _cases(
    sample_dir: Path, given: str, small: int, monkeypatch: pytest.MonkeyPatch
) -> pl.DataFrame:
    """The simple policy's cases with its multi-site step's key given by `given`, the rekey by
    codes (`small` 0) or by a join on the key's value (`small` above the cases)."""
    text = simple.POLICY.read_text(encoding="utf-8")
    assert NO_CC in text
    text = text.replace(f"base_points[group = {NO_CC}]", f"base_points[group = {given}]")
    policy = lower(check(resolve(policy_from_text(text, "s/s.policy"), [])))
    monkeypatch.setattr(keys, "SMALL", small)
    coded: list[pl.Series | None] = []
    original = keys.codes_of_texts

    def spied(*args: object) -> pl.Series | None:
        coded.append(original(*args))  # type: ignore[arg-type]
        return coded[-1]

    monkeypatch.setattr(keys, "codes_of_texts", spied)
    settled = settle(policy, load_data(sample_dir, policy), Period.parse("2024"))
    assert [found is not None for found in coded] == ([True] if small == 0 else [])
    cases = settled.stages[settled.settling_stages()[-1]].frames[CASE]
    return cases.select("case_id", "secondary_drg", "class_points", "case_points")


@pytest.mark.parametrize("given", [NO_CC, CB59_TO_OC29])
def test_by_codes_of_the_distinct_texts_as_by_a_join_on_the_rows_values(
    sample_dir: Path, given: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_codes = _cases(sample_dir, given, 0, monkeypatch)
    by_join = _cases(sample_dir, given, 10**9, monkeypatch)
    assert by_codes.equals(by_join)


def test_a_function_other_than_no_cc_gives_its_own_group(
    sample_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the step adds half the secondary group's points, a CB59 case gets 27.5 pt (half
    of OC29's 55) instead of 31 (half of CB59's 62); every other case is as with `no_cc`."""
    no_cc = _cases(sample_dir, NO_CC, 0, monkeypatch)
    other = _cases(sample_dir, CB59_TO_OC29, 0, monkeypatch)
    both = no_cc.join(other, on="case_id", suffix="_other")
    cb59 = pl.col("secondary_drg") == "CB59"
    took = cb59 & (pl.col("case_points_other") > pl.col("class_points"))
    assert both.filter(~cb59)["case_points"].equals(both.filter(~cb59)["case_points_other"])
    gap = both.filter(took).select((pl.col("case_points") - pl.col("case_points_other")).round(9))
    assert gap.height > 0
    assert gap.to_series().unique().to_list() == [3.5]


def test_the_codes_of_a_case_column_are_made_once_per_dataset(
    sample_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second settlement of the same inputs (what-if, the studio, a benchmark's rounds)
    re-uses the codes of `no_cc(secondary_drg)` (`RunData.text_codes`), and pays the same."""
    policy = load_policy(simple.POLICY)
    inputs = load_data(sample_dir, policy)
    monkeypatch.setattr(keys, "SMALL", 0)
    calls: list[object] = []
    original = keys.codes_of_texts

    def spied(*args: object) -> pl.Series | None:
        calls.append(args)
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(keys, "codes_of_texts", spied)
    first, second = (settle(policy, inputs, Period.parse("2024")).cases() for _ in range(2))
    assert len(calls) == 1
    assert first.equals(second)
