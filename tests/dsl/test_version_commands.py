"""The `versions`, `diff` and `schema` commands: output, JSON and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from engine.cli import main
from policy_dsl.lower import compile_file
from tests.conftest import run_cli as run

REPO = Path(__file__).resolve().parents[2]
POLICIES = REPO / "policies"
XUANCHENG = POLICIES / "xuancheng"
OLD, NEW = str(XUANCHENG / "2023.policy"), str(XUANCHENG / "2024.policy")


def copy_city(folder: Path, effective_2024: str | None = None) -> Path:
    """Xuancheng's two files in `folder`, the 2024 header's dates optionally rewritten."""
    folder.mkdir(parents=True)
    (folder / "2023.policy").write_text(Path(OLD).read_text(encoding="utf-8"), encoding="utf-8")
    text = Path(NEW).read_text(encoding="utf-8")
    if effective_2024:
        text = text.replace("effective 2024-01-01 to 2024-12-31", f"effective {effective_2024}")
    (folder / "2024.policy").write_text(text, encoding="utf-8")
    return folder


# ---- versions -----------------------------------------------------------------------------------


def test_versions_lists_dates_base_and_short_hash(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "versions", str(XUANCHENG))
    assert (code, err) == (0, "")
    short = compile_file(NEW).hash[:12]
    assert out.splitlines()[0].startswith("xuancheng")
    row_2024 = next(line for line in out.splitlines() if line.strip().startswith("2024 "))
    assert row_2024.split() == ["2024", "2024-01-01", "to", "2024-12-31", "2023", short]


def test_versions_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "versions", str(XUANCHENG), "--json")
    [city] = json.loads(out)["cities"]
    assert code == 0 and city["city"] == "xuancheng" and city["diagnostics"] == []
    assert [(v["version"], v["extends"]) for v in city["versions"]] == [
        ("2023", None),
        ("2024", "2023"),
    ]
    assert city["versions"][1]["hash"] == compile_file(NEW).hash


def test_versions_on_a_day(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "versions", "--on", "2024-06-30", str(POLICIES))
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "in force on 2024-06-30:"
    assert '"2024"' in out and compile_file(NEW).hash[:12] in out


def test_versions_on_a_day_with_none_in_force(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "versions", "--on", "2022-06-30", str(POLICIES), "--json")
    data = json.loads(out)
    assert code == 0 and data["date"] == "2022-06-30"
    city = next(c for c in data["cities"] if c["city"] == "xuancheng")
    assert city["version"] is None and "before 2023-01-01" in city["reason"]


def test_versions_reports_an_overlap_on_stderr_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = copy_city(tmp_path / "xuancheng")
    (folder / "2023.policy").write_text(
        Path(OLD).read_text(encoding="utf-8").replace("to 2023-12-31", "to 2024-01-31"),
        encoding="utf-8",
    )
    # 2024 extends 2023 and starts after it: only the overlap is wrong
    code, out, err = run(capsys, "versions", str(folder))
    assert code == 1
    assert "2023-01-01 to 2024-01-31" in out
    assert "error E707" in err and "2024.policy:" in err


def test_versions_reports_a_gap_as_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = copy_city(tmp_path / "xuancheng", effective_2024="2024-03-01 to 2024-12-31")
    code, _, err = run(capsys, "versions", str(folder))
    assert code == 0
    assert "warning W702: no version of xuancheng is in force from 2024-01-01 to 2024-02-29" in err


def test_versions_of_a_folder_without_policies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "versions", str(tmp_path))
    assert (code, out) == (1, "")
    assert "no policy files" in err


def test_versions_rejects_a_bad_date(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["versions", "--on", "2024-02-30"])
    assert caught.value.code == 2
    assert "not a date" in capsys.readouterr().err


# ---- diff ----------------------------------------------------------------------------------------


def test_diff_text_groups_changes_by_kind(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "diff", OLD, NEW)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].endswith("36 changes (20 added, 11 changed, 5 citation only)")
    assert "added (20)" in lines and "changed (11)" in lines and "citation only (5)" in lines
    assert "  + parameter low_ratio_grassroots: 30%" in lines
    assert "  ~ class category/low" in lines
    only = lines[lines.index("citation only (5)") :]
    assert "  ~ definition stable_group" in only and "  ~ class category/ungrouped" in only


def test_diff_marks_citation_only_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edited = tmp_path / "2023.policy"
    edited.write_text(
        Path(OLD)
        .read_text(encoding="utf-8")
        .replace(
            '"特病单议按合理费用（总费用 − 不合理费用）÷ 全部病组均次费用 × 100 折算点数，'
            '与 2024 年激励点数同一写法"',
            '"已核"',
        ),
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "diff", OLD, str(edited))
    assert code == 0
    assert "citation only (1)" in out and "  ~ arm class_points/special" in out


def test_diff_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "diff", OLD, NEW, "--json")
    data = json.loads(out)
    assert code == 0
    assert (data["old"]["version"], data["new"]["version"]) == ("2023", "2024")
    assert data["new"]["hash"] == compile_file(NEW).hash
    assert len(data["changes"]) == 36
    assert {c["clause"] for c in data["changes"]} >= {"param:low_ratio_grassroots"}


def test_diff_of_identical_versions_is_empty_and_succeeds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "diff", NEW, NEW)
    assert code == 0 and out.strip().endswith("no changes")


def test_diff_of_a_file_that_does_not_check_fails_with_diagnostics(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "2023.policy"
    broken.write_text(
        Path(OLD).read_text(encoding="utf-8").replace("= 40%", "= 40% +"), encoding="utf-8"
    )
    code, out, err = run(capsys, "diff", OLD, str(broken))
    assert (code, out) == (1, "")
    assert str(broken) in err and "error E001" in err


# ---- schema --------------------------------------------------------------------------------------


def test_schema_ir_is_a_json_schema_the_compiled_policy_fits(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "schema", "ir")
    schema = json.loads(out)
    assert code == 0 and schema["$schema"].endswith("2020-12/schema")
    Draft202012Validator.check_schema(schema)
    Draft202012Validator(schema).validate(compile_file(NEW).model_dump(mode="json"))


@pytest.mark.parametrize(
    "kind", ["cases", "hospitals", "groups", "deductions", "assessments", "budget"]
)
def test_schema_of_input_files(kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schema", kind)
    assert code == 0
    Draft202012Validator.check_schema(json.loads(out))


def test_schema_of_an_unknown_kind_lists_the_valid_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "schema", "policy")
    assert (code, out) == (1, "")
    assert (
        "no schema `policy`; valid kinds: ir, cases, hospitals, groups, deductions, "
        "assessments, budget" in err
    )
