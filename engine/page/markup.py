"""User text made safe to show (转义): as HTML, and as Markdown.

Every text that a policy, a data file or a user wrote — city and version names, labels,
sources, class names, hospital and case ids, and the messages that quote them — goes through
one of these functions before it is put into markup; only the markup we write ourselves is left
as it is. A `<img src=… onerror=…>` planted in a label then shows as those characters, and
loads and runs nothing.

- `html_text`: for HTML text and attribute values (the studio's text diff and marked listing,
  `report.html`, the charts' SVG).
- `markdown_text` and `markdown_code`: for what Streamlit renders as Markdown (`st.markdown`,
  captions, alerts, the labels of widgets and expanders, the cells of `st.table`). Streamlit
  reads more than CommonMark — `:red[…]`, `:material/…:`, `$…$` — so every ASCII punctuation
  character is escaped with a backslash, which CommonMark allows for each of them.
- `markdown_inert`: for Markdown written to disk for people to read (`summary.md`): only what a
  viewer would turn into an element — `<` (HTML, autolinks) and `[` (links, images) — is
  escaped, outside code spans, so the file stays readable as text.
"""

from __future__ import annotations

import html
import re

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_LINE_BREAK = re.compile(r"[\r\n]+")
_BACKTICKS = re.compile(r"`+")
_INERT = re.compile(r"([\\<\[])")
#: A code span as CommonMark finds it, within one line: a run of backticks to the next run of
#: the same length (backslashes do not count: outside code spans they are all escaped, so none
#: escapes a backtick in what is written). A span over two lines is not taken for one: a line
#: may start a block, and its text is escaped — shown with its backslashes, never as markup.
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)([^\r\n]*?)(?<!`)\1(?!`)")


def html_text(text: object) -> str:
    """`text` as HTML text or a quoted attribute value: `&`, `<`, `>`, `"` and `'` escaped."""
    return html.escape(str(text), quote=True)


def _one_line(text: object) -> str:
    """Line breaks as spaces: a new line in Markdown could start a heading, a list or a block."""
    return _LINE_BREAK.sub(" ", str(text))


def markdown_text(text: object) -> str:
    """`text` as Markdown that shows it as written: every ASCII punctuation character escaped
    (no emphasis, link, image, HTML, directive or formula is read in it), line breaks as
    spaces, no space around it (four would start a code block)."""
    return _PUNCTUATION.sub(r"\\\1", _one_line(text).strip())


def markdown_code(text: object) -> str:
    """`text` as a Markdown code span (shown as written, in a fixed-width font), whatever
    backticks it holds: the fence is one backtick longer than its longest run of them, and a
    space pads the text where Markdown would take one off (next to a backtick, or a space at
    both ends)."""
    body = _one_line(text) or " "
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(body)), default=0) + 1)
    if body[0] == "`" or body[-1] == "`" or (body[0] == body[-1] == " " and body.strip(" ")):
        body = f" {body} "
    return f"{fence}{body}{fence}"


def markdown_inert(text: object) -> str:
    """`text` with `\\`, `<` and `[` escaped outside its code spans: a Markdown viewer shows no
    HTML, link or image in it, and the rest — the code spans too — reads as written."""
    text = str(text)
    out, at = [], 0
    for span in _CODE_SPAN.finditer(text):
        out += [_INERT.sub(r"\\\1", text[at : span.start()]), span.group()]
        at = span.end()
    out.append(_INERT.sub(r"\\\1", text[at:]))
    return "".join(out)


__all__ = ["html_text", "markdown_code", "markdown_inert", "markdown_text"]
