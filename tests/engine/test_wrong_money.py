"""Never a wrong payment with exit 0 (issue 10): a value that overflows or becomes NaN stops the
run naming the definition, where and its inputs; cases rejected because of their hospital or
group are counted per cause, and too many rejects fail the run unless accepted."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from engine.inputs.rundata import Period
from engine.plan import money
from engine.plan.polars import finite
from engine.plan.polars.finite import NotFinite
from engine.run.settle import load_data, load_policy, settle
from tests.conftest import POLICIES, SAMPLE, run_cli

XUANCHENG_FILE = POLICIES / "xuancheng" / "2024.policy"
XUANCHENG = load_policy(XUANCHENG_FILE)
YEAR = Period.parse("2024")


def _with_weight(weight: float) -> object:
    """The sample with group OC29 (1081 cases) weighing `weight`, past the contract (as a
    caller of `settle` with its own frames could)."""
    inputs = load_data(SAMPLE, XUANCHENG)
    groups = inputs.groups.with_columns(
        weight=pl.when(pl.col("drg_code") == "OC29").then(weight).otherwise("weight")
    )
    return dataclasses.replace(inputs, groups=groups)


PAYMENT = 'let payment "病例支付额" : money at case = allocate(payable_total, settled_points)'


def _line_of(text: str) -> int:
    """The line of Xuancheng 2023 that starts with `text`."""
    lines = (POLICIES / "xuancheng" / "2023.policy").read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.startswith(text))


def test_a_weight_of_1e300_stops_the_run_at_the_payment_naming_the_culprit() -> None:
    with pytest.raises(NotFinite) as error:
        settle(XUANCHENG, _with_weight(1e300), YEAR)  # type: ignore[arg-type]
    words = str(error.value)
    assert words.startswith("stage settlement: `payment` (病例支付额, ")
    # C006916 (OC29, H0001) is a high-cost case: with 10^302 base points its threshold is 200%,
    # its points 10^302 × (37647.19 / 6356.63 − 1), times H0001's coefficient 0.9585 (0.8 ×
    # level coefficient + 0.2 × cost coefficient from the hospitals' history): 4.71814e+302.
    # It is an approved incentive case, but its incentive points (217.5) do not exceed those
    # group points, so it is no incentive candidate and keeps them.
    assert words.endswith(
        f"xuancheng/2023.policy:{_line_of(PAYMENT)}) is NaN (not a number) at case C000001 "
        "and 19999 more case rows: the run is stopped and nothing is written. Formula: "
        "allocate(payable_total, settled_points); there it reads payable_total = "
        "332,771,895.00, settled_points = 81.62; the largest: settled_points reaches "
        "4.71814e+302 at case C006916. A value this large or small comes from an input, a "
        "constant of the policy or a value set with --set/--fix: check them (the contract's "
        "bounds: engine/CONTRACT.md)"
    )


def _tiny_policy(tmp_path: Path) -> Path:
    """Xuancheng 2023 with a constant of 10^-15 (the smallest number the language accepts, E011)
    that the period fund is divided by 21 times: `check` accepts it, and it makes the fund 10^315
    times larger — past any double."""
    text = (POLICIES / "xuancheng" / "2023.policy").read_text(encoding="utf-8")
    text = text.replace('policy xuancheng version "2023"', 'policy tiny version "2023"')
    stable = 'param min_stable_cases "稳定病组最少病例数（不含）" : count = 10'
    assert stable in text
    text = text.replace(
        stable, 'param scale "比例" : number = 1e-15\n  assumption "a test"\n' + stable
    )
    fund = "= drg_fund * period_months / 12"
    assert fund in text
    text = text.replace(fund, fund + " / scale" * 21)
    path = tmp_path / "tiny" / "2023.policy"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    return path


def test_a_constant_of_1e_300_stops_the_run_with_the_definition_and_its_inputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = _tiny_policy(tmp_path)
    code, out, err = run_cli(
        capsys,
        *("settle", "--policy", str(policy), "--data", str(SAMPLE), "--period", "2024"),
        *("--out", str(tmp_path / "out"), "--any-date"),
    )
    assert code == 1
    assert "Traceback" not in err and out == ""
    assert (
        f"stage settlement: `period_fund` (本期基金预算, {policy}:" in err
        and ") is inf, not a finite number for the period: the run is stopped and nothing is "
        f"written. Formula: drg_fund * period_months / 12{' / scale' * 21}; there it reads "
        "drg_fund = 332,771,895.00, period_months = 12.00, scale = 1e-15"
        in err
    ), err
    assert not (tmp_path / "out").exists()


def test_money_beyond_the_fen_range_stops_the_run() -> None:
    inputs = load_data(SAMPLE, XUANCHENG)
    big = dataclasses.replace(
        inputs, budget=inputs.budget | {"values": {"drg_fund": money.MAX_MONEY * 24}}
    )
    with pytest.raises(NotFinite, match=r"`period_fund` .* is money beyond 90,071,992,547,409\.92"):
        settle(XUANCHENG, big, YEAR)


def test_allocate_of_an_overflowing_weight_is_nan_never_a_wrong_split() -> None:
    frame = pl.DataFrame({"total": [100.0] * 3, "w": [1e308, 1e308, 1.0]})
    out = money.allocate(frame, total="total", weight="w", by=[], out="paid")
    assert out["paid"].is_nan().all()
    ok = money.allocate(
        frame.with_columns(w=pl.lit(1.0)), total="total", weight="w", by=[], out="paid"
    )
    assert ok["paid"].to_list() == [33.34, 33.33, 33.33]


# ---- cases rejected because of their hospital or group -------------------------------------------


def _level_4(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    hospitals = pl.read_csv(data / "hospitals.csv", infer_schema=False)
    hospitals.with_columns(
        level=pl.when(pl.col("hospital_id") == "H0003").then(pl.lit("4")).otherwise("level")
    ).write_csv(data / "hospitals.csv")
    return data


def _settle(capsys: pytest.CaptureFixture[str], data: Path, out: Path, *more: str) -> tuple:
    return run_cli(
        capsys,
        *("settle", "--policy", str(XUANCHENG_FILE), "--data", str(data), "--period", "2024"),
        *("--out", str(out), *more),
    )


def test_a_rejected_hospital_fails_the_run_and_its_cases_are_counted_by_cause(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _level_4(tmp_path)
    cases = pl.read_csv(data / "cases.csv", infer_schema=False)
    moved = cases.filter(pl.col("hospital_id") == "H0003").height
    code, _, err = _settle(capsys, data, tmp_path / "out")
    assert code == 1
    assert (
        f"{moved} cases rejected because hospital rejected in hospitals.csv (H0003: {moved} — "
        "hospitals.csv row 3: level 4 is not one of 0, 1, 2, 3)"
    ) in err
    assert (
        f"error: {moved} of 20000 case rows were rejected ({moved / 20000:.2%}), more than "
        "--max-reject-share 1.00%" in err
    )
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["rows"]["cases_rejected_because"] == {
        "hospital rejected in hospitals.csv": {"H0003": moved}
    }
    assert manifest["rows"]["cases"]["rejected"] == moved


def test_accept_rejects_or_a_higher_share_lets_the_run_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _level_4(tmp_path)
    code, _, err = _settle(capsys, data, tmp_path / "a", "--accept-rejects")
    assert code == 0 and "note (--accept-rejects)" in err
    code, _, err = _settle(capsys, data, tmp_path / "b", "--max-reject-share", "10%")
    assert code == 0 and "error" not in err
    code, _, err = _settle(capsys, data, tmp_path / "c", "--max-reject-share", "0.05")
    assert code == 1


def test_a_rejected_deductions_row_fails_the_run_however_few(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One deduction of 3,349.57 元 written negative: rejected, so H0008 is paid without it.
    No share of the rows lets that pass (exit 1, outputs to inspect) unless --accept-rejects;
    a row of a kind the policy does not read changes no payment and is not checked."""
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    deductions = pl.read_csv(data / "deductions.csv", infer_schema=False)
    audit = pl.col("kind") == "audit_deduction"
    row = deductions.with_row_index().filter(audit & (pl.col("amount") == "3349.57"))
    assert row["hospital_id"].to_list() == ["H0008"]  # the sample's own row, read by Wuxi
    negative = pl.when(pl.int_range(pl.len()) == row["index"].item()).then(pl.lit("-3349.57"))
    deductions.with_columns(amount=negative.otherwise("amount")).write_csv(data / "deductions.csv")
    wuxi = ("settle", "--policy", str(POLICIES / "wuxi" / "2024.policy"), "--period", "2024")
    code, _, err = run_cli(capsys, *wuxi, "--data", str(data), "--out", str(tmp_path / "a"))
    assert code == 1
    assert "error: 1 row of deductions rejected: a deduction is money off one hospital's" in err
    code, _, err = run_cli(
        capsys, *wuxi, "--data", str(data), "--out", str(tmp_path / "b"), "--accept-rejects"
    )
    assert code == 0 and "note (--accept-rejects): 1 row of deductions rejected" in err
    code, _, _ = run_cli(capsys, *wuxi, "--data", str(SAMPLE), "--out", str(tmp_path / "c"))
    assert code == 0

    def audit_of_h0008(out: str) -> str:
        hospitals = pl.read_csv(tmp_path / out / "year_end" / "hospitals.csv", infer_schema=False)
        return hospitals.filter(pl.col("hospital_id") == "H0008")["audit_deduction"].item()

    accepted, clean = audit_of_h0008("b"), audit_of_h0008("c")
    assert round(float(clean) - float(accepted), 2) == 3349.57  # paid without it, as said
    unread = deductions.with_columns(
        amount=pl.when(pl.col("kind") == "refusal").then(pl.lit("-1")).otherwise("amount")
    )
    unread.write_csv(data / "deductions.csv")  # Wuxi reads no refusal
    code, _, _ = run_cli(capsys, *wuxi, "--data", str(data), "--out", str(tmp_path / "d"))
    assert code == 0


