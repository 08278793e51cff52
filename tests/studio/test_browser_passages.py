"""The passage of a quote in the policy editor, in a real browser: a quote found in its document
is underlined with a dotted line (no diagnostic: not counted, not listed), and the pointer on it
shows the sentence of the document around it, the quoted words highlighted. The document's text
is found through `DRGPOLICY_SOURCES`, as `drgpolicy studio --sources DIR` sets it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import POLICIES, SAMPLE
from tests.studio.apptest import replaced
from tests.studio.browser import (
    choose,
    editor_frame,
    editor_text,
    idle,
    require_browser,
    studio_page,
)
from tests.studio.test_passages import INCENTIVE, NOTICE, QUOTE, TITLE, WORDED


def test_the_pointer_on_a_quote_shows_its_passage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_browser()
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    path = policies / "xuancheng" / "2024.policy"
    path.write_text(replaced(path.read_text(encoding="utf-8"), WORDED, QUOTE), encoding="utf-8")
    texts = tmp_path / "texts"
    texts.mkdir()
    shutil.copy(NOTICE, texts / "004_f075d89bf2526765.txt")
    monkeypatch.setenv("DRGPOLICY_SOURCES", str(texts))
    with studio_page(policies, SAMPLE, tmp_path / "cache") as page:
        frame = editor_frame(page)
        idle(page)
        choose(page, "City", "xuancheng")
        choose(page, "Version", "2024")
        text = editor_text(page, frame, QUOTE)
        line = text[: text.index(QUOTE)].count("\n") + 1

        notes = frame.locator("#colours .mk.note")
        notes.first.wait_for(timeout=60_000)
        pieces = notes.evaluate_all("els => els.map(e => [e.dataset.mark, e.textContent])")
        # three quotes found, each a note drawn over its tokens: this one, and the two of 2024
        # whose words (the incentive sentence) the example notice's 第九条 has too
        drawn = {key: "".join(p for k, p in pieces if k == key) for key, _ in pieces}
        assert drawn == {
            "n0": f'source xc2024 "{QUOTE}"',
            "n1": f'source xc2024 "{INCENTIVE}"',
            "n2": 'source xc2024 "该医疗机构DRG付费总病例数"',
        }
        note = frame.locator('#colours .mk.note[data-mark="n0"]')
        assert frame.locator(f'#numbers .g[data-line="{line}"]').get_attribute("class") == "g"
        listed = frame.locator("#problems li").all_inner_texts()
        assert listed and all("E137" in item for item in listed), "only the paraphrases"

        frame.locator("#text").evaluate("(t, y) => { t.scrollTop = y; }", max(line - 10, 0) * 20)
        page.wait_for_timeout(300)
        box = note.last.bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        tooltip = frame.locator("#tooltip")
        tooltip.wait_for(state="visible")
        assert tooltip.get_attribute("data-code") == "passage"
        shown = tooltip.inner_text()
        assert shown.startswith(f"《{TITLE}》")
        assert "第七条病组内病例数大于5例且变异系数小于等于1的病组为稳定病组。" in shown
        marked = tooltip.locator("mark").all_inner_texts()
        assert marked == ["病例数大于5例且变异系数小于等于1的病组为稳定病组"]
