"""Facts of one parsed declaration, found once: every version of a city holds the same parsed
declarations of its base versions and library modules (a file is parsed once per process,
`loader._parsed`, and its tree is immutable), and a pass that walks a declaration's tree would
otherwise walk it again for each version that holds it."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from policy_dsl import ast as a

D = TypeVar("D", bound=a.Declaration)
R = TypeVar("R")

#: Declarations kept before the memo starts afresh (a long studio session lets go of the trees
#: of its past edits).
KEPT = 50_000


class PerDeclaration(Generic[D, R]):
    """`find(decl, where)` kept by the declaration's identity and `where` (the declaration is
    held, so that its id stays its own)."""

    def __init__(self, find: Callable[[D, Hashable], R]) -> None:
        self.find = find
        self.found: dict[int, tuple[D, Hashable, R]] = {}

    def __call__(self, decl: D, where: Hashable = None) -> R:
        held = self.found.get(id(decl))
        if held is not None and held[0] is decl and held[1] == where:
            return held[2]
        value = self.find(decl, where)
        if len(self.found) >= KEPT:
            self.found.clear()
        self.found[id(decl)] = (decl, where, value)
        return value
