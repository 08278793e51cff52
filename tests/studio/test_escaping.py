"""No user text reaches a studio page as markup (AppTest): with `<img onerror>`, `<script>` and
`![…](…)` planted in the labels and sources of a policy, a version name, hospital and case ids,
a rejected value and an example's title (`tests.studio.planted`), every page is driven through,
and every text it renders as HTML or Markdown is rendered here by independent parsers —
Python's HTML parser, and markdown-it with raw HTML on (more than Streamlit allows) — which must
find no image, script, link or event handler. Each planted text must also be on the page, as
written (the test cannot pass on a page that shows nothing). The policy editor component draws
in the browser: tests/studio/test_browser_escaping.py."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from studio import buffer, compare
from studio.state import EDITOR_COMPONENT
from tests.studio import planted
from tests.studio.apptest import XC, component, editor_on, open_app, shown

#: Fields of an element that Streamlit renders as Markdown (or, in `st.html`, as HTML).
MARKUP_FIELDS = {"body", "label", "help", "caption", "placeholder", "text"}
#: What no user text may become.
FORBIDDEN_TAGS = {"img", "script", "a", "iframe", "object", "embed", "image", "foreignobject"}
COMMONMARK = MarkdownIt("commonmark")


class Elements(HTMLParser):
    """The tags and attributes of an HTML fragment."""

    def __init__(self, fragment: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []
        self.feed(fragment)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {name: value or "" for name, value in attrs}))

    handle_startendtag = handle_starttag


def problems(html: str) -> list[str]:
    """Tags or event handlers in rendered HTML that no user text may make (a link within the
    page — difflib's `<a href="#difflib_chg_…">` — is ours)."""
    found = []
    for tag, attributes in Elements(html).found:
        inside = tag == "a" and attributes.get("href", "#").startswith("#")
        if tag in FORBIDDEN_TAGS and not inside:
            found.append(f"<{tag} {attributes}>")
        found += [f"{tag} {a}=" for a in attributes if a.startswith("on")]
    return found


def strings(message: Any) -> Iterator[str]:
    """Each string of a proto that Streamlit renders as markup."""

    def walk(value: Any, key: str) -> Iterator[str]:
        if isinstance(value, dict):
            for name, inner in value.items():
                yield from walk(inner, name)
        elif isinstance(value, list):
            for inner in value:
                yield from walk(inner, key)
        elif isinstance(value, str) and key in MARKUP_FIELDS:
            yield value

    yield from walk(MessageToDict(message), "")


def nodes(block: Any) -> Iterator[Any]:
    for child in getattr(block, "children", {}).values():
        yield child
        yield from nodes(child)


def rendered(at: AppTest) -> list[tuple[str, str, str]]:
    """Every markup text on the page: (element, field, the HTML it renders to)."""
    found = []
    for node in nodes(at._tree):
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        kind = type(node).__name__
        is_html = kind == "Html" or getattr(proto, "allow_html", False)
        for text in strings(proto):
            found.append((kind, text, text if is_html else COMMONMARK.render(text)))
        if kind == "Table":
            for cell in node.value.astype(str).to_numpy().ravel():
                found.append((kind, cell, COMMONMARK.render(cell)))
    return found


def shown_texts(at: AppTest) -> str:
    """All the page's markup texts as a reader sees them (escapes taken off)."""
    return "\n".join(shown(text) for _, text, _ in rendered(at))


def assert_no_markup_from_users(at: AppTest, *expected: str) -> None:
    """No element or handler made from user text; each of `expected` shown as written."""
    assert not at.exception, [e.value for e in at.exception]
    bad = [(kind, text, problems(html)) for kind, text, html in rendered(at) if problems(html)]
    assert not bad, bad
    page = shown_texts(at)
    for text in expected:
        assert text.strip() in page, f"{text!r} is not shown on the page"


@pytest.fixture
def planted_studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = planted.plant_policies(tmp_path / "policies")
    monkeypatch.setenv("DRGPOLICY_POLICIES", str(root))
    monkeypatch.setenv("DRGPOLICY_DATA", str(planted.plant_data(tmp_path / "data")))
    monkeypatch.setenv("DRGPOLICY_STUDIO_CACHE", str(tmp_path / "cache"))
    return root


def test_the_text_diff_escapes_its_headings() -> None:
    html = compare.text_diff_html("a\n", f"b {planted.SCRIPT}\n", planted.VERSION, "2024")
    assert problems(html) == []
    assert "&lt;img src=/drgpwn-v.png onerror=alert(3)&gt;" in html  # the heading, shown
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html  # the line (difflib escapes those)


def test_the_editor_shows_planted_names_and_messages_as_text(planted_studio: Path) -> None:
    at = open_app()
    editor_on(at, XC, planted.VERSION)  # a saved file whose header names it: read, not built
    assert component(at)["text"] == (planted_studio / XC / "planted.policy").read_text("utf-8")
    assert any(m["code"] == buffer.UNSAFE_VERSION for m in component(at)["marks"])
    assert_no_markup_from_users(at, planted.VERSION)  # in the heading and E140's message
    assert at.button(key="editor_save").disabled
    at.session_state[EDITOR_COMPONENT] = {
        "text": component(at)["text"].replace("effective", "effective  "),
        "revision": component(at)["revision"],
    }
    at.button(key="editor_draft").click().run()
    assert any("Draft not saved" in text for _, text, _ in rendered(at))
    assert_no_markup_from_users(at, planted.VERSION)


def test_the_versions_page_escapes_names_and_sources(planted_studio: Path) -> None:
    at = open_app("versions")
    at.selectbox(key="versions_city").set_value(XC).run()
    at.selectbox(key="versions_old").set_value("2024").run()
    at.selectbox(key="versions_new").set_value(planted.VERSION).run()
    diff = [str(h.proto.body) for h in at.get("html") if "drg-diff" in str(h.proto.body)]
    assert len(diff) == 1 and planted.VERSION not in diff[0]  # the heading is escaped …
    assert "&lt;img src=/drgpwn-v.png onerror=alert(3)&gt;" in diff[0]  # … not dropped
    assert_no_markup_from_users(at, planted.VERSION, planted.SOURCE)


def test_the_whatif_page_escapes_labels_ids_and_rejected_values(planted_studio: Path) -> None:
    at = open_app("whatif")
    at.selectbox(key="whatif_city").set_value(XC).run()
    at.selectbox(key="whatif_base").set_value("2023").run()
    at.selectbox(key="whatif_new").set_value("2024").run()
    next(b for b in at.button if b.label == "Run what-if").click().run()
    hospitals = [d.value for d in at.dataframe if "hospital_id" in d.value]
    assert any(planted.HOSPITAL in list(h["hospital_id"]) for h in hospitals)
    assert_no_markup_from_users(at, planted.LABEL, planted.REJECTED)
    at.selectbox(key="whatif_new").set_value(planted.VERSION).run()  # does not check: E140
    assert_no_markup_from_users(at, planted.VERSION)


def test_the_explain_page_escapes_labels_sources_and_ids(planted_studio: Path) -> None:
    at = open_app("explain")
    at.selectbox(key="explain_city").set_value(XC).run()
    at.selectbox(key="explain_version").set_value("2024").run()
    at.checkbox(key="explain_compare").check().run()
    at.selectbox(key="explain_other").set_value("2023").run()
    at.text_input(key="explain_case").input(planted.CASE)
    next(b for b in at.button if b.label == "Explain").click().run()
    assert_no_markup_from_users(at, planted.CASE, planted.HOSPITAL, planted.LABEL, planted.SOURCE)
    at.radio(key="explain_view").set_value("every step, in order").run()
    assert_no_markup_from_users(at, planted.LABEL, planted.SOURCE)


def test_the_examples_page_escapes_titles(planted_studio: Path) -> None:
    at = open_app("examples")
    at.selectbox(key="examples_city").set_value(XC).run()
    at.button(key="examples_run").click().run()
    assert_no_markup_from_users(at, planted.TITLE)
