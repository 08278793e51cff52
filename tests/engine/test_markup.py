"""User text escaped for HTML and Markdown (`engine.page.markup`), checked by independent renderers:
Python's HTML parser, and markdown-it (CommonMark, raw HTML on — the most a viewer would
render). Whatever the text, it comes out as that text and as no element."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from hypothesis import example, given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from engine.page.markup import html_text, markdown_code, markdown_inert, markdown_text

PLANTED = (
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "![p](/drgpwn.png)",
    "[click](javascript:alert(1))",
    ":red[x] :material/home: $x^2$ **b** _i_ `c` ``d``",
    "&lt;img src=x&gt; \\<b> \\",
    "  # heading\n- item\n<div>x</div>",
)
#: CommonMark turns NUL into U+FFFD; no user text holds one. Half the texts are made of the
#: pieces markup is made of, so that tags, links, code spans and blocks are met often.
PIECES = ["`", "``", "<", ">", "[", "]", "(", ")", "!", "\\", "\n", "\r", " ", "    ", "*", "_"]
PIECES += ["#", "-", "&", ":", "/", "=", '"', "'", "a", "img src=x", "script", "http://x.y"]
TEXT = st.text(st.characters(blacklist_characters="\x00")) | st.lists(
    st.sampled_from(PIECES), max_size=30
).map("".join)
#: Markup the planted characters, used on their own, could only make by structure.
STRUCTURE = {"p", "em", "strong", "code", "pre", "ul", "ol", "li", "blockquote", "hr", "br"}
STRUCTURE |= {f"h{n}" for n in range(1, 7)}
COMMONMARK = MarkdownIt("commonmark")


class Parsed(HTMLParser):
    """The elements and the text of an HTML fragment."""

    def __init__(self, fragment: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text = ""
        self.feed(fragment)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text += data


def one_line(text: str) -> str:
    return re.sub(r"[\r\n]+", " ", text)


@given(TEXT)
@example(PLANTED[0])
@example(PLANTED[1])
def test_html_text_is_only_text(text: str) -> None:
    parsed = Parsed(f"<p>{html_text(text)}</p>")
    assert parsed.tags == ["p"]
    assert parsed.text == text
    attribute = Parsed(f'<p title="{html_text(text)}">x</p>')
    assert attribute.tags == ["p"] and attribute.text == "x"


@given(TEXT)
@example(PLANTED[0])
@example(PLANTED[2])
@example(PLANTED[4])
@example(PLANTED[5])
@example(PLANTED[6])
def test_markdown_text_shows_the_text_as_written(text: str) -> None:
    expected = one_line(text).strip()
    parsed = Parsed(COMMONMARK.render(markdown_text(text)))
    assert parsed.tags == (["p"] if expected else [])
    assert parsed.text.strip("\n") == expected


@given(TEXT)
@example("`")
@example(" a ")
@example("a``b")
@example(PLANTED[1])
@example(PLANTED[4])
def test_markdown_code_is_one_code_span_of_the_text(text: str) -> None:
    parsed = Parsed(COMMONMARK.render(f"x {markdown_code(text)} y"))
    assert parsed.tags == ["p", "code"]
    assert parsed.text == f"x {one_line(text) or ' '} y\n"


@given(TEXT)
@example(PLANTED[0])
@example(PLANTED[2])
@example(PLANTED[3])
@example(PLANTED[5])
@example("<http://drgpwn.example>")
@example("`a\n<script>alert(1)</script>`")
@example("`a\n\n<img src=x>`")
@example("\\`<img src=x>`")
def test_markdown_inert_makes_no_element_but_structure(text: str) -> None:
    tags = set(Parsed(COMMONMARK.render(markdown_inert(text))).tags)
    assert tags <= STRUCTURE, tags - STRUCTURE


def test_markdown_inert_leaves_ordinary_text_readable() -> None:
    assert markdown_inert("点值 117.5194 → 117.5481 (+0.02%), `H0001`") == (
        "点值 117.5194 → 117.5481 (+0.02%), `H0001`"
    )
    assert markdown_inert("<img src=x> ![p](/x.png) a\\b") == r"\<img src=x> !\[p](/x.png) a\\b"
    assert markdown_inert(r"data `C:\data\<x>` at [1, 2)") == r"data `C:\data\<x>` at \[1, 2)"


def test_the_escapes_as_written() -> None:
    assert html_text("<img src=\"x\" onerror='a'> & b") == (
        "&lt;img src=&quot;x&quot; onerror=&#x27;a&#x27;&gt; &amp; b"
    )
    assert markdown_text("<img src=x>\n![p](/x.png)") == r"\<img src\=x\> \!\[p\]\(\/x\.png\)"
    assert markdown_text("2024 新版") == "2024 新版"
    assert markdown_code("a`b") == "``a`b``"
    assert markdown_code("`a") == "`` `a ``"
