"""`explain` shows, beside a step's quote, its passage in the document's text (the sentence, the
quoted words marked), in the terminal and in `--json`; a quote whose text is not found shows the
citation alone, and a settlement never depends on it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import POLICIES, SAMPLE, run_cli, shared_sources

#: Xuancheng 2024's document, and the words its `stable_group` quotes from it.
TEXT = "004_f075d89bf2526765.txt"
QUOTE = "对组内病例数符合大数定理界值要求或者病例数>5 例且 CV≤1 的病组确定为稳定病组"
#: The quote's sentence in the text (lines 42–50 of the file), as explain shows it: white space
#: left out.
PASSAGE = (
    "为客观反映临床实际和医疗资源消耗情况，提高DRG病例分组科学性和付费准确性，将DRG稳定病组和"
    "非稳定病组分组的病例数要求下调至5例，具体为：对组内病例数符合大数定理界值要求或者病例数>5例"
    "且CV≤1的病组确定为稳定病组，对组内病例数≤5例或CV>1的病组确定为非稳定病组。"
)
MARKED = "对组内病例数符合大数定理界值要求或者病例数>5例且CV≤1的病组确定为稳定病组"
TITLE = "关于促进三医协同发展优化医保DRG点数付费政策的通知（征求意见稿）"


@pytest.fixture
def city(tmp_path: Path) -> Path:
    """A copy of Xuancheng, whose 2024 `stable_group` quotes the document `xc2024` (`text
    "004_…txt"`), without the texts of its documents."""
    folder = tmp_path / "xuancheng"
    shutil.copytree(POLICIES / "xuancheng", folder, ignore=shutil.ignore_patterns("examples"))
    text = (folder / "2024.policy").read_text(encoding="utf-8")
    assert f'source xc2024 "{QUOTE}"' in text and f'text "{TEXT}"' in (
        folder / "2023.policy"
    ).read_text(encoding="utf-8")
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
    capsys: pytest.CaptureFixture[str], city: Path
) -> None:
    code, out = _explain(capsys, city / "2024.policy", "--sources", str(shared_sources()), "--json")
    assert code == 0
    step = _step(json.loads(out), "stable_group")
    assert step["citations"][0] == f"xc2024 {QUOTE}"
    cited = step["passages"][0]
    assert cited["citation"] == f"xc2024 {QUOTE}"
    assert cited["document"] == TITLE
    assert cited["passage"]["text"] == PASSAGE
    ((start, end),) = cited["passage"]["marks"]
    assert PASSAGE[start:end] == MARKED
    # the step's second quote, the other half of the sentence, has its passage too
    assert [p["citation"] for p in step["passages"]] == step["citations"][:2]


def test_the_terminal_trace_prints_it_under_the_source(
    capsys: pytest.CaptureFixture[str], city: Path
) -> None:
    (city / "sources").mkdir()
    shutil.copy(shared_sources() / TEXT, city / "sources" / TEXT)
    code, out = _explain(capsys, city / "2024.policy")
    assert code == 0
    lines = out.splitlines()
    cited = f"    source:  xc2024 {QUOTE}"
    source = next(i for i, line in enumerate(lines) if line.startswith(cited))
    marked = PASSAGE.replace(MARKED, f"【{MARKED}】")
    assert lines[source + 1] == f"      “{marked}” — {TITLE}"


def test_without_the_text_the_citation_stands_alone(
    capsys: pytest.CaptureFixture[str], city: Path
) -> None:
    code, out = _explain(capsys, city / "2024.policy", "--json")
    assert code == 0
    trace = json.loads(out)
    assert all(step["passages"] == [] for step in trace["steps"])
    assert _step(trace, "stable_group")["citations"][0] == f"xc2024 {QUOTE}"
