"""What declarations read (引用): the names each one reads or cites, and an order of declarations in
which each comes after those it reads — found without recursion over the chain, so a thousand
definitions each reading the one declared after it are no deeper for Python than one.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import fields
from typing import TypeVar

from policy_dsl import ast as a
from policy_dsl.loader import Entry
from policy_dsl.per_declaration import PerDeclaration

#: A declaration's place: its stage (None = shared) and name.
Key = tuple[str | None, str]

K = TypeVar("K", bound=Hashable)


def references(entry: Entry) -> frozenset[Key]:
    """The names a declaration reads or cites, each with the stage to look it up in."""
    return _references(entry.decl, entry.stage)


def _find_references(decl: a.Declaration, stage: Hashable) -> frozenset[Key]:
    assert stage is None or isinstance(stage, str)
    found: set[Key] = set()
    _collect(decl, stage, found)
    found.discard((stage, decl.name))
    return frozenset(found)


#: Found once per declaration and stage (`per_declaration`).
_references = PerDeclaration(_find_references)


def _collect(node: object, stage: str | None, found: set[Key]) -> None:
    if isinstance(node, tuple):
        for item in node:
            _collect(item, stage, found)
        return
    if not isinstance(node, a.Node):
        return
    match node:
        case a.StageRef():
            found.add((node.stage, node.name))
        case a.Name() | a.Rekeyed():
            found.add((stage, node.name))
        case a.Lookup():
            found.add((stage, node.table))
        case a.Source():
            found.add((stage, node.document))
        case a.Formula():
            found.add((stage, node.by))
        case a.Monotone() | a.Closes():
            found.add((stage, node.target))
    if isinstance(node, a.Closes):
        found.add((stage, node.budget))
    for item in fields(node):
        if item.name != "span":
            _collect(getattr(node, item.name), stage, found)


def dependency_first(roots: Iterable[K], needs: Callable[[K], Iterable[K]]) -> list[K]:
    """`roots` and what they need, each after what it needs: depth first, in the order given
    (so the result is the same on every run); a circle is cut where it closes (the checker
    reports it, E401). Iterative: the length of a chain of needs does not reach Python's stack."""
    done: set[K] = set()
    order: list[K] = []
    for root in roots:
        if root in done:
            continue
        done.add(root)
        stack = [(root, iter(needs(root)))]
        while stack:
            key, pending = stack[-1]
            for need in pending:
                if need not in done:
                    done.add(need)
                    stack.append((need, iter(needs(need))))
                    break
            else:
                stack.pop()
                order.append(key)
    return order
