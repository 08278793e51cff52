"""`explain` shows, beside a step's quote, its passage in the document's text (the sentence, the
quoted words marked), in the terminal and in `--json`; a quote whose text is not found shows the
citation alone, and a settlement never depends on it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import POLICIES, SAMPLE, run_cli

NOTICE = Path(__file__).resolve().parents[1] / "golden" / "diagnostics" / "sources" / "notice.txt"
PARAPHRASE = "病例数达到大数定律要求，或病例数大于5例且变异系数小于等于1"
QUOTE = "病例数大于 5 例且变异系数小于等于 1 的病组为稳定病组"
PASSAGE = "第七条病组内病例数大于5例且变异系数小于等于1的病组为稳定病组。"


@pytest.fixture
def city(tmp_path: Path) -> Path:
    """Xuancheng whose `stable_group` quotes words of a text put in the city's `sources/`
    folder under the name the 2024 document gives (`text "004_…txt"`)."""
    folder = tmp_path / "xuancheng"
    shutil.copytree(POLICIES / "xuancheng", folder, ignore=shutil.ignore_patterns("examples"))
    path = folder / "2024.policy"
    text = path.read_text(encoding="utf-8")
    assert f'source xc2024 "{PARAPHRASE}"' in text
    path.write_text(text.replace(PARAPHRASE, QUOTE), encoding="utf-8")
    return folder


def _explain(capsys: pytest.CaptureFixture[str], policy: Path, *extra: str) -> tuple[int, str]:
    code, out, _ = run_cli(
        capsys,
        "explain",
        "--case",
        "C000001",
        "--policy",
        str(policy),
        "--data",
        str(SAMPLE),
        "--period",
        "2024",
        *extra,
    )
    return code, out


def _step(trace: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in trace["steps"] if s["name"] == name)


def test_the_json_trace_carries_the_passage_of_a_quote(
    capsys: pytest.CaptureFixture[str], city: Path, tmp_path: Path
) -> None:
    texts = tmp_path / "texts"
    texts.mkdir()
    shutil.copy(NOTICE, texts / "004_f075d89bf2526765.txt")
    code, out = _explain(capsys, city / "2024.policy", "--sources", str(texts), "--json")
    assert code == 0
    step = _step(json.loads(out), "stable_group")
    assert step["citations"][0] == f"xc2024 {QUOTE}"
    (cited,) = step["passages"]
    assert cited["citation"] == f"xc2024 {QUOTE}"
    assert cited["document"] == "关于促进三医协同发展优化医保DRG点数付费政策的通知（征求意见稿）"
    assert cited["passage"]["text"] == PASSAGE
    ((start, end),) = cited["passage"]["marks"]
    assert PASSAGE[start:end] == "病例数大于5例且变异系数小于等于1的病组为稳定病组"


def test_the_terminal_trace_prints_it_under_the_source(
    capsys: pytest.CaptureFixture[str], city: Path
) -> None:
    (city / "sources").mkdir()
    shutil.copy(NOTICE, city / "sources" / "004_f075d89bf2526765.txt")
    code, out = _explain(capsys, city / "2024.policy")
    assert code == 0
    lines = out.splitlines()
    cited = f"    source:  xc2024 {QUOTE}"
    source = next(i for i, line in enumerate(lines) if line.startswith(cited))
    assert lines[source + 1] == (
        "      “第七条病组内【病例数大于5例且变异系数小于等于1的病组为稳定病组】。” — "
        "关于促进三医协同发展优化医保DRG点数付费政策的通知（征求意见稿）"
    )


def test_without_the_text_the_citation_stands_alone(
    capsys: pytest.CaptureFixture[str], city: Path
) -> None:
    code, out = _explain(capsys, city / "2024.policy", "--json")
    assert code == 0
    trace = json.loads(out)
    assert all(step["passages"] == [] for step in trace["steps"])
    assert _step(trace, "stable_group")["citations"][0] == f"xc2024 {QUOTE}"
