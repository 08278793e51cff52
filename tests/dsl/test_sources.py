"""Documents' texts: the search path, safe `text` paths, reading once, and the normal form that
quotes and texts are compared in (`policy_dsl.sources`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policy_dsl.sources import (
    ENV,
    UnreadableText,
    find_text,
    normal,
    normal_with_offsets,
    read_text,
    shown,
    shown_with_index,
    source_folders,
    unsafe_text_path,
)

# ---- normal form ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "compared"),
    [
        ("，", ","),
        ("；", ";"),
        ("：", ":"),
        ("（", "("),
        ("）", ")"),
        ("“", '"'),
        ("”", '"'),
        ("‘", "'"),
        ("’", "'"),
        ("〔", "["),
        ("〕", "]"),
        ("【", "["),
        ("】", "]"),
        ("［", "["),
        ("—", "-"),
        ("–", "-"),
        ("－", "-"),
        ("～", "~"),
        ("％", "%"),
        ("０.３", "0.3"),
        ("ＤＲＧ", "drg"),
        ("CV≤1", "cv≤1"),
    ],
)
def test_punctuation_and_full_width_forms_compare_as_one(written: str, compared: str) -> None:
    assert normal(written) == compared


@pytest.mark.parametrize("kept", ["、", "。", "《", "》", "‰", "≤", "÷", "×"])
def test_marks_without_a_half_width_twin_stay_themselves(kept: str) -> None:
    assert normal(kept) == kept


def test_white_space_of_every_kind_and_slide_markup_are_dropped() -> None:
    converted = "低于本 DRG 病组均次费用 0.3\n\n倍以下\u3000从**七个维度**\xa0考核\t"
    assert normal(converted) == "低于本drg病组均次费用0.3倍以下从七个维度考核"


@given(st.text(alphabet=st.sampled_from(list("宣城 \n，,Ａa*“”0.3％\u3000、")), max_size=40))
def test_each_normal_character_comes_from_its_offset(text: str) -> None:
    folded, offsets = normal_with_offsets(text)
    assert folded == normal(text)
    assert len(offsets) == len(folded)
    assert offsets == sorted(offsets)
    for ch, at in zip(folded, offsets, strict=True):
        assert ch in normal(text[at])


@pytest.mark.parametrize(
    ("original", "as_shown"),
    [
        ("医药卫生\n\n体制改革", "医药卫生体制改革"),
        ("本 DRG 病组均次费用 0.3\n\n倍以下", "本DRG病组均次费用0.3倍以下"),
        ("CHS-DRG   grouping\nrules", "CHS-DRG grouping rules"),
        ("由**医保、卫生、财政**的", "由医保、卫生、财政的"),
        ("  各县（市、区）：\n", "各县（市、区）："),
    ],
)
def test_shown_text_drops_the_converters_breaks(original: str, as_shown: str) -> None:
    assert shown(original) == as_shown


@given(st.text(alphabet=st.sampled_from(list("宣城 \nab*，")), max_size=30))
def test_shown_index_maps_every_offset_into_the_shown_text(text: str) -> None:
    out, index = shown_with_index(text)
    assert len(index) == len(text) + 1
    assert index == sorted(index)
    assert index[-1] == len(out)
    for at, ch in enumerate(text):
        if not ch.isspace() and ch != "*":
            assert out[index[at]] == ch


# ---- where texts are found -------------------------------------------------------------------


def test_search_path_is_the_policys_folder_then_given_then_environment(tmp_path: Path) -> None:
    environ = {ENV: os.pathsep.join(["/env/one", "", "/env/two", "/given"])}
    folders = source_folders([Path("/given"), "/also"], environ)
    policy = tmp_path / "city" / "2024.policy"
    assert folders.for_policy(policy) == (
        tmp_path / "city" / "sources",
        Path("/given"),
        Path("/also"),
        Path("/env/one"),
        Path("/env/two"),
    )


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("/etc/passwd", "absolute"),
        ("C:\\texts\\notice.txt", "absolute"),
        ("../notice.txt", "`..`"),
        ("texts/../../notice.txt", "`..`"),
        ("texts\\..\\notice.txt", "`..`"),
        ("  ", "empty"),
    ],
)
def test_a_text_outside_its_folder_is_refused(name: str, why: str) -> None:
    reason = unsafe_text_path(name)
    assert reason is not None and why in reason


@pytest.mark.parametrize(
    "name", ["004_f075d89bf2526765.txt", "xuancheng/2024 通知.txt", "a..b.txt"]
)
def test_a_file_name_or_a_path_inside_is_accepted(name: str) -> None:
    assert unsafe_text_path(name) is None


def test_the_first_folder_holding_the_file_wins(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for folder in (first, second):
        (folder / "sub").mkdir(parents=True)
        (folder / "sub" / "notice.txt").write_text(folder.name, encoding="utf-8")
    assert find_text("sub/notice.txt", [tmp_path / "none", second, first]) == (
        second / "sub" / "notice.txt"
    )
    assert find_text("missing.txt", [first, second]) is None
    assert find_text("../a/sub/notice.txt", [second]) is None


def test_a_symbolic_link_out_of_the_folder_is_not_followed(tmp_path: Path) -> None:
    folder, outside = tmp_path / "sources", tmp_path / "secret.txt"
    folder.mkdir()
    outside.write_text("secret", encoding="utf-8")
    (folder / "notice.txt").symlink_to(outside)
    assert find_text("notice.txt", [folder]) is None


# ---- reading ---------------------------------------------------------------------------------


def test_a_text_is_read_once_while_it_is_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "notice.txt"
    path.write_text("\ufeff第一条 总则。\n", encoding="utf-8")
    first = read_text(path)
    assert read_text(path) is first
    assert first.original == "第一条 总则。\n", "the byte-order mark is no part of the text"
    path.write_text("第一条 新的总则。\n", encoding="utf-8")
    os.utime(path, ns=(1, 1))
    again = read_text(path)
    assert again is not first and again.normal == "第一条新的总则。"


def test_a_text_that_is_not_utf8_cannot_be_read(tmp_path: Path) -> None:
    path = tmp_path / "gbk.txt"
    path.write_bytes("第一条 总则。".encode("gbk"))
    with pytest.raises(UnreadableText, match="not UTF-8"):
        read_text(path)
    with pytest.raises(UnreadableText):
        read_text(tmp_path / "missing.txt")


def test_passages_are_paragraphs_rebuilt_from_the_converters_lines(tmp_path: Path) -> None:
    path = tmp_path / "notice.txt"
    path.write_text(
        "一、总则\n\n"
        "（一）病组内病例数大于 5 例且变异系数小于等于 1 的病组为稳定病组，其余为非\n\n"
        "稳定病组。\n\n"
        "（二）住院总费用低于该病组均次住院费用 0.4 倍的病例为低倍率病例。\n",
        encoding="utf-8",
    )
    text = read_text(path)
    assert len(text.passages) == 3
    heading, first, second = text.passages
    assert text.normal[heading:first] == "一、总则"
    assert text.normal[first:second].endswith("其余为非稳定病组。"), "a line break is no paragraph"
    assert text.normal[second:].startswith("(二)")
