"""`whatif` of two cities' versions: refused without a word of intent, run with `--cross-city`
and said in the report's heading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.inputs.rundata import Period
from engine.run.settle import load_data, load_policy
from engine.whatif.report import CrossCity, whatif
from engine.whatif.runs import Runs
from policy_dsl.loader import read_policy_file, resolve
from tests.conftest import POLICIES, run_cli

XUANCHENG = POLICIES / "xuancheng" / "2024.policy"
WUHAN = POLICIES / "wuhan" / "2024.policy"


def _args(data: Path) -> list[str]:
    return ["whatif", "--base", str(XUANCHENG), "--new", str(WUHAN), "--data", str(data)]


def test_two_cities_are_refused_before_anything_is_settled(
    sample_cut: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Regression: xuancheng 2024 → wuhan 2024 was reported as one city's change."""
    out = tmp_path / "w"
    args = [*_args(sample_cut), "--period", "2024", "--out", str(out), "--no-exposure"]
    code, _, err = run_cli(capsys, *args)
    assert code == 1
    assert "the base is xuancheng 2024 and the new version is wuhan 2024" in err
    assert "pass --cross-city" in err
    assert not out.exists()


def test_cross_city_runs_and_the_heading_says_so(
    sample_cut: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "w"
    args = [*_args(sample_cut), "--period", "2024", "--out", str(out), "--no-exposure"]
    code, stdout, err = run_cli(capsys, *args, "--cross-city")
    assert code == 0, err
    heading = "What-if across two cities (--cross-city): xuancheng 2024 → wuhan 2024"
    assert (out / "summary.md").read_text(encoding="utf-8").startswith(f"# {heading}\n")
    assert f"<h1>{heading}</h1>" in (out / "report.html").read_text(encoding="utf-8")
    assert json.loads((out / "whatif.json").read_text(encoding="utf-8"))["cross_city"] is True
    assert stdout.startswith("xuancheng 2024 → wuhan 2024 (across cities):")


def test_the_python_whatif_refuses_two_cities_too(sample_cut: Path) -> None:
    base, new = (resolve(read_policy_file(p)) for p in (XUANCHENG, WUHAN))
    runs = Runs(load_data(sample_cut, load_policy(WUHAN)), Period.parse("2024"))
    with pytest.raises(CrossCity, match="--cross-city"):
        whatif(runs, base, new, "cut", with_exposure=False)
