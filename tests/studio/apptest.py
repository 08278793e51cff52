"""Driving the studio's pages through Streamlit's AppTest: opening the app, the arguments the
policy editor component is drawn with, what it sends when typing stops, and the texts of the
page as a reader sees them (AppTest gives the Markdown, whose escapes are taken off here)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from streamlit.testing.v1 import AppTest

from studio.state import EDITOR_COMPONENT
from tests.studio.conftest import APP

XC = "xuancheng"


def open_app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    assert not at.exception
    if page:
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception
    return at


def component(at: AppTest) -> dict[str, Any]:
    """The arguments the Editor page drew the policy editor component with (AppTest shows a
    custom component as an element it cannot drive, with its JSON arguments)."""
    found = [
        e for e in at.get("component_instance") if e.proto.component_name.endswith(".policy_editor")
    ]
    assert len(found) == 1, "the Editor page draws one policy editor"
    return dict(json.loads(found[0].proto.json_args))


def editor_on(at: AppTest, city: str, choice: str) -> str:
    at.selectbox(key="editor_city").set_value(city).run()
    at.selectbox(key="editor_choice").set_value(choice).run()
    assert not at.exception
    return str(component(at)["text"])


def type_in(at: AppTest, text: str, revision: int | None = None) -> dict[str, Any]:
    """What the component sends when typing stops — the whole text, for the revision it was
    drawn with — and the arguments the page draws it with next."""
    sent_for = component(at)["revision"] if revision is None else revision
    at.session_state[EDITOR_COMPONENT] = {"text": text, "revision": sent_for}
    at.run()
    assert not at.exception
    return component(at)


def replaced(text: str, old: str, new: str) -> str:
    """`text` with its one `old` replaced by `new`: a test that edits a shipped policy fails
    here, naming what it looked for, when the policy no longer has it (rather than going on with
    the text unchanged)."""
    assert text.count(old) == 1, (
        f"expected `{old}` once in the text, found it {text.count(old)} times"
    )
    return text.replace(old, new)


def line_of(text: str, part: str) -> int:
    return text[: text.index(part)].count("\n") + 1


#: A backslash escape of CommonMark (any ASCII punctuation).
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def shown(markdown: str) -> str:
    """A Markdown text without its backslash escapes: the characters a reader sees."""
    return _ESCAPED.sub(r"\1", markdown)


def texts(elements: object) -> list[str]:
    """The texts of Markdown elements (markdown, captions, alerts…) as a reader sees them."""
    return [shown(str(e.value)) for e in elements]  # type: ignore[attr-defined]


def labels_of(elements: Iterable[Any]) -> list[str]:
    """The labels of expanders or widgets as a reader sees them."""
    return [shown(str(e.label)) for e in elements]
