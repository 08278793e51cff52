"""The passages of quotes in the studio: the editor component gets, for each quote found in its
document, where it stands and its passage (the tooltip); the Explain page shows the passage
beside a step's source; a quote not found is an error of the editor (as `drgpolicy check` says)
that neither stops a settlement nor an explanation."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.explainer.trace import CitedPassage
from policy_dsl.quotes import Passage
from studio import buffer, trace_tree
from tests.studio.apptest import XC, component, editor_on, line_of, open_app, replaced

NOTICE = Path(__file__).resolve().parents[1] / "golden" / "diagnostics" / "sources" / "notice.txt"
#: stable_group's first quote in Xuancheng 2024, as the notice words it.
WORDED = "对组内病例数符合大数定理界值要求或者病例数>5 例且 CV≤1 的病组确定为稳定病组"
QUOTE = "病例数大于 5 例且变异系数小于等于 1 的病组为稳定病组"
PASSAGE = "第七条病组内病例数大于5例且变异系数小于等于1的病组为稳定病组。"
INCENTIVE = "三级医疗机构、二级及以下医疗机构激励病例数分别不超过该医疗机构DRG付费总病例数的6‰、4‰"
NINTH = f"第九条{INCENTIVE}。"
TITLE = "关于促进三医协同发展优化医保DRG点数付费政策的通知（征求意见稿）"


@pytest.fixture
def quoted(policies: Path) -> Path:
    """The studio's copy of Xuancheng 2024, its `stable_group` quoting a sentence of the text
    put in the city's `sources/` folder under the name the document gives (an example notice,
    not the real one: the other quotes of 2023 and 2024, the real notice's words, are not in it)."""
    path = policies / XC / "2024.policy"
    path.write_text(replaced(path.read_text(encoding="utf-8"), WORDED, QUOTE), encoding="utf-8")
    (policies / XC / "sources").mkdir()
    shutil.copy(NOTICE, policies / XC / "sources" / "004_f075d89bf2526765.txt")
    return path


def test_the_editor_gets_the_passage_of_each_quote_found(quoted: Path) -> None:
    at = open_app()
    text = editor_on(at, XC, "2024")
    drawn = component(at)
    # the example notice's 第九条 is word for word the real notice's sentence on incentive cases,
    # quoted twice in 2024 (the table of shares, the cases counted): found too
    note, share, counted = drawn["notes"]
    for found, quote in ((share, INCENTIVE), (counted, "该医疗机构DRG付费总病例数")):
        assert found["line"] == line_of(text, f'source xc2024 "{quote}"')
        assert found["text"] == NINTH
        ((start, end),) = found["marks"]
        assert NINTH[start:end] == quote
    line = line_of(text, f'source xc2024 "{QUOTE}"')
    assert (note["line"], note["column"], note["end_line"]) == (line, 3, line)
    assert note["end_column"] == 3 + len(f'source xc2024 "{QUOTE}"')
    assert (note["document"], note["text"]) == (TITLE, PASSAGE)
    ((start, end),) = note["marks"]
    assert PASSAGE[start:end] == "病例数大于5例且变异系数小于等于1的病组为稳定病组"
    # the other quotes are not in this text: errors, as `drgpolicy check --sources` reports
    assert {m["code"] for m in drawn["marks"] if m["severity"] == "error"} == {"E137"}
    assert at.button(key="editor_save").disabled


def test_a_quote_not_found_stops_no_settlement(quoted: Path) -> None:
    analysis = buffer.analyse(quoted.read_text(encoding="utf-8"), quoted.parents[1], XC)
    assert not analysis.ok and analysis.compiles
    assert {d.code for d in analysis.diagnostics if d.severity == "error"} == {"E137"}


def test_the_explain_page_shows_the_passage_beside_the_source(quoted: Path) -> None:
    at = open_app("explain")
    at.selectbox(key="explain_city").set_value(XC).run()
    at.text_input(key="explain_case").set_value("C000001")
    next(b for b in at.button if b.label == "Explain").click().run()
    assert not at.exception
    at.radio(key="explain_view").set_value(trace_tree.FLAT).run()
    shown = [str(e.proto.body) for e in at.get("html")]
    passage = next(h for h in shown if "稳定病组" in h and "<mark>" in h)
    assert "第七条病组内<mark>病例数大于5例且变异系数小于等于1的病组为稳定病组</mark>。" in passage
    assert TITLE in passage


def test_a_passage_is_escaped_for_the_page() -> None:
    passage = Passage('a <script>x</script> "b"', ((2, 10),))
    cited = CitedPassage("doc <b>", "《<i>title</i>》", passage)
    shown = trace_tree.passage_html(cited)
    assert "<script>" not in shown and "<i>" not in shown
    assert "a <mark>&lt;script&gt;</mark>x&lt;/script&gt; &quot;b&quot;" in shown
    assert "— 《&lt;i&gt;title&lt;/i&gt;》" in shown