def test_a_case_paid_less_than_zero_fails_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Suzhou pays the cases outside DRG first from the total budget; with the budget written
    a hundred times too small (a digit dropped twice) the point value falls below zero and the
    DRG cases would be paid negative amounts: the run fails and says so, counted from the
    written file."""
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    budget = (data / "budget.yaml").read_text(encoding="utf-8")
    assert "drg_fund: 332771895\n" in budget
    (data / "budget.yaml").write_text(budget.replace("332771895", "3327718"), encoding="utf-8")
    suzhou = ("settle", "--policy", str(POLICIES / "suzhou" / "2024.policy"), "--period", "2024")
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, *suzhou, "--data", str(data), "--out", str(out))
    cases = pl.read_csv(out / "settlement" / "cases.csv", infer_schema=False)
    below = cases.filter(pl.col("payment").cast(pl.Float64) < 0)["case_id"].sort()
    assert code == 1 and below.len() > 0
    first = ", ".join(below.head(5))
    assert (
        f"error: stage settlement: {below.len()} cases paid less than zero (first: {first})" in err
    )
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["paid_below_zero"] == {
        "settlement": {"cases": below.len(), "first": below.head(5).to_list()}
    }
    policy = load_policy(POLICIES / "suzhou" / "2024.policy")
    result = settle(policy, load_data(data, policy), Period.parse("2024"))
    assert result.cases_paid_below_zero() == {"settlement": below.len()}  # the API says it too
    code, _, _ = run_cli(capsys, *suzhou, "--data", str(SAMPLE), "--out", str(tmp_path / "ok"))
    sound = json.loads((tmp_path / "ok" / "manifest.json").read_text(encoding="utf-8"))
    assert code == 0 and "paid_below_zero" not in sound
    assert (
        settle(policy, load_data(SAMPLE, policy), Period.parse("2024")).cases_paid_below_zero()
        == {}
    )


def test_a_share_is_a_percentage_or_a_fraction(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _settle(capsys, SAMPLE, Path("/nonexistent"), "--max-reject-share", "150%")
    assert "give a share such as 1% or 0.01" in capsys.readouterr().err


def test_unknown_groups_are_a_cause_too(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    groups = pl.read_csv(data / "groups.csv", infer_schema=False)
    groups.filter(pl.col("drg_code") != "OC29").write_csv(data / "groups.csv")
    causes = load_data(data, XUANCHENG).causes
    assert causes.rows() == [
        ("DRG code not in groups.csv", "OC29", 1081),
        ("secondary_drg not in groups.csv", "OC29", 36),
    ]


def test_a_clean_run_has_no_causes_and_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _settle(capsys, SAMPLE, tmp_path / "out")
    assert code == 0 and "rejected because" not in err
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["rows"]["cases_rejected_because"] == {}


def test_money_within_range_is_judged_on_both_signs() -> None:
    """`finite._within`, from the least and greatest value: a debt beyond the range counts as
    much as a payment beyond it; the range's ends and missing values are within."""
    bound = money.MAX_MONEY
    assert finite._within(pl.Series([-bound, bound, None]), bound)
    assert not finite._within(pl.Series([-2 * bound, 1.0]), bound)
    assert not finite._within(pl.Series([1.0, 2 * bound]), bound)
    assert finite._within(pl.Series([None, None], dtype=pl.Float64), bound)


