"""The What-if page's upload is one dataset (AppTest): 200 uploaded cases alone are refused — on
main they took the sample's hospitals, groups and whole-city budget without a word and were
paid at a point value a hundred times the city's — and are run on the sample's other parts only
when the analyst ticks it, the page then saying what was taken, as the run's heading does."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine.inputs.rundata import Period
from engine.run.outputs import stage_tables
from engine.run.settle import load_data, load_policy, settle
from studio import widgets
from tests.conftest import SAMPLE
from tests.studio.apptest import XC, labels_of, open_app, texts
from tests.studio.test_datasets import CASES, first_cases
from tests.studio.test_whatif_display import explain_first_moved

#: With its hospitals, the sample's deductions and assessments, which name them.
BORROWED = ("hospitals.csv", "groups.csv", "deductions.csv", "assessments.csv", "budget.yaml")
TAKEN = (
    f"Taken from the bundled sample, as they are: {', '.join(BORROWED)}: its "
    "budget is the sample's whole city's, not scaled to the uploaded cases."
)


def whatif_with_upload(files: dict[str, bytes]) -> AppTest:
    at = open_app("whatif")
    at.selectbox(key="whatif_city").set_value(XC).run()
    at.selectbox(key="whatif_base").set_value("2023").run()
    at.selectbox(key="whatif_new").set_value("2024").run()
    at.radio(key="whatif_data_kind").set_value(widgets.UPLOADED).run()
    at.get("file_uploader")[0].set_value(
        [(name, data, "application/octet-stream") for name, data in files.items()]
    ).run()
    assert not at.exception
    return at


def point_value(folder: Path) -> float:
    """The 2024 point value of a data folder, settled by the engine on its own."""
    policy = load_policy(Path("policies") / XC / "2024.policy")
    settled = settle(policy, load_data(folder, policy), Period.parse("2024"))
    return float(stage_tables(settled, "settlement")["summary"]["point_value"][0])


def run(at: AppTest) -> None:
    next(b for b in at.button if b.label == "Run what-if").click().run()
    assert not at.exception


def test_cases_alone_are_refused(policies: Path) -> None:
    at = whatif_with_upload({"cases.csv": first_cases()})
    refused = [e for e in texts(at.error) if "a dataset is one whole" in e]
    assert len(refused) == 1
    assert refused[0].startswith(
        "the upload has no hospitals (.csv or .parquet), groups (.csv or .parquet), budget.yaml"
    )
    assert not [b for b in at.button if b.label == "Run what-if"]  # nothing to run
    assert not at.metric


def test_the_samples_parts_when_asked_and_then_said(policies: Path, tmp_path: Path) -> None:
    at = whatif_with_upload({"cases.csv": first_cases()})
    at.checkbox(key="whatif_borrow").check().run()
    assert TAKEN in texts(at.warning)  # under the uploader, before the run
    run(at)
    heading = texts(at.caption)[0]
    assert heading.startswith(
        "2023 → 2024 on uploaded cases.csv, with the bundled sample's hospitals.csv, groups.csv, "
        f"deductions.csv, assessments.csv and budget.yaml ({CASES:,} cases, 2024)"
    )
    assert texts(at.warning).count(TAKEN) == 2  # and with the run's results

    by_hand = tmp_path / "by-hand"  # the same dataset, put together without the studio
    by_hand.mkdir()
    (by_hand / "cases.csv").write_bytes(first_cases())
    for name in BORROWED:
        shutil.copyfile(SAMPLE / name, by_hand / name)
    expected = point_value(by_hand)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["病例数 cases"] == f"{CASES:,}"
    assert metrics["点值 point value"] == f"{expected:,.6f}".rstrip("0").rstrip(".")
    assert expected > 50 * point_value(SAMPLE)  # why it is never done without a word


def test_a_whole_upload_says_nothing_was_taken(policies: Path) -> None:
    files = {"cases.csv": first_cases()}
    files |= {n: (SAMPLE / n).read_bytes() for n in ("hospitals.csv", "groups.csv", "budget.yaml")}
    at = whatif_with_upload(files)
    run(at)
    assert texts(at.caption)[0].startswith(
        "2023 → 2024 on uploaded cases.csv, hospitals.csv, groups.csv and budget.yaml "
        f"({CASES:,} cases, 2024)"
    )
    assert not [w for w in texts(at.warning) if "bundled sample" in w]


@pytest.mark.parametrize("page", ["whatif", "explain"])
def test_both_pages_offer_the_choice(policies: Path, page: str) -> None:
    at = open_app(page)
    at.radio(key=f"{page}_data_kind").set_value(widgets.UPLOADED).run()
    assert at.checkbox(key=f"{page}_borrow").label == widgets.BORROW
    assert not at.checkbox(key=f"{page}_borrow").value  # never by default


def test_a_case_of_an_upload_opens_on_explain_with_that_upload(
    policies: Path, tmp_path: Path
) -> None:
    """The Explain page's uploader starts empty: the What-if run's upload is handed over, so the
    case picked is explained on the data it came from (200 cases priced with the sample's parts,
    at a point value no settlement of the sample gives)."""
    files = {"cases.csv": first_cases()}
    files |= {n: (SAMPLE / n).read_bytes() for n in ("hospitals.csv", "groups.csv", "budget.yaml")}
    at = whatif_with_upload(files)
    run(at)
    explain_first_moved(at)
    assert any("The dataset of the What-if run: uploaded" in c for c in texts(at.caption))
    for name, data in files.items():  # the same files, put together without the studio
        (tmp_path / name).write_bytes(data)
    expected = point_value(tmp_path)
    points = next(label for label in labels_of(at.expander) if "point_value = " in label)
    assert f"point_value = {expected:,.6g}" in points
