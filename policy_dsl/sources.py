"""Documents' texts (来源文件原文): where a `document`'s `text` is found, and the text read and
made comparable with the quotes that cite it.

Search path, in order: `<the policy file's folder>/sources/`, each folder given with `--sources
DIR`, then the folders in `DRGPOLICY_SOURCES` (separated by `os.pathsep`). `check`, `explain`, a
settlement job and the studio all look a document up here.

Normalisation (`normal`) makes a quote and the text compare equal when they differ only where
the conversion of a PDF, slides or web page to text differs from the author's words:
  * every white-space character is dropped (converters break lines mid-sentence and put spaces
    around Latin words and numbers);
  * `*` is dropped (bold markup of converted slides: `**七个维度**`);
  * full-width ASCII forms U+FF01–U+FF5E become half-width (`０.３` is `0.3`, `％` is `%`);
  * the punctuation of `PUNCTUATION` is folded across widths and styles: `，`/`,`  `；`/`;`
    `：`/`:`  `（`/`(`  `）`/`)`  `“”`/`"`  `‘’`/`'`  `〔〕`/`【】`/`[]`  dashes/`-`
    (`、`, `。` and `《》` stay themselves: they have no half-width twin);
  * Latin letters are compared without case.
Each character of the normal text remembers its offset in the original, so a match is shown in
the document's own words.

Passages: a quote with an ellipsis must find its parts, in order, within one passage (see
`quotes`). A passage is a paragraph rebuilt from the converter's lines (`_joins`). Blank lines
count for nothing (one converter puts one between every two lines of a paragraph). A line runs
on into the next when it ends in a pause (`，` `、` `：`); otherwise it does not when it ends a
sentence (`。！？；`), is short (under `SHORT_LINE` columns: a title, a bullet of a slide), or
the next line starts a heading (`一、`, `（二）`, `3.`, `#`, `第五条`) or is a short line ending
in a letter or digit (a title). Measured on the five source texts (tests/dsl/test_quotes.py):
real quotes across the converter's line and page breaks are found, parts taken from unrelated
paragraphs are not.
"""

from __future__ import annotations

import os
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath, PureWindowsPath

#: The folder next to a policy file where its documents' texts live.
FOLDER = "sources"
#: The environment variable listing more folders to search.
ENV = "DRGPOLICY_SOURCES"

#: Punctuation folded to one form (after full-width ASCII became half-width).
PUNCTUATION: dict[str, str] = {
    "“": '"',
    "”": '"',
    "„": '"',
    "〝": '"',
    "〞": '"',
    "‘": "'",
    "’": "'",
    "〔": "[",
    "〕": "]",
    "【": "[",
    "】": "]",
    "–": "-",
    "—": "-",
    "―": "-",
    "‐": "-",
    "‑": "-",
    "−": "-",
    "〜": "~",
    "・": "·",
}

#: Characters dropped besides white space: the bold markup of converted slides.
DROPPED = frozenset("*")

#: Characters that end a sentence (after normalisation).
SENTENCE_ENDS = frozenset("。!?;")
#: A sentence end in the original text, with the closing quotes and brackets that follow it.
SENTENCE_END = re.compile(r"[。！？；!?;][”’）)\]】〕》」』]*")
#: Characters after which a sentence goes on (a line ending in one runs on into the next).
PAUSES = frozenset(",、:")
#: What may follow a sentence end and still belong to the sentence.
CLOSERS = frozenset("\"')]》」』")
#: A line starting a heading or an item: `一、` `（二）` `3.` `3、` `#` `- ` `第五条`.
HEADING = re.compile(
    r"\s*(#|-\s|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[）)]|\d+[.、．]\D"
    r"|第[一二三四五六七八九十百\d]+[条章节])"
)
#: Display width under which a line without a sentence end is a heading, not a wrapped line.
SHORT_LINE = 40


@dataclass(frozen=True)
class SourceFolders:
    """The folders searched after the policy's own `sources/` (from `--sources`, then
    `DRGPOLICY_SOURCES`)."""

    given: tuple[Path, ...] = ()

    def for_policy(self, policy_file: Path | str) -> tuple[Path, ...]:
        """Every folder searched for a document declared in `policy_file`, in order."""
        return tuple(dict.fromkeys((Path(policy_file).parent / FOLDER, *self.given)))


