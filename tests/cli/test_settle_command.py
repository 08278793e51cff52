"""`drgpolicy settle` and friends refuse what would hurt, before writing anything: an --out that
holds other files or the inputs, a period outside the policy's dates, a budget of another year,
an empty period, a misspelt --set/--fix; a missing payment exits 1; a missing file or a closed
pipe gives a message, never a traceback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import POLICIES, ROOT, SAMPLE
from tests.conftest import run_cli as run
from tests.engine.incomplete import incomplete_policy

XUANCHENG = str(POLICIES / "xuancheng" / "2024.policy")


def settle(
    capsys: pytest.CaptureFixture[str], *args: str, **named: str | Path
) -> tuple[int, str, str]:
    options = {"policy": XUANCHENG, "data": SAMPLE, "period": "2024-03"} | named
    flags = [item for key, value in options.items() for item in (f"--{key}", str(value))]
    return run(capsys, "settle", *flags, *args)


def listing(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# ---- 1. --out ---------------------------------------------------------------------------------


def test_out_above_the_data_folder_is_refused_and_nothing_is_deleted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(SAMPLE, tmp_path / "sample")
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    before = listing(tmp_path)
    code, _, err = settle(capsys, data=tmp_path / "sample", out=tmp_path)
    assert code == 1
    assert f"--out {tmp_path} contains {tmp_path / 'sample'}, an input of this run" in err
    assert listing(tmp_path) == before


def test_out_as_the_data_folder_or_a_policy_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(SAMPLE, tmp_path / "sample")
    code, _, err = settle(capsys, data=tmp_path / "sample", out=tmp_path / "sample")
    assert code == 1 and "is " in err and "an input of this run" in err
    shutil.copytree(POLICIES / "xuancheng", tmp_path / "xuancheng")
    policy = tmp_path / "xuancheng" / "2024.policy"
    code, _, err = settle(capsys, policy=policy, out=tmp_path / "xuancheng")
    assert code == 1 and "2023.policy, an input of this run" in err
    assert (tmp_path / "xuancheng" / "2023.policy").is_file()


def test_out_with_other_files_is_refused_but_an_earlier_output_is_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.xlsx").write_bytes(b"someone's work")
    code, _, err = settle(capsys, out=out)
    assert code == 1 and "already exists and holds other files (no manifest.json" in err
    assert listing(out) == {"report.xlsx": b"someone's work"}
    (out / "report.xlsx").unlink()
    assert settle(capsys, out=out)[0] == 0
    assert settle(capsys, out=out)[0] == 0  # an earlier output: replaced
    assert (out / "manifest.json").is_file()


# ---- 3. dates ---------------------------------------------------------------------------------


def test_a_period_outside_the_policy_is_refused_and_any_date_settles_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    older = str(POLICIES / "xuancheng" / "2023.policy")
    code, _, err = settle(capsys, policy=older, out=tmp_path / "o")
    assert code == 1 and not (tmp_path / "o").exists()
    assert "xuancheng 2023 is in force from 2023-01-01 to 2023-12-31, but period 2024-03" in err
    assert "--any-date" in err
    code, _, err = settle(capsys, "--any-date", policy=older, out=tmp_path / "o")
    assert code == 0 and "note (--any-date): xuancheng 2023 is in force" in err
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["dates_checked"] is False


def test_a_budget_of_another_year_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    budget = yaml.safe_load((data / "budget.yaml").read_text(encoding="utf-8"))
    (data / "budget.yaml").write_text(yaml.safe_dump({**budget, "year": 2025}), encoding="utf-8")
    code, _, err = settle(capsys, data=data, out=tmp_path / "o")
    assert code == 1 and "budget.yaml is the budget of 2025, but period 2024-03" in err
    assert not (tmp_path / "o").exists()


def test_a_policy_folder_settles_the_version_in_force_and_says_which(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = settle(capsys, policy=POLICIES / "xuancheng", out=tmp_path / "o")
    assert code == 0
    assert 'xuancheng: version "2024" is in force for 2024-03' in err
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["xuancheng-2024"]
    code, _, err = settle(capsys, "--any-date", policy=POLICIES / "xuancheng", out=tmp_path / "a")
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "xuancheng-2023",
        "xuancheng-2024",
    ]


def test_no_version_in_force_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = settle(capsys, policy=POLICIES / "xuancheng", period="2022", out=tmp_path / "o")
    assert code == 1 and "no version of xuancheng is in force before 2023-01-01" in err


# ---- 4. an empty period -----------------------------------------------------------------------


def test_an_empty_period_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = settle(capsys, "--any-date", period="2030", out=tmp_path / "o")
    assert code == 1
    assert "no case discharged in 2030; the data covers 2024-01 … 2024-12" in err
    assert "Traceback" not in err and not (tmp_path / "o").exists()


# ---- 5. --set / --fix -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        (["--set", "low_ratio_grasroots=0.2"], "did you mean `low_ratio_grassroots`?"),
        (["--set", "low_ratio_grassroots=abc"], "`abc` is not a number"),
        (["--fix", "coeficient=1"], "did you mean `coefficient`?"),
    ],
)
def test_a_misspelt_setting_is_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: list[str], words: str
) -> None:
    code, _, err = settle(capsys, *setting, out=tmp_path / "o")
    assert code == 1 and words in err and "col(" not in err
    assert not (tmp_path / "o").exists()


# ---- 7. a missing payment ---------------------------------------------------------------------


def test_cases_without_a_payment_are_written_but_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = incomplete_policy(tmp_path)
    code, _, err = settle(capsys, policy=policy, out=tmp_path / "o")
    assert code == 1
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text(encoding="utf-8"))
    count = manifest["missing_outputs"]["settlement"]["payment"]
    first = manifest["missing_output_cases"]["settlement"]
    assert f"error: stage settlement: {count} cases without settled_points" in err
    assert f"{count} cases without payment (first: {', '.join(first)})" in err
    assert f"drgpolicy explain --case {first[0]}" in err
    assert (tmp_path / "o" / "settlement" / "cases.csv").is_file()


# ---- 8. missing files, closed pipes -----------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["settle", "--policy", "nope.policy", "--data", str(SAMPLE), "--period", "2024"],
        ["diff", "nope.policy", XUANCHENG],
        ["explain", "--case", "C1", "--policy", "nope.policy", "--data", str(SAMPLE)],
        ["whatif", "--base", "nope.policy", "--new", XUANCHENG, "--data", str(SAMPLE)],
        ["test", "nope.yaml"],
    ],
)
def test_a_missing_file_is_a_message_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    extra = {"settle": ["--out", str(tmp_path / "o")], "whatif": ["--out", str(tmp_path / "o")]}
    extra["explain"] = ["--period", "2024"]
    code, out, err = run(capsys, *command, *extra.get(command[0], []))
    assert code == 1
    assert "nope" in out + err and "no such file" in out + err


@pytest.mark.parametrize(
    "command",
    [
        ["settle", "--policy", XUANCHENG, "--data", str(SAMPLE), "--period", "2024-03",
         "--set", "x\x1b[2J=1"],
        ["init", "ci\x1bty"],
        ["explain", "--case", "C\x1b]0;pwned\x07", "--policy", XUANCHENG, "--period", "2024-01"],
        ["test", "x\x1b[2Jy.yaml"],
    ],
)  # fmt: skip
def test_a_control_character_typed_in_an_argument_is_echoed_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sample_cut: Path, command: list[str]
) -> None:
    extra = {"settle": ["--out", str(tmp_path / "o")], "init": ["--policies", str(tmp_path)]}
    extra |= {"explain": ["--data", str(sample_cut)], "test": []}
    code, out, err = run(capsys, *command, *extra[command[0]])
    assert code == 1 and "\\u001b" in out + err
    assert not any(char in out + err for char in "\x1b\x07")


@pytest.mark.parametrize(("data", "what"), [("/dev/null", "a device or a pipe"), ("f", "a file")])
def test_a_data_folder_that_is_not_a_folder_says_what_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: str, what: str
) -> None:
    (tmp_path / "f").write_text("case_id\n", encoding="utf-8")
    given = data if data.startswith("/") else str(tmp_path / data)
    for command in (["validate", "--data", given], ["settle", "--data", given]):
        extra = ["--policy", XUANCHENG, "--period", "2024", "--out", str(tmp_path / "o")]
        code, _, err = run(capsys, *command, *(extra if command[0] == "settle" else []))
        assert code == 1 and f"{given} is {what}, not a folder; give the folder that holds" in err
        assert "does not exist" not in err


def test_a_closed_pipe_stops_quietly() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "schema", "ir"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.read(10)
    process.stdout.close()  # like `| head -c 10`
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    assert "Traceback" not in err and "BrokenPipeError" not in err


# ---- 11. explain: a close id ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case_id", "period", "words"),
    [
        ("C0000004", "2024", "did you mean `C000004`?"),
        ("C000004", "2024-05", "it was discharged in 2024-01"),
        ("ZZZ", "2024", "case ids here run from C000001 to C020000"),
    ],
)
def test_explain_hints_at_an_unknown_case(
    capsys: pytest.CaptureFixture[str], case_id: str, period: str, words: str
) -> None:
    code, _, err = run(
        capsys, "explain", "--case", case_id, "--policy", XUANCHENG, "--data", str(SAMPLE),
        "--period", period,
    )  # fmt: skip
    assert code == 1 and words in err


def test_whatif_out_as_an_input_is_refused_in_settles_words_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(SAMPLE, tmp_path / "sample")
    shutil.copytree(POLICIES / "xuancheng", tmp_path / "xuancheng", ignore=_examples)
    before = listing(tmp_path)

    def no_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("the data were read before --out was checked")

    monkeypatch.setattr("engine.commands.whatif.load_data", no_run)
    base, new = tmp_path / "xuancheng" / "2023.policy", tmp_path / "xuancheng" / "2024.policy"
    for out, words in [
        (tmp_path / "sample", f"--out {tmp_path / 'sample'} is {tmp_path / 'sample'}, an input"),
        (tmp_path, f"--out {tmp_path} contains {tmp_path / 'sample'}, an input of this run"),
        (tmp_path / "xuancheng", f"contains {base}, an input of this run"),
    ]:
        code, _, err = run(
            capsys,
            "whatif",
            "--base",
            str(base),
            "--new",
            str(new),
            "--data",
            str(tmp_path / "sample"),
            "--out",
            str(out),
        )
        assert code == 1 and words in err, err
    assert listing(tmp_path) == before


def _examples(folder: str, names: list[str]) -> list[str]:
    return [name for name in names if name == "examples"]
