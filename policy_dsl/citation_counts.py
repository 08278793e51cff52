"""How a policy file rests on its documents: of its rules (each parameter, table, input,
definition, class, formula arm and adjustment step), how many quote a document (`source`), how
many of those also rest on an assumption (the document names the rule, the author fixes a value
or a reading), and how many rest only on the author's assumptions (`assumption`) — the figures
an analyst reads before signing a file off (README, "The shipped cities")."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from policy_dsl import ast as a


@dataclass(frozen=True)
class CitationCounts:
    """Rules by what they rest on, and the citations themselves."""

    sourced: int  # rules with at least one `source`
    sourced_assumed: int  # of those, rules with an `assumption` too
    assumed: int  # rules with assumptions only
    uncited: int  # plain computations (a ratio, a sum) that cite nothing
    sources: int  # `source` lines
    assumptions: int  # `assumption` lines


def rules(policy: a.Policy) -> Iterator[tuple[str, tuple[a.Citation, ...]]]:
    """Every rule of the file with its citations: a classification's classes, a formula's arms
    and an adjustment's steps count one by one (the declaration's own citations go with it)."""
    for _, decl in policy.declarations():
        match decl:
            case a.Document() | a.Invariant():
                continue
            case a.Classify(classes=parts) | a.Formula(arms=parts) | a.Adjust(steps=parts):
                if decl.citations:
                    yield decl.name, decl.citations
                for part in parts:
                    yield f"{decl.name}/{part_name(part)}", part.citations
            case _:
                yield decl.name, decl.citations


def part_name(part: a.ClassArm | a.FormulaArm | a.Step) -> str:
    if isinstance(part, a.FormulaArm):
        return part.class_name or "otherwise"
    return part.name


def citation_counts(policy: a.Policy) -> CitationCounts:
    """The counts of one file (its own declarations; a base version counts in its own file)."""
    sourced = sourced_assumed = assumed = uncited = sources = assumptions = 0
    for _, citations in rules(policy):
        n_sources = sum(isinstance(c, a.Source) for c in citations)
        sources += n_sources
        assumptions += len(citations) - n_sources
        if n_sources:
            sourced += 1
            if len(citations) > n_sources:
                sourced_assumed += 1
        elif citations:
            assumed += 1
        else:
            uncited += 1
    return CitationCounts(sourced, sourced_assumed, assumed, uncited, sources, assumptions)