def test_a_budget_in_wan_yuan_is_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """budget.yaml's `drg_fund` written in 万元 (33277.19 for 332,771,895 元): every case is
    paid 1/10,000 of what it costs. The run says so — a warning and the manifest's
    `paid_far_from_cost` — while the sample's own budget (paid 96.1 % of cost) says nothing."""
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    budget = (data / "budget.yaml").read_text(encoding="utf-8")
    (data / "budget.yaml").write_text(budget.replace("332771895", "33277.19"), encoding="utf-8")
    xuancheng = ("settle", "--policy", str(POLICIES / "xuancheng" / "2024.policy"))
    out = tmp_path / "out"
    code, _, err = run_cli(
        capsys, *xuancheng, "--period", "2024", "--data", str(data), "--out", str(out)
    )
    cases = pl.read_csv(out / "settlement" / "cases.csv")
    paid, cost = cases["payment"].sum(), cases["total_cost"].sum()
    assert 0.00009 < paid / cost < 0.00011  # 1/10,000 of the sound run's 0.961
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    far = manifest["paid_far_from_cost"]["settlement"]
    assert far == {"paid": round(paid, 2), "cost": round(cost, 2), "ratio": round(paid / cost, 6)}
    assert (
        code == 0 and "warning: stage settlement: the cases are paid 0.01% of what they cost" in err
    )
    assert "in 万元 instead of 元" in err
    code, _, err = run_cli(
        capsys, *xuancheng, "--period", "2024", "--data", str(SAMPLE), "--out", str(tmp_path / "ok")
    )
    sound = json.loads((tmp_path / "ok" / "manifest.json").read_text(encoding="utf-8"))
    assert code == 0 and "paid_far_from_cost" not in sound and "warning" not in err


