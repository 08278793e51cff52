"""`distinct` of a text case column of the inputs counts its hashes where no two of its texts
share one (`batch_windows._distinct_hashes`, made once per dataset): the same counts as the
texts'."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import polars as pl
import pytest

from engine.inputs.rundata import Period
from engine.run.settle import load_data, load_policy, run_data, settle

XUANCHENG = Path(__file__).resolve().parents[2] / "policies" / "xuancheng" / "2024.policy"
PERIOD = Period.parse("2024")


def indicators(sample_dir: Path) -> tuple[pl.DataFrame, dict[str, pl.Series | None]]:
    """The sample's indicators under Xuancheng 2024 (its inputs loaded afresh: a dataset of
    its own), and the hashes its run kept."""
    policy = load_policy(XUANCHENG)
    inputs = load_data(sample_dir, policy)
    table = settle(policy, inputs, PERIOD).indicators()
    return table, run_data(inputs, PERIOD).distinct_hashes


def test_persons_per_hospital_are_counted_as_a_set_counts_them(sample_dir: Path) -> None:
    """`admissions_per_person` = cases ÷ distinct `person_id`, by hospital: the persons counted
    as a Python set of the hospital's ids counts them, on the hashes kept for the dataset."""
    table, kept = indicators(sample_dir)
    assert kept["person_id"] is not None and kept["person_id"].dtype == pl.UInt64
    cases = run_data(load_data(sample_dir, load_policy(XUANCHENG)), PERIOD).cases
    persons: dict[str, set[str]] = defaultdict(set)
    admissions: dict[str, int] = defaultdict(int)
    for hospital, person in cases.select("hospital_id", "person_id").iter_rows():
        admissions[hospital] += 1
        if person is not None:
            persons[hospital].add(person)
    rows = table.filter(
        (pl.col("indicator") == "admissions_per_person") & (pl.col("grain") == "hospital")
    )
    got = {key: float(value) for key, value in rows.select("key", "value").iter_rows()}
    assert got.keys() == admissions.keys()
    for hospital, value in got.items():
        assert value == pytest.approx(admissions[hospital] / len(persons[hospital]), rel=1e-9)
    assert any(v != pytest.approx(1.0) for v in got.values())  # some person came twice


def test_texts_that_share_a_hash_are_counted_as_texts(
    sample_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where two texts share a hash (hashes made to collide: three values), the texts are
    counted: every indicator the same as with the hashes — `distinct(drg_code where grouped)`
    (the rows the `where` leaves out not counted) and `distinct(person_id)`, at every grain."""
    hashed, kept = indicators(sample_dir)
    assert kept["drg_code"] is not None
    original = pl.Series.hash
    monkeypatch.setattr(pl.Series, "hash", lambda self, *a, **k: original(self, *a, **k) % 3)
    texts, kept = indicators(sample_dir)
    assert kept == {"person_id": None, "drg_code": None}
    counted = pl.col("indicator").is_in(["drg_groups", "admissions_per_person"])
    assert hashed.filter(counted).height > 0
    assert hashed.equals(texts)
