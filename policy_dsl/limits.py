"""The language's limits (语言限制): how deeply an expression may nest (E010) and what a number
may hold (E011). Past them a file gets a diagnostic, never a crash, a hang or a silently
rounded value.

Every pass over an expression — checker, lowering, formatter, semantic diff, batch engine,
explainer — follows its nesting, so the nesting is bounded once, on the parse tree and without
recursion, before any of them runs (`parser.parse`); `tests/dsl/test_limits.py` runs each pass
at the limit. A chain of `and` (or of `or`) is one level however long: a condition listing two
hundred groups is ordinary. Each `+ - * /` of a chain is a level of its own: a sum of a hundred
terms is not a formula any document writes.

The engine computes in double precision, which holds 15 significant digits: a number with more
would be rounded without a word, one of 10^309 or more would be infinity.
"""

from __future__ import annotations

import re
import sys

from lark import Tree

#: How many operators, calls and `if`s an expression may hold one inside another.
MAX_DEPTH = 100

#: The parse-tree rules that are one level of an expression; helper rules (an `elif` clause, a
#: `where`, a re-keying `group = …`) belong to the level of the expression they are part of.
LEVELS = frozenset(
    {
        "if_expr",
        "or_",
        "and_",
        "not_",
        "compare",
        "is_class",
        "is_not_class",
        "in_classes",
        "binary",
        "neg",
        "lookup",
        "rekeyed",
        "call",
        "rank",
    }
)


#: Python frames any pass may take over an expression `MAX_DEPTH` levels deep, with room to
#: spare: the most measured is about 720 (comparing two syntax trees of nested `elif`s, as
#: `fmt` does to prove it kept the meaning); `tests/dsl/test_limits.py` runs every pass within it.
PASS_FRAMES = 800

#: The recursion limit `parse` makes sure of: a pass's frames on top of a caller that is itself
#: deep in the stack (a web app's handler, a test runner). Python's default is 1,000.
RECURSION_LIMIT = 2_000


def ensure_recursion_limit() -> None:
    """Raise Python's recursion limit to `RECURSION_LIMIT` if it is lower (never lower it). The
    passes' own depth is bounded by `MAX_DEPTH`, so the C stack they use is too; this only
    leaves room for a caller that is already deep."""
    if sys.getrecursionlimit() < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)


def too_deep(tree: Tree) -> Tree | None:
    """The first expression, in reading order, that stands more than `MAX_DEPTH` levels deep
    (None when there is none). Iterative: the depth of the input does not reach Python's stack."""
    stack: list[tuple[Tree, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if node.data in LEVELS:
            depth += 1
            if depth > MAX_DEPTH:
                return node
        stack.extend((c, depth) for c in reversed(node.children) if isinstance(c, Tree))
    return None


#: Significant digits a number may have, and the power of ten it must stay below.
MAX_DIGITS = 15
MAX_POWER = 15

_NUMBER = re.compile(r"(?P<whole>\d+)(?:\.(?P<fraction>\d+))?(?:[eE](?P<exponent>[+-]?\d+))?")


def number_problem(digits: str) -> tuple[str, str] | None:
    """What is wrong with a number written as `digits` (`1200`, `0.35`, `1.5e3`: the literal
    without its unit), as (what it is, e.g. "is too large: …", and a hint); None when the engine
    holds it exactly as written.
    Works on the text, so a number of any length or exponent costs time linear in its length."""
    found = _NUMBER.fullmatch(digits)
    assert found is not None, digits
    whole, fraction = found["whole"].lstrip("0"), found["fraction"] or ""
    significant = (whole + fraction).lstrip("0").rstrip("0")
    if len(significant) > MAX_DIGITS:
        return (
            f"has {len(significant):,} significant digits: a number may have at most {MAX_DIGITS}",
            f"round it to {MAX_DIGITS} digits or fewer: the engine computes in double "
            f"precision, which keeps {MAX_DIGITS}",
        )
    if not significant:
        return None  # zero, however written
    leading = len(whole) - 1 if whole else -(len(fraction) - len(fraction.lstrip("0")) + 1)
    power = leading + _exponent(found["exponent"] or "0")
    if power >= MAX_POWER:
        return (
            f"is too large: a number must be below 10^{MAX_POWER}",
            "no amount, ratio or count of a DRG policy comes near a thousand trillion: "
            "check the digits and the exponent",
        )
    if power < -MAX_POWER:
        return (
            f"is too small: a number other than 0 must be at least 10^-{MAX_POWER}",
            "check the digits and the exponent; write 0 for nothing",
        )
    return None


def _exponent(text: str) -> int:
    """The exponent's value; one of more than six digits is taken as ±10^6, which is beyond
    both bounds either way (and never converts a long digit string to an int)."""
    digits = text.lstrip("+-").lstrip("0")
    if len(digits) > 6:
        return -(10**6) if text.startswith("-") else 10**6
    return int(text)


def abbreviated(text: str, room: int = 24) -> str:
    """A literal as a message quotes it: a long one cut in the middle, with its length."""
    if len(text) <= room:
        return text
    return f"{text[: room // 2]}…{text[-(room // 2) :]} ({len(text):,} characters)"
