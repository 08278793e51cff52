"""What the report shows beyond the money: the full category transition matrix (in report.html
and summary.md, not only whatif.json), and a version compared with itself. Expected counts come
from two plain settlements."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import polars as pl
import pytest

from engine.inputs.contract import Inputs
from engine.inputs.rundata import Period
from engine.run.outputs import stage_tables
from engine.run.settle import load_policy, settle
from engine.whatif import Runs, sweep
from engine.whatif.sweep import checked_grid
from policy_dsl.errors import PolicyError
from tests.conftest import SAMPLE
from tests.conftest import run_cli as run
from tests.whatif.conftest import NEW, OLD


def categories(inputs: Inputs, path: Path) -> pl.DataFrame:
    settled = settle(load_policy(path), inputs, Period.parse("2024"))
    stage = settled.settling_stages()[-1]
    cases = stage_tables(settled, stage)["cases"]
    return cases.select("case_id", pl.col("category").cast(pl.String))


def expected_matrix(inputs: Inputs) -> dict[tuple[str, str], int]:
    joined = categories(inputs, OLD).join(categories(inputs, NEW), on="case_id", suffix="_new")
    counts = joined.group_by("category", "category_new").len()
    return {(a, b): n for a, b, n in counts.rows()}


def md_matrix(summary: str) -> dict[tuple[str, str], int]:
    lines = summary[summary.index("| 2023 ↓ / 2024 →") :].splitlines()
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    found = {}
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0].startswith("all"):
            continue
        for name, cell in zip(header[1:-1], cells[1:-1], strict=True):
            found[(cells[0], name)] = int(cell.replace(",", ""))
    return found


def html_matrix(html: str) -> dict[tuple[str, str], int]:
    start = html.index("2023 ↓ / 2024 →")
    table = html[html.rindex("<table>", 0, start) : html.index("</table>", start)]
    rows = [
        [unescape(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", table)
    ]
    found = {}
    for cells in rows[1:]:
        if not cells[0].startswith("all"):
            for name, cell in zip(rows[0][1:-1], cells[1:-1], strict=True):
                found[(cells[0], name)] = int(cell.replace(",", ""))
    return found


def test_the_transition_matrix_is_in_the_html_and_the_markdown(
    report_dir: Path, sample_inputs: Inputs
) -> None:
    expected = expected_matrix(sample_inputs)
    summary = (report_dir / "summary.md").read_text(encoding="utf-8")
    html = (report_dir / "report.html").read_text(encoding="utf-8")
    for found in (md_matrix(summary), html_matrix(html)):
        assert {k: v for k, v in found.items() if v} == expected
        assert sum(found.values()) == 20_000
    assert ("low", "normal") in expected


def test_a_version_against_itself(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r"
    code, printed, err = run(
        capsys, "whatif", "--base", str(NEW), "--new", str(NEW), "--data", str(SAMPLE),
        "--out", str(out), "--no-exposure",
    )  # fmt: skip
    assert code == 0, err
    assert "clauses: no clause changed" in printed
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "No clause changed" in summary
    groups = summary[summary.index("## By group") :].split("\n## ")[0]
    assert "No group's payment changes." in groups and "|" not in groups
    assert "¥0.00 | 0.00% |" not in summary.split("## Winners and losers")[1]
    data = json.loads((out / "whatif.json").read_text(encoding="utf-8"))
    assert data["attribution"]["parts"] == []
    assert data["effect"] == "no effect on case payments"


def test_the_python_sweep_checks_its_values(sample_inputs: Inputs) -> None:
    policy = load_policy(NEW)
    with pytest.raises(PolicyError, match=r"--set low_ratio_grassroots: `abc` is not a number"):
        sweep(Runs(sample_inputs, Period.parse("2024")), policy, {"low_ratio_grassroots": ["abc"]})
    with pytest.raises(PolicyError, match=r"`2.5` is not a whole number"):
        checked_grid(policy, {"large_number_cases": [100, 2.5]})
    assert checked_grid(policy, {"large_number_cases": ["100", 120]}) == {
        "large_number_cases": [100.0, 120.0]
    }
