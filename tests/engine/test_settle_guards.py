"""What `settle` and `write_outputs` refuse, and what they record: the output folder, dates and
budget year, an empty period, columns whose default would be a guess, values set from outside,
missing payments; the fund's share; money out of range; unrated hospitals."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
import yaml

from engine.inputs.contract import ContractError
from engine.inputs.rundata import Period
from engine.plan import money
from engine.plan.overrides import SettingError, checked_settings
from engine.plan.polars.batch import Settings
from engine.run.examples import ExampleError, run_example
from engine.run.out_folder import WHATIF, OutFolderError
from engine.run.outputs import write_folder_atomically, write_outputs
from engine.run.settle import DateError, EmptyPeriod, Settlement, load_data, load_policy, settle
from engine.run.summary import price_text
from tests.conftest import POLICIES, SAMPLE
from tests.engine.incomplete import incomplete_policy

XUANCHENG = load_policy(POLICIES / "xuancheng" / "2024.policy")
WUXI = load_policy(POLICIES / "wuxi" / "2024.policy")
MARCH = Period.parse("2024-03")


@pytest.fixture(scope="module")
def march() -> Settlement:
    return settle(XUANCHENG, load_data(SAMPLE, XUANCHENG), MARCH)


def os_listdir(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _copy_sample(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    return data


# ---- 1. the output folder ----------------------------------------------------------------------


def test_outputs_never_replace_a_folder_that_holds_the_data(tmp_path: Path) -> None:
    data = _copy_sample(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    result = settle(XUANCHENG, load_data(data, XUANCHENG), MARCH)
    for out in (tmp_path, data):
        with pytest.raises(OutFolderError, match="an input of this run"):
            write_outputs(result, out)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert (data / "cases.csv").read_bytes() == (SAMPLE / "cases.csv").read_bytes()


def test_outputs_never_replace_a_folder_that_holds_the_policy(tmp_path: Path) -> None:
    city = tmp_path / "policies" / "xuancheng"
    shutil.copytree(POLICIES / "xuancheng", city)
    policy = load_policy(city / "2024.policy")
    result = settle(policy, load_data(SAMPLE, policy), MARCH)
    with pytest.raises(OutFolderError, match=r"contains .*policies/xuancheng/202\d\.policy"):
        write_outputs(result, city)
    assert (city / "2023.policy").is_file()


def test_outputs_refuse_a_non_empty_folder_of_other_files(
    tmp_path: Path, march: Settlement
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "thesis.docx").write_text("years of work")
    with pytest.raises(OutFolderError, match=r"no manifest\.json"):
        write_outputs(march, out)
    assert os_listdir(out) == ["thesis.docx"]


def test_outputs_replace_an_empty_folder_and_an_earlier_output(
    tmp_path: Path, march: Settlement
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    first = write_outputs(march, out)
    (out / "settlement" / "cases.csv").write_text("edited")  # a file the run wrote: replaced
    assert write_outputs(march, out) == first
    assert (out / "settlement" / "cases.csv").read_text() != "edited"


def test_a_whatif_report_folder_is_replaced_only_if_it_is_one(tmp_path: Path) -> None:
    files = {"report.html": b"<html>", "whatif.json": b'{"drgpolicy": "whatif"}'}
    report = tmp_path / "report"
    write_folder_atomically(report, files, kind=WHATIF)
    write_folder_atomically(report, files, kind=WHATIF)  # an earlier report: replaced
    other = tmp_path / "other"
    other.mkdir()
    (other / "data.csv").write_text("x")
    with pytest.raises(OutFolderError, match=r"no whatif\.json"):
        write_folder_atomically(other, files, kind=WHATIF)
    assert os_listdir(other) == ["data.csv"]


# ---- 3. dates and budget year ------------------------------------------------------------------


def test_a_period_outside_the_policy_dates_is_refused_unless_any_date(tmp_path: Path) -> None:
    old = load_policy(POLICIES / "xuancheng" / "2023.policy")
    inputs = load_data(SAMPLE, old)
    with pytest.raises(DateError, match=r"2023-01-01 to 2023-12-31.*--any-date"):
        settle(old, inputs, MARCH, any_date=False)
    assert settle(old, inputs, MARCH).stages  # the API's default: what-ifs compare versions
    assert settle(old, inputs, MARCH, any_date=True).stages


def test_a_budget_of_another_year_is_refused(tmp_path: Path) -> None:
    data = _copy_sample(tmp_path)
    budget = yaml.safe_load((data / "budget.yaml").read_text(encoding="utf-8"))
    (data / "budget.yaml").write_text(yaml.safe_dump({**budget, "year": 2023}))
    with pytest.raises(DateError, match=r"budget of 2023, but period 2024-03.*year: 2024"):
        settle(XUANCHENG, load_data(data, XUANCHENG), MARCH, any_date=False)


def test_the_manifest_says_whether_dates_were_checked(tmp_path: Path) -> None:
    result = settle(XUANCHENG, load_data(SAMPLE, XUANCHENG), MARCH, any_date=False)
    assert write_outputs(result, tmp_path / "out")["dates_checked"] is True


# ---- 4. an empty period ------------------------------------------------------------------------


def test_an_empty_period_is_refused_saying_what_the_data_covers() -> None:
    with pytest.raises(EmptyPeriod, match="no case discharged in 2030; the data covers 2024-01"):
        settle(XUANCHENG, load_data(SAMPLE, XUANCHENG), Period.parse("2030"))


def test_the_summary_shows_a_missing_price_instead_of_crashing() -> None:
    assert (
        price_text(
            pl.DataFrame({"point_value": [None]}, schema={"point_value": pl.Float64}), "points"
        )
        == "—"
    )
    assert price_text(pl.DataFrame({"point_value": [12.5]}), "points") == "12.5000"
    assert price_text(pl.DataFrame({"cases": [1]}), "rate") == "per tier"


# ---- 5. values set from outside ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fix", "params", "words"),
    [
        ({}, {"low_ratio_grasroots": "0.2"}, "did you mean `low_ratio_grassroots`"),
        ({}, {"low_ratio_grassroots": "abc"}, "`abc` is not a number"),
        ({"coeficient": "1"}, {}, "did you mean `coefficient`"),
        ({"low_ratio_grassroots": "1"}, {}, "it is a parameter: use --set"),
        ({"stable_group": "maybe"}, {}, "`maybe` is not true or false"),
        ({"category": "middling"}, {}, "one of special, ungrouped"),
    ],
)
def test_set_and_fix_are_checked_against_the_policy(
    fix: dict[str, str], params: dict[str, str], words: str
) -> None:
    with pytest.raises(SettingError, match=words):
        checked_settings(XUANCHENG, fix, params)


def test_set_and_fix_values_are_typed_by_the_policy() -> None:
    settings = checked_settings(
        XUANCHENG,
        {"point_value": "10", "stable_group": "TRUE", "category": "normal"},
        {"low_ratio_grassroots": "35%", "low_ratio_standard": "400‰"},
    )
    assert settings.definitions == {"point_value": 10.0, "stable_group": True, "category": "normal"}
    assert settings.params == {
        "low_ratio_grassroots": pytest.approx(0.35),
        "low_ratio_standard": pytest.approx(0.4),
    }


def _example(tmp_path: Path, fix: str) -> Path:
    city = tmp_path / "xuancheng"
    shutil.copytree(POLICIES / "xuancheng", city, ignore=shutil.ignore_patterns("examples"))
    path = city / "examples" / "typo.yaml"
    path.parent.mkdir()
    source = (POLICIES / "xuancheng" / "examples" / "bilateral.yaml").read_text(encoding="utf-8")
    document = yaml.safe_load(source)
    document["fix"] = yaml.safe_load(fix)
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def test_an_example_with_a_typo_in_fix_fails_with_its_file_and_key(tmp_path: Path) -> None:
    path = _example(tmp_path, "{coeficient: 1, point_value: 10}")
    with pytest.raises(ExampleError, match=r"typo\.yaml: fix\.coeficient: .*`coefficient`"):
        run_example(path)


def test_an_example_with_a_bad_value_in_fix_fails_with_its_file_and_key(tmp_path: Path) -> None:
    path = _example(tmp_path, "{coefficient: 1, point_value: ten}")
    with pytest.raises(ExampleError, match=r"typo\.yaml: fix\.point_value: `ten` is not a number"):
        run_example(path)


# ---- 6. columns whose default would be a guess -------------------------------------------------


def _without(tmp_path: Path, table: str, column: str) -> Path:
    data = _copy_sample(tmp_path)
    frame = pl.read_csv(data / f"{table}.csv", infer_schema=False).drop(column)
    frame.write_csv(data / f"{table}.csv")
    return data


def test_a_missing_assessment_score_stops_wuxi_instead_of_forfeiting_deposits(
    tmp_path: Path,
) -> None:
    data = _copy_sample(tmp_path)
    scores = pl.read_csv(data / "assessments.csv", infer_schema=False)
    scores.filter(pl.col("assessment") != "insurance_assessment").write_csv(
        data / "assessments.csv"
    )
    with pytest.raises(ContractError) as caught:
        settle(WUXI, load_data(data, WUXI), Period.parse("2024"))
    assert (caught.value.file, caught.value.field) == ("assessments.csv", "score")
    message = str(caught.value)
    assert "assessments.csv has no insurance_assessment score for 2024 for 13 hospital(s)" in (
        message
    )
    assert "`deposit_returned`" in message and "a missing score would be a guess" in message


def test_a_column_no_output_depends_on_may_be_absent(tmp_path: Path) -> None:
    data = _without(tmp_path, "hospitals", "list_accuracy")  # read by Wuxi's year end only
    inputs = load_data(data, WUXI)
    with pytest.raises(ContractError, match="no column list_accuracy, which wuxi 2024 reads"):
        settle(WUXI, inputs, Period.parse("2024"))
    assert settle(WUXI, inputs, Period.parse("2024-03")).stages  # the year-end does not run
    assert settle(XUANCHENG, load_data(data, XUANCHENG), MARCH).stages  # never read
    fixed = Settings(definitions={"tier_accuracy": 1.0, "accuracy_ratio": 1.0})
    assert settle(WUXI, inputs, Period.parse("2024"), fixed).stages  # fixed from outside


def test_a_missing_tier_stops_wuxi(tmp_path: Path) -> None:
    data = _without(tmp_path, "hospitals", "tier")
    with pytest.raises(ContractError, match="no column tier"):
        settle(WUXI, load_data(data, WUXI), MARCH)


def test_an_unrated_hospital_level_0_is_accepted(tmp_path: Path) -> None:
    data = _copy_sample(tmp_path)
    hospitals = pl.read_csv(data / "hospitals.csv", infer_schema=False)
    last = hospitals["hospital_id"][-1]
    hospitals.with_columns(
        level=pl.when(pl.col("hospital_id") == last).then(pl.lit("0")).otherwise("level")
    ).write_csv(data / "hospitals.csv")
    inputs = load_data(data, XUANCHENG)
    assert inputs.rejects.height == 0
    assert inputs.hospitals.filter(pl.col("hospital_id") == last)["level"].to_list() == [0]


def test_money_beyond_the_fen_range_is_out_of_range_not_decimals(tmp_path: Path) -> None:
    data = _copy_sample(tmp_path)
    cases = pl.read_csv(data / "cases.csv", infer_schema=False)
    cases.with_columns(
        total_cost=pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("1e308"))
        .otherwise("total_cost")
    ).write_csv(data / "cases.csv")
    reason = load_data(data, XUANCHENG).rejects["reason"].to_list()
    assert reason == [
        "total_cost 1e308 is above its plausible bound 100,000,000 (100 million 元: the costliest "
        "real stays (transplants, CAR-T, months of ECMO) cost a few million 元); check the value "
        "(engine/CONTRACT.md, Bounds)"
    ]


# ---- 7. a missing payment is recorded -----------------------------------------------------------


def test_cases_without_a_payment_are_recorded_in_the_manifest(tmp_path: Path) -> None:
    policy = load_policy(incomplete_policy(tmp_path))
    result = settle(policy, load_data(SAMPLE, policy), MARCH)
    manifest = write_outputs(result, tmp_path / "out")
    cases = result.data.cases
    unpaid = cases.filter((pl.col("level") == 2) | pl.col("ungrouped"))["case_id"].sort()
    counts = {"payment": len(unpaid), "settled_points": len(unpaid)}
    assert manifest["missing_outputs"] == {"settlement": counts}
    assert manifest["missing_output_cases"] == {"settlement": unpaid.head(5).to_list()}
    assert result.missing_outputs() == {"settlement": counts}


# ---- 9. the fund's share -----------------------------------------------------------------------


def test_the_fund_pays_the_payment_less_what_the_patient_paid(tmp_path: Path) -> None:
    result = settle(XUANCHENG, load_data(SAMPLE, XUANCHENG), MARCH)
    write_outputs(result, tmp_path / "out")
    read = {
        name: pl.read_csv(tmp_path / "out" / "settlement" / f"{name}.csv", infer_schema=False)
        for name in ("cases", "hospitals", "summary")
    }
    cases = read["cases"]
    assert cases.columns.index("fund_payment") == cases.columns.index("payment") + 2
    fen = {c: money.to_fen(pl.col(c).cast(pl.Float64)) for c in ("payment", "patient_paid")}
    fund = cases.select((fen["payment"] - fen["patient_paid"]).alias("fund"))["fund"]
    assert fund.equals(
        cases.select(money.to_fen(pl.col("fund_payment").cast(pl.Float64)))["fund_payment"],
        check_names=False,
    )
    assert (cases["patient_paid"].cast(pl.Float64) > 0).any()
    for name in ("hospitals", "summary"):
        total = read[name]["fund_payment"].cast(pl.Float64).sum()
        assert round(total * 100) == int(fund.sum()), name
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["missing_outputs"] == {}
