"""Two extracts of one period put together, a case exported twice, a hospital listed twice with
two levels: every copy is rejected (engine/CONTRACT.md, Duplicate key), with the cases of a
hospital, and under a fixed budget their money goes to the other cases — at any share, so
`settle` fails on it (unless `--accept-rejects`), on every backend; and the count line of every
run names its first reject and where the rest are."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import POLICIES, SAMPLE, run_cli

XUANCHENG = POLICIES / "xuancheng" / "2024.policy"


def _data(tmp_path: Path, *extra_lines: int, bad_cost: bool = False) -> Path:
    """The sample with the case rows at `extra_lines` (lines of the file, 2 = the first case)
    written again at its end; `bad_cost`: the third case's total_cost written `n/a`."""
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    lines = (data / "cases.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    if bad_cost:
        fields = lines[3].split(",")
        fields[3] = "n/a"
        lines[3] = ",".join(fields)
    lines += [lines[n - 1] for n in extra_lines]
    (data / "cases.csv").write_text("".join(lines), encoding="utf-8")
    return data


def _settle(
    capsys: pytest.CaptureFixture[str], data: Path, out: Path, backend: str, *more: str
) -> tuple[int, str]:
    argv = ("settle", "--policy", str(XUANCHENG), "--backend", backend, "--period", "2024")
    code, _, err = run_cli(capsys, *argv, "--data", str(data), "--out", str(out), *more)
    return code, err


@pytest.mark.parametrize("backend", ["polars", "duckdb"])
def test_a_case_twice_fails_the_run_whatever_the_share(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], backend: str
) -> None:
    """Rows 5 and 6 of the sample again at the end: 4 of 20,002 rows (0.02%) rejected, under the
    1% share. On main the run exited 0 and said only `+ 4 rejected`."""
    data, out = _data(tmp_path, 6, 7), tmp_path / "out"
    code, err = _settle(capsys, data, out, backend)
    assert code == 1, err
    assert (
        "error: 2 case_ids appear on more than one row of cases.csv (first: C000005, rows 5, "
        "20001): every copy is rejected, so the case is paid in no period and under a fixed "
        "budget its period's money goes to the other cases, so no share of them passes — two "
        "extracts of one period put together, or a "
        f"case exported twice? Keep one row per case_id. See {out / 'rejects.csv'}" in err
    ), err
    assert "Traceback" not in err and (out / "rejects.csv").exists()  # written, to inspect
    code, err = _settle(capsys, data, out, backend, "--accept-rejects")
    assert code == 0 and "note (--accept-rejects): 2 case_ids appear" in err, err


def test_the_count_line_names_the_first_reject_and_where_the_rest_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, out = _data(tmp_path, 2, bad_cost=True), tmp_path / "out"
    code, err = _settle(capsys, data, out, "polars")
    assert code == 1, err
    assert (
        "20001 case rows read = 19998 settled + 3 rejected + 0 outside 2024; the first: "
        "cases.csv row 1, case_id: case_id C000001 appears 2 times (rows 1, 20001); every case "
        "must be unique — all copies rejected (every one in " + str(out / "rejects.csv") + ")"
    ) in err, err
    # the copy of C000001 was found; the bad cost is a reject of its own, not a copy
    assert "1 case_id appears on more than one row of cases.csv (first: C000001," in err


def test_validate_says_a_case_twice_fails_settle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _data(tmp_path, 2)
    code, out, _ = run_cli(capsys, "validate", "--data", str(data), "--policy", str(XUANCHENG))
    assert code == 1
    assert (
        "1 case_id appears on more than one row of cases.csv (first: C000001, rows 1, 20001)" in out
    )
    assert "settle fails on it, whatever the share" in out


@pytest.mark.parametrize("backend", ["polars", "duckdb"])
def test_a_hospital_listed_twice_fails_the_run_whatever_the_share(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], backend: str
) -> None:
    """H0008 (177 cases, 0.89% of the sample) written again with level 1: both copies and its
    177 cases are rejected. On main the run exited 0 — a hospital paid nothing, its money
    given to the others."""
    data, out = _data(tmp_path), tmp_path / "out"
    hospitals = (data / "hospitals.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    copy = next(line for line in hospitals if line.startswith("H0008,")).split(",")
    copy[2] = "1"
    (data / "hospitals.csv").write_text("".join(hospitals) + ",".join(copy), encoding="utf-8")
    code, err = _settle(capsys, data, out, backend)
    assert code == 1, err
    assert (
        "error: 1 hospital_id appears on more than one row of hospitals.csv (first: H0008, rows "
        "8, 14): every copy is rejected, with the cases that point to it, and under a fixed "
        "budget their money goes to the other cases, so no share of them passes — two lists put "
        "together, or a hospital written twice (another level, tier?) Keep one row per "
        "hospital_id"
    ) in err, err
    assert "177 cases rejected because hospital rejected in hospitals.csv" in err


def test_a_group_listed_twice_that_no_case_has_is_said_not_failed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A group written twice in groups.csv that no case of the data has moves no money: the run
    settles (exit 0, every output as without it) and says so (review rev32, finding 1)."""
    data, out = _data(tmp_path), tmp_path / "out"
    groups = (data / "groups.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    unused = groups[1].split(",")
    unused[0] = "ZZ99"
    groups += [",".join(unused)] * 2
    (data / "groups.csv").write_text("".join(groups), encoding="utf-8")
    code, err = _settle(capsys, data, out, "polars")
    assert code == 0, err
    assert (
        "note: 1 drg_code appears on more than one row of groups.csv (first: ZZ99, rows "
        f"{len(groups) - 2}, {len(groups) - 1}): every copy is rejected; no case of the data "
        "points to it, so no money moved. Keep one row per drg_code"
    ) in err, err
    assert "error" not in err


def test_the_words_name_the_rejects_file_the_run_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --format parquet the rejects are rejects.parquet: the words send the reader there
    (review rev32, finding 2: they named rejects.csv, which the run did not write)."""
    data, out = _data(tmp_path, 2), tmp_path / "out"
    code, err = _settle(capsys, data, out, "polars", "--format", "parquet")
    assert code == 1, err
    assert (out / "rejects.parquet").exists() and not (out / "rejects.csv").exists()
    assert f"(every one in {out / 'rejects.parquet'})" in err, err
    assert f"Keep one row per case_id. See {out / 'rejects.parquet'}" in err, err
    assert "rejects.csv" not in err