@pytest.mark.parametrize("backend", ["polars", "duckdb"])
@pytest.mark.parametrize(
    ("policy", "written", "words"),
    [
        ("xuancheng", ("332771895", "0"), "budget.yaml:7: values.drg_fund is 0: a budget of 0"),
        ("wuxi", ("332771895", "0.00"), "budget.yaml:7: values.drg_fund is 0: a budget of 0"),
        (
            "wuxi",
            ("A: 253825073\n    B: 64361899\n    C: 14584923", "A: 0\n    B: 0\n    C: 0"),
            "budget.yaml:11: values.tier_budget is 0 for every tier ({A: 0, B: 0, C: 0})",
        ),
    ],
    ids=["drg_fund 0", "drg_fund 0.00", "every tier 0"],
)
def test_a_budget_of_zero_is_refused_naming_the_file_and_key(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    policy: str,
    written: tuple[str, str],
    words: str,
    backend: str,
) -> None:
    """budget.yaml's `drg_fund` written 0: every case would be paid 0.00. On mend30 the run
    wrote it, warned and exited 0 — a fund office's job paid nothing; a budget of 0 元 for a
    period with cases is an empty cell, not a budget: refused before anything is settled."""
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    budget = (data / "budget.yaml").read_text(encoding="utf-8")
    assert written[0] in budget
    (data / "budget.yaml").write_text(budget.replace(*written), encoding="utf-8")
    out = tmp_path / "out"
    argv = ("settle", "--policy", str(POLICIES / policy / "2024.policy"), "--backend", backend)
    code, _, err = run_cli(
        capsys, *argv, "--period", "2024", "--data", str(data), "--out", str(out)
    )
    assert code != 0 and words in err and "give the fund's amount in 元" in err, err
    assert "Traceback" not in err and not out.exists()


