"""The attribution's and the exposure's lean reading of a re-settled run (`measured`: only the
definitions the outputs and reports read re-evaluated, only the payments, categories and money
reports read) gives the numbers of the full re-settlement and comparison (`Outcome.of` and
`impact_of`), on every shipped city: the
payment change in total and per level, the cases that change category and each money report's
change of a threshold's step, and the per-hospital measures of a clause."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.inputs.rundata import Period
from engine.plan.polars.batch import Settings
from engine.run.outputs import stage_tables
from engine.run.settle import Settlement, load_data, load_policy, settle
from engine.whatif.attribution import _measures, _shared, attribute
from engine.whatif.exposure import _thresholds
from engine.whatif.impact import impact_of
from engine.whatif.measured import Measured, measured_definitions, shift_of
from engine.whatif.rerun import resettle
from engine.whatif.runs import Outcome, Runs, _money_reports, _supervision, statement_read
from engine.whatif.thresholds import threshold_uses
from policy_dsl import ir
from policy_dsl.check import Checked
from policy_dsl.loader import read_policy_file, resolve
from policy_dsl.lower import lower
from tests.conftest import POLICIES

CITIES = ["xuancheng/2024", "wuxi/2024", "yantai/2024", "wuhan/2024", "suzhou/2024"]


def shifted_runs(base: Settlement) -> list[Settlement]:
    """The base re-settled with each of its first thresholds (parameters) moved by 20%."""
    policy = base.policy
    found = []
    for use in threshold_uses(policy)[:4]:
        for threshold in _thresholds(policy, use, Settings(), {})[:1]:
            if threshold.row is None:
                moved = Settings(params={threshold.name: threshold.value * 1.2 + 0.01})
                found.append(resettle(base, policy, moved))
    assert found, "the city has thresholds"
    return found


@pytest.mark.parametrize("city", CITIES)
def test_a_shift_reads_as_the_full_comparison(city: str, sample_cut: Path) -> None:
    policy = load_policy(POLICIES / f"{city}.policy")
    base = Outcome.of(settle(policy, load_data(sample_cut, policy), Period.parse("2024")))
    moved_any = False
    for run in shifted_runs(base.settlement):
        full = impact_of(base, Outcome.of(run))
        only = measured_definitions(policy, base.settlement.period)
        lean_run = resettle(base.settlement, run.policy, run.settings, only)
        lean = shift_of(base, Measured.of(lean_run), base.settlement.data.hospitals)
        assert lean.delta == full.delta
        levels = full.levels.select("level", "delta").rows()
        assert lean.levels == {int(level): int(delta) for level, delta in levels}
        assert lean.moved_cases == int(full.moved()["cases"].sum())
        reports = full.reports.select("report", "delta").rows()
        assert lean.reports == {r: int(d or 0) for r, d in reports}
        moved_any |= full.payments_move or bool(lean.moved_cases)
        names = sorted(_shared(full))
        assert (
            _measures(Measured.of(lean_run), names)
            .sort("hospital_id", "measure")
            .equals(_measures(Outcome.of(run), names).sort("hospital_id", "measure"))
        )
    assert moved_any  # the shifts move money or cases: the comparison is not of equal runs


def test_the_one_change_of_an_edit_is_not_settled_again(
    sample_cut: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit of one parameter is one clause: its version alone is the new version, which the
    what-if has settled and kept — the attribution reads it instead of lowering and re-settling
    it."""
    new = POLICIES / "xuancheng" / "2024.policy"
    edited = tmp_path / "2024.policy"
    text = new.read_text(encoding="utf-8")
    edited.write_text(text.replace(": ratio = 30%", ": ratio = 35%", 1), encoding="utf-8")
    shutil.copy(POLICIES / "xuancheng" / "2023.policy", tmp_path / "2023.policy")
    base, after = resolve(read_policy_file(new)), resolve(read_policy_file(edited))
    runs = Runs(load_data(sample_cut, load_policy(new)), Period.parse("2024"))
    expected = attribute(runs, base, after)
    assert [p.key for p in expected.parts] == ["param:low_ratio_grassroots"]

    def refuse(*_: object) -> None:
        raise AssertionError("re-settled")

    monkeypatch.setattr("engine.whatif.attribution.resettle", refuse)
    lowered: list[Checked] = []

    def counted(checked: Checked) -> ir.Policy:
        lowered.append(checked)
        return lower(checked)

    monkeypatch.setattr("engine.whatif.attribution.lower", counted)
    again = attribute(runs, base, after)
    assert len(lowered) == 2  # the two versions, not the change alone
    assert again.parts == expected.parts and again.interaction == expected.interaction


@pytest.mark.parametrize("city", CITIES)
def test_an_outcome_without_the_statement_reads_as_with_it(city: str, sample_cut: Path) -> None:
    """`Outcome.of` builds the hospitals' statement only when it reads something of it
    (`statement_read`): its per-hospital reports and supervision are those of the statement."""
    policy = load_policy(POLICIES / f"{city}.policy")
    settled = settle(policy, load_data(sample_cut, policy), Period.parse("2024"))
    outcome = Outcome.of(settled)
    statement = stage_tables(settled, outcome.stage)["hospitals"]
    assert outcome.reports.equals(_money_reports(statement, settled, outcome.stage))
    assert outcome.supervision.equals(_supervision(statement, settled))
    assert outcome.reports.height == settled.data.hospitals.height


def test_xuancheng_reads_no_statement(sample_cut: Path) -> None:
    policy = load_policy(POLICIES / "xuancheng" / "2024.policy")
    settled = settle(policy, load_data(sample_cut, policy), Period.parse("2024"))
    assert not statement_read(settled, settled.settling_stages()[-1])


def test_a_lean_run_without_money_reports_leaves_the_other_reports_out(sample_cut: Path) -> None:
    """Xuancheng's reports are not money (a cost per point and its ranking): a shift evaluates
    the category, the payment and what they read, not the reports; Wuxi's year-end corrections
    are money, so its lean run evaluates every report the statement shows."""
    policy = load_policy(POLICIES / "xuancheng" / "2024.policy")
    year = Period.parse("2024")
    only = measured_definitions(policy, year)
    assert {("settlement", "category"), ("settlement", "payment")} <= only
    assert ("settlement", "point_value") in only  # the payment reads it through payable_total
    assert not only & {("settlement", "cost_per_point"), ("settlement", "horse_race_rank")}
    base = settle(policy, load_data(sample_cut, policy), year)
    moved = Settings(params={"low_ratio_standard": 0.45})
    lean = resettle(base, policy, moved, only)
    assert "horse_race_rank" not in lean.stages["settlement"].home
    assert "horse_race_rank" in resettle(base, policy, moved).stages["settlement"].home
    wuxi = load_policy(POLICIES / "wuxi" / "2024.policy")
    reports = {(s.name, d.name) for s in wuxi.stages for d in s.definitions if d.report}
    assert reports and reports <= measured_definitions(wuxi, year)
