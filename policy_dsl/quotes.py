"""Finding a quote in its document's text (引文核对), and the passage around it.

A quote is found when its normal form (`sources.normal`) occurs in the document's normal text.
An ellipsis (`……`, `…`, `...`) in a quote joins parts that must occur in that order within one
passage (a paragraph, see `sources`): `"低于……0.3倍以下"`. Finding is `str.find` over the normal
text, linear in its length; only a quote that is not found is compared with every sentence of
the document (`closest`), to point at the words it paraphrases.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache

from policy_dsl.sources import DocumentText, normal, shown, shown_with_index

#: How much more the closest sentence must hold of a quote than the quote of it (F-beta).
RECALL_WEIGHT = 2

#: What splits a quote into parts: an ellipsis of any spelling.
ELLIPSIS = re.compile(r"…+|⋯+|\.{3,}|．{3,}|。{3,}")


@dataclass(frozen=True)
class Passage:
    """The sentences of a document around a quote, as the document words them (white space
    collapsed), with the quoted parts marked: `marks` are (start, end) offsets in `text`."""

    text: str
    marks: tuple[tuple[int, int], ...]

    def marked(self, opening: str = "【", closing: str = "】") -> str:
        """The text with each quoted part between `opening` and `closing`."""
        out, at = [], 0
        for start, end in self.marks:
            out += [self.text[at:start], opening, self.text[start:end], closing]
            at = end
        return "".join([*out, self.text[at:]])


def parts(quote: str) -> list[str]:
    """The normal form of each part of a quote (an ellipsis splits it; empty parts dropped)."""
    return [p for p in (normal(part) for part in ELLIPSIS.split(quote)) if p]


def find(quote: str, document: DocumentText) -> tuple[tuple[int, int], ...] | None:
    """Where each part of `quote` stands in the document (normal offsets), or None when it is
    not there. A quote with nothing to look for (empty, only an ellipsis) is not found."""
    wanted = parts(quote)
    if not wanted:
        return None
    text = document.normal
    start = text.find(wanted[0])
    while start >= 0:
        found = _rest(wanted, start, document)
        if found is not None:
            return found
        start = text.find(wanted[0], start + 1)
    return None


def _rest(
    wanted: list[str], start: int, document: DocumentText
) -> tuple[tuple[int, int], ...] | None:
    """The parts after the first, each found after the one before, within the first's passage
    (a quote of one part may run over passages: a page break is no end of a sentence)."""
    spans = [(start, start + len(wanted[0]))]
    limit = document.passage_end(start) if len(wanted) > 1 else len(document.normal)
    for part in wanted[1:]:
        at = document.normal.find(part, spans[-1][1], limit)
        if at < 0:
            return None
        spans.append((at, at + len(part)))
    return tuple(spans)


def passage(document: DocumentText, spans: tuple[tuple[int, int], ...]) -> Passage:
    """The sentences holding the found parts, as the document words them, the parts marked."""
    first, last = document.sentence_bounds(spans[0][0], spans[-1][1])
    start, end = document.original_span(first, last)
    text, index = shown_with_index(document.original[start:end])
    marks = []
    for a, b in spans:
        begin, stop = document.original_span(a, b)
        marks.append((index[begin - start], index[stop - start]))
    return Passage(text, tuple(marks))


def closest(quote: str, document: DocumentText) -> str | None:
    """The sentence of the document most like `quote`, shown; None if none shares a pair of
    characters with it. Likeness is the F-score of the quote's character pairs (bigrams) found
    in the sentence, recall weighted `RECALL_WEIGHT` times precision: a paraphrase shares most
    of its pairs with the sentence it rewords, however long that sentence is."""
    wanted = _bigrams("".join(parts(quote)))
    best, best_score = None, 0.0
    for bounds, sentence in _sentence_bigrams(document):
        common = len(wanted & sentence)
        if common:
            recall, precision = common / len(wanted), common / len(sentence)
            beta2 = RECALL_WEIGHT**2
            score = (1 + beta2) * precision * recall / (beta2 * precision + recall)
            if score > best_score:
                best, best_score = bounds, score
    if best is None:
        return None
    start, end = document.original_span(*best)
    return shown(document.original[start:end])


@lru_cache(maxsize=16)
def _sentence_bigrams(document: DocumentText) -> list[tuple[tuple[int, int], set[str]]]:
    """Each sentence of a document (normal offsets) with its character pairs, built once."""
    bounds = [*document.sentences, len(document.normal)]
    pairs = itertools.pairwise(bounds)
    return [((a, b), _bigrams(document.normal[a:b])) for a, b in pairs if b - a > 1]


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


__all__ = ["ELLIPSIS", "Passage", "closest", "find", "parts", "passage"]
