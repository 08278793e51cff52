"""`drgpolicy init`: a new city checks clean, settles the bundled sample at once and its example
passes; `--from` starts from another city's version; an existing city is never touched."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import POLICIES, SAMPLE
from tests.conftest import run_cli as run

#: The starting policy's level coefficients, as its comments state them (三级 1.1, 二级 1.0,
#: 一级及以下 0.85).
LEVEL_COEFFICIENT = {0: 0.85, 1: 0.85, 2: 1.0, 3: 1.1}
DRG_FUND = 332_771_895  # sample/budget.yaml


def listing(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def sample_levels() -> dict[str, int]:
    with (SAMPLE / "hospitals.csv").open(encoding="utf-8") as handle:
        return {row["hospital_id"]: int(row["level"]) for row in csv.DictReader(handle)}


@pytest.mark.parametrize(("method", "settled"), [("points", "points"), ("rate", "weight")])
def test_a_new_city_checks_clean_settles_the_sample_and_its_example_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], method: str, settled: str
) -> None:
    root = tmp_path / "policies"
    code, out, _ = run(
        capsys, "init", "hefei", "--method", method, "--year", "2024", "--policies", str(root)
    )
    assert code == 0, out
    city = root / "hefei"
    assert sorted(listing(city)) == ["2024.policy", "examples/starter.yaml", "sources/README.md"]
    text = (city / "2024.policy").read_text(encoding="utf-8")
    assert 'policy hefei version "2024"\n' in text and f"method {method}\n" in text
    cited = [line for line in text.splitlines() if line.strip().startswith("source ")]
    assert cited == [], "no document text yet: every rule rests on an assumption"

    code, out, err = run(capsys, "check", str(city))
    assert (code, err) == (0, "")
    assert "ok (0 errors, 0 warnings)" in out

    code, out, err = run(capsys, "test", str(city))
    assert code == 0 and "1 passed, 0 failed" in err

    code, out, err = run(
        capsys, "settle", "--policy", str(city / "2024.policy"), "--data", str(SAMPLE),
        "--period", "2024", "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert code == 0, err
    cases = pl.read_csv(tmp_path / "out" / "settlement" / "cases.csv", infer_schema_length=0)
    payments = cases["payment"].cast(pl.Decimal(20, 2)).sum()
    assert payments == DRG_FUND, "the year's payments close the budget to the fen"
    levels = sample_levels()
    normal = cases.filter(pl.col("category") == "normal").head(200)
    for row in normal.iter_rows(named=True):
        base, kept = float(row[f"base_{settled}"]), float(row[f"settled_{settled}"])
        coefficient = LEVEL_COEFFICIENT[levels[row["hospital_id"]]]
        # both written to 4 decimals (engine/run/decimals.py): each within half a unit of the last
        # one
        assert kept == pytest.approx(base * coefficient, abs=0.5e-4 * (1 + coefficient) + 1e-12)
    assert normal.height == 200


def test_the_version_is_this_year_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    year = dt.date.today().year
    code, _, _ = run(capsys, "init", "wuhu", "--policies", str(tmp_path))
    assert code == 0
    text = (tmp_path / "wuhu" / f"{year}.policy").read_text(encoding="utf-8")
    assert f"effective {year}-01-01 to {year}-12-31\n" in text
    assert f'policy: "{year}"' in (tmp_path / "wuhu" / "examples" / "starter.yaml").read_text()
    code, _, err = run(capsys, "test", str(tmp_path / "wuhu"))
    assert code == 0, err


@pytest.mark.parametrize("year", ["0", "-5", "99999"])
def test_a_year_that_is_no_calendar_year_is_refused_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], year: str
) -> None:
    """On main `--year 0` made this year's version, exit 0 (`year or this year`); -5 and 99999
    were refused only by the template's compile error."""
    code, out, err = run(capsys, "init", "wuhu", "--year", year, "--policies", str(tmp_path))
    assert code == 1 and out == ""
    assert f"--year {year} is not a year of a calendar date: give e.g. " in err
    assert not any(tmp_path.iterdir())


def test_an_existing_city_is_refused_and_left_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(POLICIES / "suzhou", tmp_path / "suzhou")
    before = listing(tmp_path)
    code, out, err = run(capsys, "init", "suzhou", "--policies", str(tmp_path))
    assert code == 1 and out == ""
    assert f"{tmp_path / 'suzhou'} already exists: init never writes into an existing city" in err
    assert listing(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["suzhou"], (
        "no staging folder or lock left"
    )


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("合肥", "write it in Latin letters, digits and _"),
        ("2hefei", "write it in Latin letters"),
        ("ma-anshan", "write it in Latin letters"),
        ("policy", "is a keyword of the language"),
    ],
)
def test_a_city_name_that_cannot_stand_in_the_header_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, words: str
) -> None:
    code, _, err = run(capsys, "init", name, "--policies", str(tmp_path))
    assert code == 1 and words in err
    assert not any(tmp_path.iterdir())