def source_folders(
    given: Iterable[Path | str] = (), environ: Mapping[str, str] | None = None
) -> SourceFolders:
    """The search path: the folders `given` (`--sources`), then those of `DRGPOLICY_SOURCES`."""
    environ = os.environ if environ is None else environ
    listed = [p for p in environ.get(ENV, "").split(os.pathsep) if p.strip()]
    folders = [Path(p) for p in [*given, *listed]]
    return SourceFolders(tuple(dict.fromkeys(folders)))


def unsafe_text_path(name: str) -> str | None:
    """Why `name` cannot be a `text` (None when it is a relative path that stays inside a
    sources folder)."""
    if not name.strip():
        return "it is empty"
    if PurePosixPath(name).is_absolute() or PureWindowsPath(name).anchor:
        return "it is an absolute path"
    if ".." in re.split(r"[\\/]", name):
        return "it climbs out of the folder with `..`"
    return None


def find_text(name: str, folders: Sequence[Path]) -> Path | None:
    """The first file `name` under one of `folders` that stays inside it (no symbolic link out)."""
    if unsafe_text_path(name) is not None:
        return None
    for folder in folders:
        candidate = folder / name
        if candidate.is_file() and candidate.resolve().is_relative_to(folder.resolve()):
            return candidate
    return None


# ---- normalisation ---------------------------------------------------------------------------


def _fold(ch: str) -> str:
    if ch.isspace() or ch in DROPPED:
        return ""
    code = ord(ch)
    if 0xFF01 <= code <= 0xFF5E:
        ch = chr(code - 0xFEE0)
    return PUNCTUATION.get(ch, ch).lower()


def normal(text: str) -> str:
    """`text` as quotes and documents are compared (see the module's docstring)."""
    return "".join(map(_fold, text))


def normal_with_offsets(text: str) -> tuple[str, list[int]]:
    """The normal text, and for each of its characters the offset of its origin in `text`."""
    chars: list[str] = []
    offsets: list[int] = []
    for index, ch in enumerate(text):
        folded = _fold(ch)
        chars.append(folded)
        offsets.extend([index] * len(folded))
    return "".join(chars), offsets


