"""The policy editor (策略编辑器): a bidirectional Streamlit custom component written by hand.

Its frontend is `studio/frontend/policy_editor/` (an `index.html`, a stylesheet and a script,
served by Streamlit from that folder: no npm build, nothing fetched from the network). It shows
the text with line numbers and the language's colours, marks each diagnostic in place (a wavy
underline, a gutter marker, the message as a tooltip, a clickable list under the text), underlines
each quote found in its document with a dotted line whose tooltip is the quote's passage (the
sentence around it, the quoted words marked), and sends the text back about `DEBOUNCE_MS` after
typing stops, so that the diagnostics follow the typing.
`editor.js` describes the messages it exchanges with Streamlit.

Python passes the text with a *revision*, a number the Editor page bumps whenever it replaces the
text itself (a version loaded, the text formatted); the component answers `{"text", "revision"}`
and `studio.editing.receive` takes the text only if the revision is still the buffer's. The
component never overwrites what is being typed with a render of the same revision.

When the component cannot be used (its files missing, `DRGPOLICY_STUDIO_PLAIN_EDITOR=1`, or the
analyst switches it off) the page falls back to a plain `st.text_area` and the marked listing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypedDict

from policy_dsl.check.citations import QuoteCheck
from policy_dsl.diagnostics import Diagnostic
from studio import highlight

FRONTEND = Path(__file__).parent / "frontend" / "policy_editor"
NAME = "policy_editor"
#: Milliseconds without typing after which the text is sent to be checked.
DEBOUNCE_MS = 400
HEIGHT = 560
#: Set to 1 to start the studio with the plain text box instead of the component.
PLAIN_ENV = "DRGPOLICY_STUDIO_PLAIN_EDITOR"


class Mark(TypedDict):
    """A diagnostic as the component draws it (lines and columns 1-based, in characters; the end
    exclusive)."""

    line: int
    column: int
    end_line: int
    end_column: int
    severity: str
    code: str
    message: str
    hint: str | None


class Note(TypedDict):
    """A quote found in its document, as the component draws it: where the `source` citation
    stands, and its passage (`marks` are [start, end) offsets of the quoted words in `text`)."""

    line: int
    column: int
    end_line: int
    end_column: int
    document: str
    text: str
    marks: list[list[int]]


def notes(found: Iterable[QuoteCheck], title: Callable[[str], str]) -> list[Note]:
    """The component's `notes` argument: each quote found, with the title of its document."""
    shown = [
        Note(
            line=q.citation.span.line,
            column=q.citation.span.column,
            end_line=q.citation.span.end_line,
            end_column=q.citation.span.end_column,
            document=title(q.citation.document),
            text=q.passage.text,
            marks=[list(m) for m in q.passage.marks],
        )
        for q in found
        if q.passage is not None
    ]
    return sorted(shown, key=lambda n: (n["line"], n["column"]))


def marks(diagnostics: Iterable[Diagnostic]) -> list[Mark]:
    """The diagnostics as the component's `marks` argument, in the order of the text."""
    found = [
        Mark(
            line=d.line,
            column=d.column,
            end_line=d.span.end_line,
            end_column=d.span.end_column,
            severity=d.severity,
            code=d.code,
            message=d.message,
            hint=d.hint,
        )
        for d in diagnostics
    ]
    return sorted(found, key=lambda m: (m["line"], m["column"]))


def unavailable() -> str | None:
    """Why the component cannot be offered (the page then shows the plain text box), or None."""
    if not (FRONTEND / "index.html").is_file():
        return f"the editor's files are missing ({FRONTEND / 'index.html'})"
    try:
        import streamlit.components.v1  # noqa: F401
    except ImportError as exc:  # pragma: no cover - streamlit without components
        return f"this Streamlit has no custom components ({exc})"
    return None


def plain_by_default() -> bool:
    return os.environ.get(PLAIN_ENV, "").strip().lower() in ("1", "true", "yes")


def args(
    text: str,
    revision: int,
    diagnostics: Iterable[Diagnostic],
    passages: Iterable[Note] = (),
) -> dict[str, Any]:
    """Everything the component is rendered with (JSON)."""
    return {
        "text": text,
        "revision": revision,
        "marks": marks(diagnostics),
        "notes": list(passages),
        "language": highlight.language(),
        "height": HEIGHT,
        "debounce_ms": DEBOUNCE_MS,
    }


def policy_editor(
    text: str,
    revision: int,
    diagnostics: Iterable[Diagnostic],
    passages: Iterable[Note] = (),
    *,
    key: str,
    on_change: Callable[[], None] | None = None,
) -> Any:
    """Draw the editor; returns the last `{"text", "revision"}` it sent (None before any)."""
    from streamlit.components.v1 import declare_component

    # Declared on each run: registration needs the running script's context (cheap, idempotent).
    component = declare_component(NAME, path=str(FRONTEND))
    return component(
        **args(text, revision, diagnostics, passages), key=key, default=None, on_change=on_change
    )


__all__ = [
    "DEBOUNCE_MS",
    "FRONTEND",
    "Mark",
    "Note",
    "args",
    "marks",
    "notes",
    "plain_by_default",
    "policy_editor",
    "unavailable",
]
