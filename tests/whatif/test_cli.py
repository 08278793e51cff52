"""`drgpolicy whatif` and `drgpolicy explain --vs` from the command line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from engine import cli
from engine.page import show
from tests.conftest import SAMPLE
from tests.conftest import run_cli as run
from tests.whatif.conftest import NEW, OLD

#: A level-1 case with cost ratio 0.38: low under 2023, normal under 2024.
CASE = "C000440"


def test_whatif_writes_the_three_files(report_dir: Path) -> None:
    assert {p.name for p in report_dir.iterdir()} == {"report.html", "summary.md", "whatif.json"}
    data = json.loads((report_dir / "whatif.json").read_text(encoding="utf-8"))
    assert (
        data["impact"]["base"]["version"] == "2023" and data["impact"]["new"]["version"] == "2024"
    )
    assert [r["low_ratio_grassroots"] for r in data["sweep"]["rows"]] == [0.25, 0.3, 0.35]
    assert data["exposure"]["thresholds"]
    summary = (report_dir / "summary.md").read_text(encoding="utf-8")
    for title in ("## Attribution per clause", "## Threshold exposure", "## Parameter sweep"):
        assert title in summary


def test_whatif_json_and_a_grid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "whatif",
        "--base",
        str(OLD),
        "--new",
        str(NEW),
        "--data",
        str(SAMPLE),
        "--out",
        str(tmp_path / "r"),
        "--no-exposure",
        "--json",
        "--set",
        "low_ratio_grassroots=25%,35%",
        "--set",
        "level_share=0.7,0.9",
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["period"] == "2024" and data["exposure"] is None
    assert len(data["sweep"]["rows"]) == 4
    assert (
        data["attribution"]["interaction"] + sum(p["delta"] for p in data["attribution"]["parts"])
        == data["attribution"]["delta"]
    )


def test_the_summary_shows_the_interaction_per_level(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Under budget closure the interaction sums to zero; per level it need not."""
    out_dir = tmp_path / "r"
    code, out, err = run(
        capsys, "whatif", "--base", str(OLD), "--new", str(NEW), "--data", str(SAMPLE),
        "--out", str(out_dir), "--no-exposure",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads((out_dir / "whatif.json").read_text(encoding="utf-8"))
    levels = data["attribution"]["interaction_levels"]
    line = next(x for x in out.splitlines() if x.strip().startswith("interaction:"))
    assert line.count("L") == len(levels) >= 2
    for level, fen in levels.items():
        assert f"L{level} {show.yuan(fen, True)}" in line


def test_whatif_refuses_a_bad_sweep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = ["whatif", "--base", str(OLD), "--new", str(NEW), "--data", str(SAMPLE)]
    code, _, err = run(capsys, *common, "--out", str(tmp_path / "r"), "--set", "low_ratio=")
    assert code == 1 and "PARAM=V1,V2" in err
    code, _, err = run(capsys, *common, "--out", str(tmp_path / "r"), "--set", "nope=1")
    assert code == 1 and "`nope` is not a parameter" in err
    assert not (tmp_path / "r").exists()


def test_explain_vs_shows_where_the_versions_part(capsys: pytest.CaptureFixture[str]) -> None:
    common = ["explain", "--case", CASE, "--policy", str(OLD), "--vs", str(NEW)]
    common += ["--data", str(SAMPLE), "--period", "2024"]
    code, out, _ = run(capsys, *common)
    assert code == 0
    assert "▶ first difference: category (病例类型)" in out
    marked = next(line for line in out.splitlines() if line.startswith("▶  category"))
    assert "low" in marked and "normal" in marked
    code, out, _ = run(capsys, *common, "--json")
    data = json.loads(out)
    assert data["first_difference"] == "category"
    category = next(s for s in data["steps"] if s["name"] == "category")
    assert (category["old"], category["new"], category["status"]) == ("low", "normal", "differs")
    assert data["traces"]["old"]["version"] == "2023"


def test_explain_vs_marks_the_first_difference_the_payment_sees(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """C000004 (H0011, level 1, a normal case of 52 points): 2024 adds the group points before
    the incentive (`group_case_points`, 52) and the incentive rule, which gives the case
    `incentive_candidate` false (it is not approved), before anything else differs, yet that
    changes nothing; its payment moves because H0011's coefficient is 80/20 of level and cost in
    2024 (0.823943) against 70/30 in 2023 (0.810838)."""
    common = ["explain", "--case", "C000004", "--policy", str(OLD), "--vs", str(NEW)]
    common += ["--data", str(SAMPLE), "--period", "2024"]
    code, out, _ = run(capsys, *common)
    assert code == 0
    assert "▶ first difference: hospital_coefficient (医疗机构系数), on the payment's path" in out
    assert "payment ← settled_points ← coefficient ← hospital_coefficient" in out
    marked = [line.split()[1] for line in out.splitlines() if line.startswith("▶  ")]
    assert marked == ["hospital_coefficient"]
    candidate = next(line for line in out.splitlines() if " incentive_candidate " in line)
    assert candidate.startswith("+") and candidate.rstrip().endswith("false")
    code, out, _ = run(capsys, *common, "--json")
    data = json.loads(out)
    assert data["first_difference"] == "hospital_coefficient"
    assert data["first_difference_anywhere"] == "group_case_points"
    assert data["payment_path"] == [
        "payment",
        "settled_points",
        "coefficient",
        "hospital_coefficient",
    ]


def test_explain_vs_the_same_version_agrees(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "explain",
        "--case",
        CASE,
        "--policy",
        str(NEW),
        "--vs",
        str(NEW),
        "--data",
        str(SAMPLE),
        "--period",
        "2024",
    )
    assert code == 0 and "agree on every step" in out


def test_two_files_of_one_version_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An edited copy of 2024 against 2024 printed `xuancheng 2024 → 2024`: which is which?"""
    edited = tmp_path / "edited"
    edited.mkdir()
    for version in (OLD, NEW):
        (edited / version.name).write_bytes(version.read_bytes())
    out_dir = tmp_path / "r"
    code, out, err = run(
        capsys, "whatif", "--base", str(NEW), "--new", str(edited / NEW.name), "--data",
        str(SAMPLE), "--out", str(out_dir), "--no-exposure",
    )  # fmt: skip
    assert code == 0, err
    sides = f"xuancheng 2024 ({NEW}) → 2024 ({edited / NEW.name}): "
    assert out.splitlines()[0].startswith(sides), out
    title = f"What-if: xuancheng 2024 ({NEW}) → xuancheng 2024 ({edited / NEW.name})"
    assert title in (out_dir / "summary.md").read_text(encoding="utf-8")
    code, out, _ = run(
        capsys, "whatif", "--base", str(OLD), "--new", str(NEW), "--data", str(SAMPLE),
        "--out", str(tmp_path / "v"), "--no-exposure",
    )  # fmt: skip
    assert out.startswith("xuancheng 2023 → 2024: ")


@pytest.mark.parametrize(
    ("sets", "words"),
    [
        (["low_ratio_grassroots=abc"], "--set low_ratio_grassroots: `abc` is not a number"),
        (["low_ratio_grassroots=0.25,abc"], "--set low_ratio_grassroots: `abc` is not a number"),
        (["large_number_cases=100,2.5"], "--set large_number_cases: `2.5` is not a whole number"),
        (
            ["low_ratio_grassroots=0.3", "low_ratio_grassroots=0.4"],
            "--set low_ratio_grassroots is given twice (0.3 and 0.4)",
        ),
    ],
)
def test_sweep_values_are_checked_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sets: list[str], words: str
) -> None:
    """Checked as `settle --set` checks a value, every value of the list, before the data is
    read (here it does not even exist): a clear error naming the parameter, no traceback."""
    missing = tmp_path / "no-such-data"
    args = ["whatif", "--base", str(OLD), "--new", str(NEW), "--data", str(missing)]
    args += ["--out", str(tmp_path / "r")]
    code, _, err = run(capsys, *args, *(a for s in sets for a in ("--set", s)))
    assert code == 1 and words in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()


def test_a_bad_value_reads_as_settle_says_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--data", str(SAMPLE), "--set", "low_ratio_grassroots=abc"]
    code, _, settled = run(
        capsys, "settle", "--policy", str(NEW), "--period", "2024",
        "--out", str(tmp_path / "s"), *common,
    )  # fmt: skip
    assert code == 1
    code, _, swept = run(
        capsys, "whatif", "--base", str(OLD), "--new", str(NEW), "--out", str(tmp_path / "w"),
        *common,
    )  # fmt: skip
    assert code == 1
    line = next(x for x in settled.splitlines() if "low_ratio_grassroots" in x)
    assert line in swept.splitlines()


def test_a_fixed_definition_given_twice_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "whatif", "--base", str(OLD), "--new", str(NEW), "--data", str(SAMPLE),
        "--out", str(tmp_path / "r"), "--fix", "point_value=10", "--fix", "point_value=11",
    )  # fmt: skip
    assert code == 1 and "--fix point_value is given twice" in err


@pytest.mark.parametrize(
    ("command", "given", "expected"),
    [
        ("whatif", None, "dirty_decay_ms:-1,muzzy_decay_ms:-1"),
        ("whatif", "narenas:1", "narenas:1"),
        ("settle", None, None),
    ],
)
def test_whatif_keeps_freed_pages_for_polars(
    monkeypatch: pytest.MonkeyPatch, command: str, given: str | None, expected: str | None
) -> None:
    """`whatif` (and it alone) asks polars' allocator to keep freed pages, unless the
    environment says otherwise already."""
    if given is None:
        monkeypatch.delenv(cli.ALLOCATOR_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(cli.ALLOCATOR_VARIABLE, given)
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    assert os.environ.get(cli.ALLOCATOR_VARIABLE) == expected
