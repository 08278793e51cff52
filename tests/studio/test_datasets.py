"""Uploaded datasets are one whole (`studio.datasets`): all four parts, or the bundled sample's
parts taken only when asked, and then named. 200 uploaded cases settled against the sample's
whole-city budget are paid about a hundred times over: that never happens without a word."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from engine.inputs.contract import ContractError
from engine.run.settle import load_data, load_policy
from studio import datasets
from tests.conftest import POLICIES, SAMPLE

CASES = 200


def first_cases(count: int = CASES) -> bytes:
    """The sample's header and first `count` case rows."""
    lines = (SAMPLE / "cases.csv").read_bytes().split(b"\n")
    return b"\n".join(lines[: count + 1]) + b"\n"


def whole(cases: bytes) -> dict[str, bytes]:
    """A complete upload: the given cases with the sample's other three parts."""
    parts = {"cases.csv": cases}
    for name in ("hospitals.csv", "groups.csv", "budget.yaml"):
        parts[name] = (SAMPLE / name).read_bytes()
    return parts


def test_an_upload_without_all_four_parts_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ContractError) as refused:
        datasets.uploaded(tmp_path, {"cases.csv": first_cases()}, SAMPLE)
    message = str(refused.value)
    assert message.startswith(
        "the upload has no hospitals (.csv or .parquet), groups (.csv or .parquet), budget.yaml: "
        "a dataset is one whole"
    )
    assert "bundled sample" in message and "not scaled" in message
    assert refused.value.file == "hospitals"
    assert not (tmp_path / "uploads").exists()  # nothing written
    without_budget = whole(first_cases())
    del without_budget["budget.yaml"]
    with pytest.raises(ContractError, match=r"^the upload has no budget\.yaml: "):
        datasets.uploaded(tmp_path, without_budget, SAMPLE)


def test_the_samples_parts_are_taken_only_when_asked_and_named(tmp_path: Path) -> None:
    header, first, *_ = first_cases(1).split(b"\n")
    bad = first.replace(b"H0006", b"H9999").replace(b"C000001", b"C999999")
    uploads = {"cases.csv": b"\n".join([header, first, bad])}
    dataset = datasets.uploaded(tmp_path, uploads, SAMPLE, borrow=True)
    # with its hospitals, the sample's deductions and assessments, which name them
    assert dataset.borrowed == (
        "hospitals.csv",
        "groups.csv",
        "deductions.csv",
        "assessments.csv",
        "budget.yaml",
    )
    assert dataset.label == (
        "uploaded cases.csv, with the bundled sample's hospitals.csv, groups.csv, "
        "deductions.csv, assessments.csv and budget.yaml"
    )
    assert sorted(p.name for p in dataset.folder.iterdir()) == [
        "assessments.csv",
        "budget.yaml",
        "cases.csv",
        "deductions.csv",
        "groups.csv",
        "hospitals.csv",
    ]
    for name in dataset.borrowed:  # copied as they are: nothing scaled
        assert (dataset.folder / name).read_bytes() == (SAMPLE / name).read_bytes()
    inputs = load_data(dataset.folder, load_policy(POLICIES / "xuancheng" / "2024.policy"))
    assert (inputs.cases.height, inputs.rejects.height) == (1, 1)
    assert "hospital" in inputs.rejects["reason"][0]
    assert datasets.uploaded(tmp_path, uploads, SAMPLE, borrow=True) == dataset


def test_a_whole_upload_borrows_nothing(tmp_path: Path) -> None:
    dataset = datasets.uploaded(tmp_path, whole(first_cases()), SAMPLE, borrow=True)
    assert dataset.borrowed == ()
    assert dataset.label == "uploaded cases.csv, hospitals.csv, groups.csv and budget.yaml"
    assert datasets.uploaded(tmp_path, whole(first_cases()), SAMPLE) == dataset