def test_from_another_citys_version_settles_as_that_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES, root)
    code, _, err = run(capsys, "init", "xc2", "--from", "xuancheng/2024", "--policies", str(root))
    assert code == 0, err
    text = (root / "xc2" / "2024.policy").read_text(encoding="utf-8")
    assert "extends" not in text and "override " not in text, "one file, the 2023 base merged in"
    assert 'policy xc2 version "2024"\n' in text and "effective 2024-01-01 to 2024-12-31" in text
    assert "document xc2023" in text and "document xc2024" in text
    expected = sorted(
        f"examples/{p.name}"
        for p in (POLICIES / "xuancheng" / "examples").glob("*.yaml")
        if 'policy: "2024"' in p.read_text(encoding="utf-8")
    )
    assert sorted(n for n in listing(root / "xc2") if n.startswith("examples/")) == expected
    assert len(expected) > 5

    code, _, err = run(capsys, "test", str(root / "xc2"))
    assert code == 0 and f"{len(expected)} passed, 0 failed" in err
    for city in ("xuancheng", "xc2"):
        code, _, err = run(
            capsys, "settle", "--policy", str(root / city / "2024.policy"), "--data", str(SAMPLE),
            "--period", "2024", "--out", str(tmp_path / city),
        )  # fmt: skip
        assert code == 0, err
    payments = [
        pl.read_csv(tmp_path / city / "settlement" / "cases.csv", infer_schema_length=0).select(
            "case_id", "category", "settled_points", "payment"
        )
        for city in ("xuancheng", "xc2")
    ]
    assert payments[0].equals(payments[1])


def test_from_a_version_of_one_file_keeps_its_comments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES / "suzhou", root / "suzhou")
    code, _, err = run(capsys, "init", "sz2", "--from", "suzhou/2024", "--policies", str(root))
    assert code == 0, err
    original = (root / "suzhou" / "2024.policy").read_text(encoding="utf-8")
    made = (root / "sz2" / "2024.policy").read_text(encoding="utf-8")
    preface, _, body = made.partition("\n\n")
    assert preface.startswith("# 由 drgpolicy init --from suzhou/2024 生成")
    assert body == original.replace('policy suzhou version "2024"', 'policy sz2 version "2024"')


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--from", "nowhere/2024"], "--from nowhere/2024: no "),
        (["--from", "suzhou"], "give CITY/VERSION, e.g. xuancheng/2024"),
        (["--from", "suzhou/2024", "--year", "2025"], "keeps that version's name and dates"),
    ],
)
def test_a_bad_from_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], words: str
) -> None:
    shutil.copytree(POLICIES / "suzhou", tmp_path / "suzhou")
    code, _, err = run(capsys, "init", "sz2", *args, "--policies", str(tmp_path))
    assert code == 1 and words in err
    assert not (tmp_path / "sz2").exists()


def test_from_a_version_that_does_not_check_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(POLICIES / "suzhou", tmp_path / "suzhou")
    path = tmp_path / "suzhou" / "2024.policy"
    path.write_text(
        path.read_text(encoding="utf-8").replace("or drg_qualified", "or drg_qualifed"),
        encoding="utf-8",
    )
    code, _, err = run(capsys, "init", "sz2", "--from", "suzhou/2024", "--policies", str(tmp_path))
    assert code == 1 and "E101" in err and "drg_qualifed" in err
    assert not (tmp_path / "sz2").exists()


@pytest.mark.parametrize("start", ["suzhou/../wuxi/2024", "suzhou/2024/../../wuxi/2024"])
def test_a_from_that_leaves_its_city_writes_nowhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], start: str
) -> None:
    """`--from CITY/VERSION` names a version in a city folder: a `..` in it would have the new
    city's policy written over another city's file (`sz2/../wuxi/2024.policy`)."""
    for city in ("suzhou", "wuxi"):
        shutil.copytree(POLICIES / city, tmp_path / city)
    before = listing(tmp_path)
    code, _, err = run(capsys, "init", "sz2", "--from", start, "--policies", str(tmp_path))
    assert code == 1 and f"--from {start}: version name" in err, err
    assert listing(tmp_path) == before
