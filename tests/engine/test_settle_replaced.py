"""A fund office settles a month again after a correction, into the same `--out`: the run says
what moved against the run it replaced (on stderr and in its manifest's `replaced`), exact to
the fen; a run it cannot compare (a workbook) is said to be so; a new folder records nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine.inputs.contract import file_sha256
from tests.conftest import POLICIES, SAMPLE, run_cli

WUXI = POLICIES / "wuxi" / "2024.policy"


def settle_march(
    capsys: pytest.CaptureFixture[str], data: Path, out: Path, *more: str
) -> tuple[str, dict]:
    args = ["--policy", str(WUXI), "--data", str(data), "--period", "2024-03", "--out", str(out)]
    code, _, err = run_cli(capsys, "settle", *args, *more)
    assert code == 0, err
    return err, json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def test_a_corrected_deduction_is_named_with_the_money_it_moved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "wx-03"
    settle_march(capsys, SAMPLE, out)
    old_manifest = file_sha256(out / "manifest.json")
    data = tmp_path / "corrected"
    shutil.copytree(SAMPLE, data)
    deductions = data / "deductions.csv"
    text = deductions.read_text(encoding="utf-8")
    # H0011's March audit deduction of 680.34 was keyed wrong: it is 689.34, 9.00 more
    assert "H0011,audit_deduction,680.34,2024-03-22" in text
    deductions.write_text(text.replace("680.34,2024-03-22", "689.34,2024-03-22"), encoding="utf-8")

    err, manifest = settle_march(capsys, data, out)
    assert (
        f"note: replaced the run of 2024-03 in {out}: deductions.csv changed; 1 hospital's money "
        "moved: H0011 monthly.audit_deduction +9.00 (manifest.json: replaced)"
    ) in err
    assert manifest["replaced"] == {
        "manifest_sha256": old_manifest,
        "period": "2024-03",
        "inputs_changed": ["deductions.csv"],
        "policy_changed": False,
        "moved": {"H0011": {"monthly.audit_deduction": "+9.00"}},
    }


def test_a_run_settled_again_unchanged_says_nothing_moved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "wx-03"
    _, first = settle_march(capsys, SAMPLE, out)
    assert "replaced" not in first  # a run into a new folder records nothing
    err, manifest = settle_march(capsys, SAMPLE, out)
    assert (
        f"note: replaced the run of 2024-03 in {out}: the same input files and policy; nothing "
        "moved\n"
    ) in err
    # same inputs and policy, same bytes: the manifest records nothing of an unchanged re-run
    assert manifest == first


def test_a_workbook_run_replaced_cannot_be_compared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "wx-03"
    settle_march(capsys, SAMPLE, out, "--format", "xlsx")
    err, manifest = settle_march(capsys, SAMPLE, out)
    assert (
        f"note: replaced the run of 2024-03 in {out}; not compared: it was written for people "
        "(--labels zh or --format xlsx)"
    ) in err
    assert set(manifest["replaced"]) == {"manifest_sha256", "period", "not_compared"}


def test_a_case_taken_out_moves_every_hospital_and_names_ten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Xuancheng shares a fixed budget: a case of H0003 taken out moves every hospital's
    payment; the note names ten hospitals, the manifest every one."""
    policy = POLICIES / "xuancheng" / "2024.policy"
    out = tmp_path / "xc-03"
    args = ["--policy", str(policy), "--period", "2024-03", "--out", str(out)]
    code, _, err = run_cli(capsys, "settle", *args, "--data", str(SAMPLE))
    assert code == 0, err
    data = tmp_path / "corrected"
    shutil.copytree(SAMPLE, data)
    lines = (data / "cases.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    gone = next(n for n, line in enumerate(lines) if ",H0003," in line and ",2024-03-" in line)
    cost = lines[gone].split(",")[3]
    (data / "cases.csv").write_text("".join(lines[:gone] + lines[gone + 1 :]), encoding="utf-8")

    code, _, err = run_cli(capsys, "settle", *args, "--data", str(data))
    assert code == 0, err
    moved = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["replaced"]["moved"]
    assert len(moved) == 13
    assert moved["H0003"]["settlement.total_cost"] == f"-{cost}"
    assert "cases.csv changed; 13 hospitals' money moved: H0001 settlement.payment +" in err
    assert "; and 3 more (manifest.json: replaced)" in err


def test_a_replaced_run_missing_its_statement_is_not_compared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A statement the old manifest lists but the folder lacks (deleted by hand) had the
    comparison read a file that is not there: a traceback instead of the run."""
    out = tmp_path / "wx-03"
    settle_march(capsys, SAMPLE, out)
    (out / "monthly" / "hospitals.csv").unlink()
    err, manifest = settle_march(capsys, SAMPLE, out)
    assert "not compared: its monthly/hospitals.csv is not the file it wrote" in err
    assert manifest["replaced"]["not_compared"] == (
        "its monthly/hospitals.csv is not the file it wrote"
    )