def test_a_changed_sample_makes_a_new_borrowing_dataset(tmp_path: Path) -> None:
    sample = tmp_path / "sample"
    shutil.copytree(SAMPLE, sample)
    uploads = {"cases.csv": first_cases()}
    first = datasets.uploaded(tmp_path / "cache", uploads, sample, borrow=True)
    with (sample / "budget.yaml").open("a", encoding="utf-8") as out:
        out.write("# changed\n")
    second = datasets.uploaded(tmp_path / "cache", uploads, sample, borrow=True)
    assert second.folder != first.folder
    assert (second.folder / "budget.yaml").read_bytes() == (sample / "budget.yaml").read_bytes()


@pytest.mark.parametrize(
    ("names", "words"),
    [
        (
            ["notes.txt"],
            "notes.txt: name uploads cases, hospitals, groups, deductions or assessments "
            "(.csv or .parquet) or budget.yaml",
        ),
        (["deductions.csv", "deductions.parquet"], "are both deductions"),
        (["cases.csv", "cases.parquet"], "cases.csv and cases.parquet are both cases"),
        (["budget.yml"], "budget.yml: name uploads"),
        (
            ["cases.xlsx", "groups.csv"],
            "cases.xlsx is an Excel workbook, which is not read: Excel turns ids such as 000123 "
            "into numbers",
        ),
        (["hospitals.XLS"], "In Excel, save the sheet as hospitals.csv with 另存为"),
    ],
)
def test_files_that_are_no_part_or_a_part_twice_are_refused(
    tmp_path: Path, names: list[str], words: str
) -> None:
    with pytest.raises(ContractError, match=re.escape(words)):
        datasets.uploaded(tmp_path, dict.fromkeys(names, b""), SAMPLE, borrow=True)
    assert not (tmp_path / "uploads").exists()


def test_the_parts_by_file_name() -> None:
    assert [datasets.part_of(n) for n in ("cases.csv", "groups.parquet", "budget.yaml")] == [
        "cases",
        "groups",
        "budget.yaml",
    ]
    assert [datasets.part_of(n) for n in ("cases.xlsx", "hospital.csv", "csv", ".csv")] == [
        None,
        None,
        None,
        None,
    ]


DEDUCTIONS = b"hospital_id,kind,amount,date,reason\nH0001,audit_deduction,1,2024-01-02,x\n"


def test_the_samples_supervision_rows_come_only_with_its_hospitals(tmp_path: Path) -> None:
    """Deductions and assessment scores name hospitals: the sample's are taken with the sample's
    hospitals, never put beside hospitals uploaded (whose ids they may not name); an upload's own
    supervision files are its own, and they are optional."""
    own = datasets.uploaded(tmp_path, whole(first_cases()), SAMPLE, borrow=True)
    assert own.borrowed == ()
    assert not (own.folder / "deductions.csv").exists()
    assert not (own.folder / "assessments.csv").exists()

    hospitals_only = {"hospitals.csv": (SAMPLE / "hospitals.csv").read_bytes()}
    with_hospitals = datasets.uploaded(tmp_path, hospitals_only, SAMPLE, borrow=True)
    assert with_hospitals.borrowed == ("cases.csv", "groups.csv", "budget.yaml")
    assert not (with_hospitals.folder / "deductions.csv").exists()

    mine = datasets.uploaded(tmp_path, {"deductions.csv": DEDUCTIONS}, SAMPLE, borrow=True)
    assert mine.borrowed == (
        "cases.csv",
        "hospitals.csv",
        "groups.csv",
        "assessments.csv",
        "budget.yaml",
    )
    assert (mine.folder / "deductions.csv").read_bytes() == DEDUCTIONS
    assert (mine.folder / "assessments.csv").read_bytes() == (
        SAMPLE / "assessments.csv"
    ).read_bytes()

    whole_with_own = whole(first_cases()) | {"deductions.csv": DEDUCTIONS}
    dataset = datasets.uploaded(tmp_path, whole_with_own, SAMPLE)  # complete without borrowing
    assert dataset.borrowed == ()
    assert dataset.label == (
        "uploaded cases.csv, hospitals.csv, groups.csv, deductions.csv and budget.yaml"
    )
