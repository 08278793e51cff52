"""Finding quotes in documents' texts, the passage around a quote, and the closest passage to one
that is not there (`policy_dsl.quotes`): on a small text written here, and measured on the five
real documents under `../shared/sources` (skipped when they are absent)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policy_dsl import quotes
from policy_dsl.sources import DocumentText, normal, read_text
from tests.conftest import shared_sources

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "diagnostics"
XUANCHENG = "004_f075d89bf2526765.txt"
WUXI = "000_9040d25257a7a8dc.txt"
SUZHOU = "001_a723f35855d65e1a.txt"
YANTAI = "002_5b3b4aa0aaec7b59.txt"
WUHAN = "003_eabe2cfa3e5f9fbe.txt"

NOTICE = """\
第五条 住院总费用达到该病组均次费用 3 倍及以上的病例为高倍率病例。

第六条 住院总费用低于该病组均次住院费用 0.4 倍的病例为低倍率病例，一级及以下

定点医疗机构为 0.3 倍以下。

第七条 病组内病例数大于 5 例且变异系数小于等于 1 的病组为稳定病组。
"""


@pytest.fixture
def notice(tmp_path: Path) -> DocumentText:
    path = tmp_path / "notice.txt"
    path.write_text(NOTICE, encoding="utf-8")
    return read_text(path)


def _shared(name: str) -> DocumentText:
    return read_text(shared_sources() / name)


def _found(quote: str, text: DocumentText) -> str | None:
    spans = quotes.find(quote, text)
    return None if spans is None else quotes.passage(text, spans).marked()


# ---- on a small text ---------------------------------------------------------------------


def test_a_quote_is_found_whatever_the_white_space_and_punctuation_width(
    notice: DocumentText,
) -> None:
    assert _found("一级及以下定点医疗机构为0.3倍以下", notice) == (
        "第六条住院总费用低于该病组均次住院费用0.4倍的病例为低倍率病例，"
        "【一级及以下定点医疗机构为0.3倍以下】。"
    )
    assert _found("低倍率病例,一级及以下", notice) is not None


@pytest.mark.parametrize("ellipsis", ["……", "…", "...", "⋯⋯"])
def test_an_ellipsis_joins_parts_in_order_within_one_paragraph(
    notice: DocumentText, ellipsis: str
) -> None:
    assert _found(f"低于{ellipsis}0.4 倍", notice) == (
        "第六条住院总费用【低于】该病组均次住院费用【0.4倍】的病例为低倍率病例，"
        "一级及以下定点医疗机构为0.3倍以下。"
    )
    assert _found(f"0.4 倍{ellipsis}低于", notice) is None, "parts out of order"
    assert _found(f"3 倍及以上{ellipsis}0.4 倍", notice) is None, "parts of two articles"


def test_the_first_part_is_tried_wherever_it_occurs(notice: DocumentText) -> None:
    # `住院总费用` first occurs in article 5, whose paragraph has no `0.3`: article 6 has both
    assert _found("住院总费用……0.3 倍以下", notice) is not None


def test_a_quote_with_nothing_to_look_for_is_not_found(notice: DocumentText) -> None:
    assert quotes.find("", notice) is None
    assert quotes.find("……", notice) is None


def test_the_closest_passage_of_a_paraphrase_is_its_sentence(notice: DocumentText) -> None:
    assert quotes.closest("住院费用低于病组平均费用 0.4 倍的为低倍率病例", notice) == (
        "第六条住院总费用低于该病组均次住院费用0.4倍的病例为低倍率病例，"
        "一级及以下定点医疗机构为0.3倍以下。"
    )
    assert quotes.closest("病例数超过五例、变异系数不大于一的为稳定病组", notice) == (
        "第七条病组内病例数大于5例且变异系数小于等于1的病组为稳定病组。"
    )
    assert quotes.closest("ABC", notice) is None


# ---- measured on the five documents --------------------------------------------------------

#: Real quotes (each as a policy would cite it) and the passage shown for it.
FOUND = [
    (
        XUANCHENG,
        "低于……0.3倍以下",
        "对一级及以下定点医疗机构低倍率病例，调整为住院总费用【低于】本DRG病组均次费用"
        "【0.3倍以下】的费用过低病例。",
    ),
    (
        XUANCHENG,
        "三级医疗机构……6‰",
        "根据医疗机构级别设置大病、罕见病救治医保激励病例数比例，其中，【三级医疗机构】、"
        "二级及以下医疗机构激励病例数分别不超过该医疗机构DRG付费总病例数的【6‰】、4‰。",
    ),
    (
        XUANCHENG,
        "对于双侧器官同时手术的病例，按该病例基准点数的 1.5 倍纳入 DRG 点数付费结算",
        "【对于双侧器官同时手术的病例，按该病例基准点数的1.5倍纳入DRG点数付费结算】；",
    ),
    (
        XUANCHENG,
        "各定点医疗机构系数=级别系数×80%+成本系数×20%",
        None,
    ),
    (
        WUXI,
        "未达到70%的……110%作为年度实际支付总额",
        None,
    ),
    (WUXI, "从七个维度对DRG付费医院进行专项考核", None),
    (SUZHOU, "实现总额控制下DRG付费为主的多元复合支付", None),
    (SUZHOU, "坚持合理诊疗，强化医疗质量医保支付考核", None),  # across a page break
    (YANTAI, "合理结余留用、合理超支分担", None),
    (YANTAI, "对付费标准2倍以上的高费用病例实行逐月申报结算制度", None),
    (WUHAN, "通过设置同城同病同质同价的基础病组", None),
    (WUHAN, "2022 年实现 DRG 付费医保基金支出……达到 70%以上，2023 年达到 85%以上", None),
]


@pytest.mark.parametrize(("name", "quote", "passage"), FOUND, ids=lambda v: str(v)[:16])
def test_real_quotes_are_found_with_their_passage(
    name: str, quote: str, passage: str | None
) -> None:
    shown = _found(quote, _shared(name))
    assert shown is not None
    if passage is not None:
        assert shown == passage


#: Parts that each occur, but in paragraphs (or an order) that do not belong together.
NOT_FOUND = [
    (XUANCHENG, "稳定病组……0.3倍以下"),
    (XUANCHENG, "6‰……1.5 倍"),
    (XUANCHENG, "0.3倍以下……低于"),
    (WUHAN, "统筹地区全面覆盖……每年进度分别不低于 70%"),
    (WUXI, "年终清算系数……未达到70%"),
    (YANTAI, "14个病组……251万元"),
    (SUZHOU, "二级以上医疗机构……模拟运行"),
]


@pytest.mark.parametrize(("name", "quote"), NOT_FOUND, ids=lambda v: str(v)[:16])
def test_parts_from_unrelated_paragraphs_are_not_found(name: str, quote: str) -> None:
    text = _shared(name)
    assert all(quotes.find(part, text) for part in quote.split("……")), "each part is there"
    assert quotes.find(quote, text) is None


#: Paraphrases (from the shipped policies before their rewrite) and the sentence they reword.
PARAPHRASES = [
    (
        XUANCHENG,
        "一级及以下医院住院总费用低于病组次均费用0.3倍的为低倍率病例",
        "对一级及以下定点医疗机构低倍率病例，调整为住院总费用低于本DRG病组均次费用0.3倍以下的"
        "费用过低病例。",
    ),
    (
        XUANCHENG,
        "医疗机构系数 = 等级系数 × 80% + 费用系数 × 20%",
        "将定点医疗机构系数测算公式调整为：各定点医疗机构系数=级别系数×80%+成本系数×20%，",
    ),
    (
        XUANCHENG,
        "新开医院或无历史数据的医院按同级别系数的80%确定，且不低于同级别最低系数",
        "当年新增医疗机构、无历史数据医疗机构的系数按同一级别医疗机构级别系数的80%确定，",
    ),
    (
        WUXI,
        "实际费用与DRG应付之比未达到70%的，按实际费用支付",
        "医疗机构实际住院医疗费用和全年住院医疗费用总额的比较，未达到70%的，",
    ),
    (
        WUXI,
        "年初按医院级别与历史次均费用把医院分为三档",
        "根据医院级别和历史均次费用情况，将付费医院划分为3个层级，分别精算层级区域总额。",
    ),
    (SUZHOU, "不适合 DRG 付费的病例按其他方式付费", "统筹考虑不适用DRG付费的病例,"),
    (YANTAI, "14 个病组三级、二级医院同一费率", "对14个病组实行三级、二级医院同一费率,"),
    (WUHAN, "grouping rate ≥ 90%（入组率 ≥ 90%）", "保持整体入组率在90%以上。"),
    (WUHAN, "以病组、权重、费率为核心要素", "突出病组、权重和费率三个核心要素，"),
]


@pytest.mark.parametrize(("name", "quote", "sentence"), PARAPHRASES, ids=lambda v: str(v)[:16])
def test_a_paraphrase_points_to_the_sentence_it_rewords(
    name: str, quote: str, sentence: str
) -> None:
    text = _shared(name)
    assert quotes.find(quote, text) is None
    closest = quotes.closest(quote, text)
    assert closest is not None and sentence in closest
    assert quotes.find(closest, text) is not None, "the real words are one copy away"


# ---- invariants ----------------------------------------------------------------------------


#: The golden notice, and the five real texts (where `../shared/sources` is).
TEXTS = ["notice", XUANCHENG, WUXI, SUZHOU, YANTAI, WUHAN]


def _text(name: str) -> DocumentText:
    if name == "notice":
        return read_text(GOLDEN / "sources" / "notice.txt")
    return _shared(name)


@pytest.mark.parametrize("name", TEXTS)
@given(data=st.data())
@settings(max_examples=100, deadline=None)
def test_any_words_of_a_text_are_found_and_marked(name: str, data: st.DataObject) -> None:
    """Any stretch of a document's own text, however its white space falls, is found, and the
    passage shown marks exactly those words (white space aside). A stretch that holds an
    ellipsis as the text spells it (the Wuxi slides' `.....`) is no such quote: in a quote an
    ellipsis joins parts (see the next test)."""
    text = _text(name)
    start = data.draw(st.integers(0, len(text.original) - 2))
    end = data.draw(st.integers(start + 1, min(start + 40, len(text.original))))
    quote = text.original[start:end]
    if not normal(quote) or quotes.ELLIPSIS.search(quote):
        return
    spans = quotes.find(quote, text)
    assert spans is not None
    passage = quotes.passage(text, spans)
    ((a, b),) = passage.marks
    assert normal(passage.text[a:b]) == normal(quote)


def test_dots_the_text_spells_are_an_ellipsis_in_a_quote() -> None:
    """The Wuxi slides end a list with `.....`: quoted, those dots are an ellipsis, not words —
    so they are not marked, nothing is left to find in them alone, and they join only parts of
    one passage (a slide's line is one)."""
    text = _shared(WUXI)
    assert _found("费用差异大病组\n.....", text) == "【费用差异大病组】"
    assert quotes.find(".....", text) is None
    assert quotes.find("费用差异大病组\n.....\n\n绩效指标", text) is None


@pytest.mark.parametrize("name", TEXTS)
@given(data=st.data())
@settings(max_examples=100, deadline=None)
def test_two_stretches_of_one_paragraph_in_order_are_found(name: str, data: st.DataObject) -> None:
    """Two stretches of one paragraph joined by an ellipsis are found, in their order."""
    text = _text(name)
    bounds = [*text.passages, len(text.normal)]
    index = data.draw(st.integers(0, len(bounds) - 2))
    first, last = bounds[index], bounds[index + 1]
    if last - first < 4:
        return
    cut = data.draw(st.integers(first + 1, last - 2))
    one = text.normal[data.draw(st.integers(first, cut - 1)) : cut]
    two = text.normal[cut + 1 : data.draw(st.integers(cut + 2, last))]
    assert quotes.find(f"{one}……{two}", text) is not None