def test_a_zero_figure_only_the_year_end_reads_lets_a_month_settle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Wuxi's `drg_fund` is read by its `year_end` stage only: a fund office may leave it 0
    until the year end, and the months settle as they would with the real fund (only the
    manifest's hash of budget.yaml differs); the year itself is refused."""
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    budget = (data / "budget.yaml").read_text(encoding="utf-8")
    (data / "budget.yaml").write_text(budget.replace("332771895", "0"), encoding="utf-8")
    argv = ("settle", "--policy", str(POLICIES / "wuxi" / "2024.policy"), "--period")
    outs = {}
    for name, folder in (("zero", data), ("fund", SAMPLE)):
        outs[name] = tmp_path / name
        code, _, err = run_cli(
            capsys, *argv, "2024-03", "--data", str(folder), "--out", str(outs[name])
        )
        assert code == 0, err
    written = sorted((outs["fund"] / "monthly").rglob("*.csv"))
    assert len(written) >= 2  # the month's cases and hospitals
    for file in written:
        relative = file.relative_to(outs["fund"])
        assert (outs["zero"] / relative).read_bytes() == file.read_bytes(), relative
    code, _, err = run_cli(capsys, *argv, "2024", "--data", str(data), "--out", str(tmp_path / "y"))
    assert code != 0 and "values.drg_fund is 0" in err, err


def test_one_tier_at_zero_is_read_and_never_pays_its_cases_silently(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tier whose hospitals have no DRG case may have a budget of 0 (`drgpolicy sample`
    writes it so), so budget.yaml reads one tier at 0. Where that tier's hospitals do have
    cases (tier C of the sample), Wuxi's point value of the tier is 0 ÷ 0: its cases are
    left without a payment and the run fails, exit 1 — never paid 0.00 with exit 0."""
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    budget = (data / "budget.yaml").read_text(encoding="utf-8")
    (data / "budget.yaml").write_text(budget.replace("C: 14584923", "C: 0"), encoding="utf-8")
    argv = ("settle", "--policy", str(POLICIES / "wuxi" / "2024.policy"), "--period", "2024")
    code, _, err = run_cli(capsys, *argv, "--data", str(data), "--out", str(tmp_path / "out"))
    assert "values.tier_budget" not in err and "Traceback" not in err, err
    assert code == 1 and "cases without payment" in err, err


def test_costs_in_fen_are_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """cases.csv's `total_cost` written in 分 (each within the contract's bounds one by one):
    the budget is shared as before, so the cases are paid 1/100 of what the file says they
    cost — warned, as a budget in 万元 is."""
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    cases = pl.read_csv(data / "cases.csv", infer_schema=False)
    fen = (pl.col("total_cost").cast(pl.Decimal(20, 2)) * 100).cast(pl.Int64).cast(pl.String)
    cases.with_columns(fen).write_csv(data / "cases.csv")
    out = tmp_path / "out"
    xuancheng = ("settle", "--policy", str(POLICIES / "xuancheng" / "2024.policy"))
    code, _, err = run_cli(
        capsys, *xuancheng, "--period", "2024", "--data", str(data), "--out", str(out)
    )
    ratio = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["paid_far_from_cost"]
    assert code == 0 and 0.0095 < ratio["settlement"]["ratio"] < 0.0097  # 0.961 / 100
    assert "are the cases' costs in 分" in err
