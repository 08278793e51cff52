"""`drgpolicy sample --out` writes a fresh folder and swaps it in (issue 10: nothing lost): a
folder that is not new, empty or an earlier sample is refused untouched; an earlier sample is
replaced whole; what is written is what `generate_sample` writes, marker included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.run.out_folder import MARKER_KEY
from tests.conftest import SAMPLE, run_cli


def test_a_folder_of_other_files_is_refused_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "chapter1.docx").write_text("第一章", encoding="utf-8")
    (thesis / "cases.csv").write_text("my own data\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "sample", "--out", str(thesis), "--cases", "200")
    assert code == 1
    assert "no sample.json of an earlier sample" in err
    assert sorted(p.name for p in thesis.iterdir()) == ["cases.csv", "chapter1.docx"]
    assert (thesis / "cases.csv").read_text(encoding="utf-8") == "my own data\n"


def test_an_earlier_sample_is_replaced_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "city"
    assert (
        run_cli(capsys, "sample", "--out", str(out), "--cases", "300", "--format", "parquet")[0]
        == 0
    )
    assert (out / "cases.parquet").is_file()
    assert run_cli(capsys, "sample", "--out", str(out), "--cases", "200", "--seed", "7")[0] == 0
    names = sorted(p.name for p in out.iterdir())
    assert "cases.parquet" not in names and "cases.csv" in names  # nothing of the old one left
    marker = json.loads((out / "sample.json").read_text(encoding="utf-8"))
    assert (marker[MARKER_KEY], marker["cases"], marker["seed"]) == ("sample", 200, 7)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers


def test_the_bundled_sample_is_what_the_command_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sample"
    assert (
        run_cli(capsys, "sample", "--out", str(out), "--cases", "20000", "--seed", "2024")[0] == 0
    )
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(p.name for p in SAMPLE.iterdir())
    for name in written:
        assert (out / name).read_bytes() == (SAMPLE / name).read_bytes(), name


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--cases", "10"], "--cases 10: a sample needs at least 100 cases"),
        (
            ["--cases", "1000", "--parts", "20"],
            "--cases 1000: a sample needs at least 100 cases per part",
        ),
        (["--cases", "100", "--seed", "-1"], "--seed -1: a seed is a whole number, 0 or more"),
        (["--cases", "100", "--year", "99999"], "--year 99999: give a year such as 2024"),
    ],
)
def test_arguments_no_sample_is_made_from_are_refused_naming_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], words: str
) -> None:
    """Refused in words (exit 1, nothing written), not a traceback from numpy or datetime."""
    code, _, err = run_cli(capsys, "sample", *args, "--out", str(tmp_path / "city"), "--quiet")
    assert code == 1 and words in err, err
    assert not (tmp_path / "city").exists()