def width(text: str) -> int:
    """Display width: CJK and full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def shown(text: str) -> str:
    """Original text as an analyst reads and copies it: `*` markup dropped, a white-space run
    dropped next to a CJK character (the converter's line breaks) and one space elsewhere."""
    return shown_with_index(text)[0]


def shown_with_index(text: str) -> tuple[str, list[int]]:
    """`shown(text)`, and for each offset of `text` (and its end) the offset it becomes."""
    kept = [(i, ch) for i, ch in enumerate(text) if ch not in DROPPED]
    out: list[str] = []
    index = [0] * (len(text) + 1)
    previous = ""
    for k, (i, ch) in enumerate(kept):
        index[i] = len(out)
        if not ch.isspace():
            out.append(ch)
            previous = ch
            continue
        if k > 0 and kept[k - 1][1].isspace():
            continue  # inside a run of white space: its first character decided
        following = next((c for _, c in kept[k + 1 :] if not c.isspace()), "")
        if previous and following and width(previous + following) == 2:
            out.append(" ")
    for i in range(len(text) + 1):  # dropped characters and the end map to what follows
        if i == len(text) or text[i] in DROPPED:
            index[i] = len(out) if i == len(text) else -1
    return "".join(out), _filled(index, len(out))


def _filled(index: list[int], end: int) -> list[int]:
    """`index` with each -1 (a dropped character) replaced by the next known offset."""
    following = end
    for i in range(len(index) - 1, -1, -1):
        if index[i] < 0:
            index[i] = following
        else:
            following = index[i]
    return index


# ---- a document's text -----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class DocumentText:
    """A document's text: the original, its normal form with the offset of each character in
    the original, where each passage and each sentence starts (normal offsets). Read once per
    process (`read_text`): one text is one object, compared and hashed by identity."""

    path: Path
    original: str
    normal: str
    offsets: tuple[int, ...]
    passages: tuple[int, ...]
    sentences: tuple[int, ...]

    def passage_end(self, at: int) -> int:
        """The normal offset where the passage holding `at` ends."""
        index = bisect_right(self.passages, at)
        return self.passages[index] if index < len(self.passages) else len(self.normal)

    def sentence_bounds(self, start: int, end: int) -> tuple[int, int]:
        """The normal offsets of the sentences that hold `start` … `end` (end exclusive)."""
        first = self.sentences[max(bisect_right(self.sentences, start) - 1, 0)]
        index = bisect_right(self.sentences, max(end - 1, start))
        last = self.sentences[index] if index < len(self.sentences) else len(self.normal)
        return first, last

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original offsets of normal `start` … `end` (end exclusive)."""
        return self.offsets[start], self.offsets[end - 1] + 1


class UnreadableText(OSError):
    """A text file that cannot be read as UTF-8 text."""


def read_text(path: Path) -> DocumentText:
    """A document's text, read once per process while the file stays unchanged; raises
    `UnreadableText` naming why it cannot be read."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise UnreadableText(exc.strerror or str(exc)) from None
    return _read(path.resolve(), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _read(path: Path, mtime_ns: int, size: int) -> DocumentText:
    try:
        original = path.read_text(encoding="utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise UnreadableText("it is not UTF-8 text") from None
    except OSError as exc:
        raise UnreadableText(exc.strerror or str(exc)) from None
    text, offsets = normal_with_offsets(original)
    passages = _passage_starts(original, offsets)
    sentences = _sentence_starts(original, offsets, passages)
    return DocumentText(path, original, text, tuple(offsets), passages, sentences)


def _passage_starts(original: str, offsets: list[int]) -> tuple[int, ...]:
    """Normal offsets where a passage starts: where each joined run of lines begins."""
    lines = [(m.start(), m.group()) for m in re.finditer(r"[^\n]+", original) if m.group().strip()]
    starts = [start for i, (start, _) in enumerate(lines) if i == 0 or not _joins(lines, i - 1)]
    return tuple(sorted({_normal_index(offsets, start) for start in starts} - {len(offsets)}))


def _joins(lines: list[tuple[int, str]], i: int) -> bool:
    """Whether line `i` runs on into line `i + 1` (one paragraph)."""
    line, following = lines[i][1].strip(), lines[i + 1][1]
    if HEADING.match(following) or _ends_sentence(line):
        return False
    if normal(line)[-1:] in PAUSES:
        return True
    return width(line) >= SHORT_LINE and not _is_heading(following.strip())


def _is_heading(line: str) -> bool:
    """A short line ending in a letter or digit: a title, not the end of a wrapped sentence."""
    return width(line) < SHORT_LINE and normal(line)[-1:].isalnum()


def _ends_sentence(line: str) -> bool:
    folded = normal(line).rstrip("".join(CLOSERS))
    return bool(folded) and folded[-1] in SENTENCE_ENDS


def _normal_index(offsets: list[int], original_index: int) -> int:
    """The first normal offset whose origin is at or after `original_index`."""
    return bisect_right(offsets, original_index - 1)


def _sentence_starts(
    original: str, offsets: list[int], passages: tuple[int, ...]
) -> tuple[int, ...]:
    """Normal offsets where a sentence starts: each passage, and after each sentence end (read
    in the original, where a closing quote `”` differs from an opening one)."""
    starts = set(passages) | {0}
    for match in SENTENCE_END.finditer(original):
        starts.add(_normal_index(offsets, match.end()))
    starts.discard(len(offsets))
    return tuple(sorted(starts))


__all__ = [
    "ENV",
    "FOLDER",
    "PUNCTUATION",
    "DocumentText",
    "SourceFolders",
    "UnreadableText",
    "find_text",
    "normal",
    "normal_with_offsets",
    "read_text",
    "shown",
    "shown_with_index",
    "source_folders",
    "unsafe_text_path",
    "width",
]
