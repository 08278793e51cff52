"""The policy editor component without a browser: what Python draws it with (marks, language),
how the Editor page takes what it sends (revisions), and that its frontend is self-contained."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from studio import buffer, editing, highlight, policy_editor
from studio.state import (
    EDITOR_CHOICE,
    EDITOR_CITY,
    EDITOR_COMPONENT,
    EDITOR_REVISION,
    EDITOR_TEXT,
)
from tests.studio.apptest import line_of, replaced

XC = "xuancheng"
PROTOCOL = (
    "streamlit:componentReady",
    "streamlit:render",
    "streamlit:setComponentValue",
    "streamlit:setFrameHeight",
)


def loaded(policies: Path, choice: str = "2024") -> dict[str, object]:
    state: dict[str, object] = {EDITOR_CITY: XC, EDITOR_CHOICE: choice}
    editing.load_choice(state, policies)
    return state


def test_the_text_sent_is_taken_for_the_current_revision_only(policies: Path) -> None:
    state = loaded(policies)
    text, revision = str(state[EDITOR_TEXT]), editing.revision(state)
    assert revision == 1
    assert editing.receive(state, {"text": text + "# a\n", "revision": revision})
    assert state[EDITOR_TEXT] == text + "# a\n"
    assert not editing.receive(state, {"text": text + "# a\n", "revision": revision})  # same
    for stale in (
        {"text": "typed before the load", "revision": revision - 1},
        {"text": "from the future", "revision": revision + 1},
        {"text": "no revision"},
        {"text": "a bool is no revision", "revision": True},
        {"text": 42, "revision": revision},
        "not a mapping",
        None,
    ):
        assert not editing.receive(state, stale)
    assert state[EDITOR_TEXT] == text + "# a\n"


def test_loading_and_formatting_start_a_new_revision(policies: Path) -> None:
    state = loaded(policies)
    text = str(state[EDITOR_TEXT])
    state[EDITOR_COMPONENT] = {
        "text": replaced(text, "  method points", "   method points"),
        "revision": 1,
    }
    editing.format_buffer(state)  # takes the sent text first, then formats it
    assert state[EDITOR_TEXT] == text and state[EDITOR_REVISION] == 2
    editing.format_buffer(state)  # already canonical: the text and its revision stay
    assert state[EDITOR_REVISION] == 2
    assert not editing.take_sent(state)  # the value sent for revision 1 is stale now
    state[EDITOR_CHOICE] = "2023"
    editing.load_choice(state, policies)
    assert state[EDITOR_REVISION] == 3 and 'version "2023"' in str(state[EDITOR_TEXT])


def test_saving_a_draft_takes_the_text_just_sent(policies: Path) -> None:
    state = loaded(policies)
    typed = str(state[EDITOR_TEXT]) + "\nparam half_typed"
    state[EDITOR_COMPONENT] = {"text": typed, "revision": editing.revision(state)}
    editing.save_draft(state, policies)
    assert (policies / ".drafts" / XC / "2024.policy.draft").read_text(encoding="utf-8") == typed


def test_marks_are_the_diagnostics_in_text_order(policies: Path) -> None:
    text = (policies / XC / "2024.policy").read_text(encoding="utf-8")
    bad = replaced(text, "cost_ratio <= low_ratio_grassroots", "cost_ratio <= low_ratio_x")
    analysis = buffer.analyse(bad, policies, XC)
    # the notice's text is not in the city's sources/: W130 at its `text` in 2023.policy, where
    # the document is declared, not a mark in the 2024 text
    elsewhere = [d for d in analysis.diagnostics if d.file != analysis.path]
    assert [(d.code, Path(d.file).name) for d in elsewhere] == [("W130", "2023.policy")]
    marks = policy_editor.marks(reversed(analysis.own_diagnostics()))
    assert [m["code"] for m in marks] == ["W101", "E101"]
    unused, unknown = marks
    assert (unused["line"], unused["column"]) == (line_of(bad, "param low_ratio_grassroots"), 1)
    assert unused["severity"] == "warning" and unused["end_line"] > unused["line"]
    line = bad.split("\n")[unknown["line"] - 1]
    assert line[unknown["column"] - 1 : unknown["end_column"] - 1] == "low_ratio_x"
    # the closest name in force: the indicators' library declares low_ratio_share
    assert unknown["hint"] == "did you mean `low_ratio_share`?"
    args = policy_editor.args(bad, 7, [])
    assert (args["text"], args["revision"], args["marks"]) == (bad, 7, [])
    assert args["debounce_ms"] == policy_editor.DEBOUNCE_MS == 400


def test_the_language_comes_from_the_grammar() -> None:
    grammar = resources.files("policy_dsl").joinpath("grammar.lark").read_text(encoding="utf-8")
    spelled = set(re.findall(r'"([A-Za-z_]\w*)"', grammar))
    language = highlight.language()
    assert set(language["keywords"]) == spelled == highlight.keywords()
    assert {"policy", "param", "override", "when", "rank", "inf"} <= spelled
    literal = re.compile("|".join(f"(?:{p})" for p in language["literals"]))
    for written in ("30%", "5‰", "1200 元", "¥ 12.5", "3pt", "2 点", "2024-01-01", "1e5"):
        found = literal.match(written)
        assert found is not None and found.group() == written, written
    assert re.fullmatch(language["string"], '"一级及以下"')
    assert re.fullmatch(language["comment"], "# 注释")


def test_the_frontend_is_self_contained() -> None:
    folder = policy_editor.FRONTEND
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert 'src="editor.js"' in page and 'href="editor.css"' in page
    script = (folder / "editor.js").read_text(encoding="utf-8")
    for message in PROTOCOL:
        assert f'"{message}"' in script
    assert "apiVersion: 1" in script and "isStreamlitMessage: true" in script
    assert "compositionstart" in script and "compositionend" in script
    assert "fetch(" not in script and "XMLHttpRequest" not in script and "import(" not in script
    for html_sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
        assert html_sink not in script  # text is set as text: tests/studio/test_browser_escaping
    assert "Content-Security-Policy" in page and "script-src 'self'" in page
    for path in folder.iterdir():  # nothing is fetched from the network, nothing is built
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text), path.name


def test_the_plain_box_when_the_frontend_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert policy_editor.unavailable() is None
    monkeypatch.setattr(policy_editor, "FRONTEND", tmp_path / "nowhere")
    assert "missing" in (policy_editor.unavailable() or "")
    monkeypatch.setenv(policy_editor.PLAIN_ENV, "1")
    assert policy_editor.plain_by_default()
