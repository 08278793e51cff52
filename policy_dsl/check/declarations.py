"""Checks of single declarations that need no type inference: the header, names, citations,
documents, inputs, parameter values, stages and invariants."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from policy_dsl import ast as a
from policy_dsl.builtins import CORE_FIELDS, INPUT_TABLES
from policy_dsl.check.infer import Info
from policy_dsl.check.scope import Scope, did_you_mean
from policy_dsl.diagnostics import Diagnostic
from policy_dsl.loader import Entry, PolicyFile
from policy_dsl.names import RULE, name_problem
from policy_dsl.per_declaration import PerDeclaration
from policy_dsl.types import LITERAL_UNITS, TYPE_NAMES, Type
from policy_dsl.unparse import number_text

METHODS = ("points", "rate")
PERIODS = ("month", "year")
Report = Callable[[Diagnostic], None]


def check_header(file: PolicyFile, report: Report) -> None:
    header = file.header
    at = file.source.diagnostic
    if header.library:
        return  # a module's name is its file's (`policy_dsl.library`); it has no dates, method
    for code, what, name, span, example in (
        ("E141", "city", header.city, header.city_span, "policy xuancheng"),
        ("E140", "version", header.version, header.version_span, 'version "2025"'),
    ):
        if (problem := name_problem(name, what)) is not None:
            hint = f"a {what} name is part of file and folder names: use {RULE}, e.g. `{example}`"
            report(at(code, problem, span, hint))
    if header.effective_from is None:
        report(
            at(
                "E120",
                "the policy has no `effective` date",
                header.span,
                "add `effective 2024-01-01` (and `to 2024-12-31` if it ends)",
            )
        )
    if header.method not in METHODS:
        got = (
            f"`method {header.method}` is not a payment method"
            if header.method
            else ("the policy does not say its payment method")
        )
        report(
            at("E121", got, header.span, "write `method points` (点数法) or `method rate` (费率法)")
        )
    start, end = header.effective_from, header.effective_to
    if start and end and end < start:
        report(
            at(
                "E122",
                f"the policy ends ({end}) before it starts ({start})",
                header.span,
                "swap the dates or fix the year",
            )
        )


def check_names(scope: Scope, report: Report) -> None:
    """A core input field redeclared (E104). A reserved word used as a name (E105) is refused
    by the parser: the lexer reads it as the keyword."""
    for entry in scope.resolved.entries:
        if entry.decl.name in CORE_FIELDS and not isinstance(entry.decl, a.Document):
            report(
                entry.file.source.diagnostic(
                    "E104",
                    f"`{entry.decl.name}` is a core input field and cannot be redeclared",
                    entry.decl.span,
                    "choose another name; the field is available as it is",
                )
            )


def check_citations(scope: Scope, report: Report) -> None:
    documents = scope.documents()
    for entry in scope.resolved.entries:
        for _node, citations in cited(entry.decl):
            for citation in citations:
                if isinstance(citation, a.Source) and citation.document not in documents:
                    report(
                        entry.file.source.diagnostic(
                            "E106",
                            f"`source {citation.document}`: no such document",
                            citation.span,
                            did_you_mean(citation.document, documents)
                            or 'declare it with `document <name> "title"` and its fields',
                        )
                    )
        _check_sourced(entry, report)


def _taken(tree: a.Policy, decl: a.Declaration, hint: str) -> str:
    """The hint of an uncited declaration directly followed by one whose citation stands on a
    line of its own: a `param` inserted between another and its `assumption` takes it (a
    citation belongs to the declaration just before it), and the first one is uncited."""
    taker = next((d for _, d in tree.declarations() if d.span.line == decl.span.end_line + 1), None)
    if taker is None or isinstance(taker, a.Document) or not taker.citations:
        return hint
    citation = taker.citations[0]
    if citation.span.line <= taker.span.line:
        return hint
    kind = "source" if isinstance(citation, a.Source) else "assumption"
    return (
        f"the `{kind}` on line {citation.span.line} belongs to `{taker.name}` (line "
        f"{taker.span.line}), the declaration just before it: if it is `{decl.name}`'s, move "
        f"`{taker.name}` below it; else {hint}"
    )


def cited(decl: a.Declaration) -> Iterator[tuple[a.Node, tuple[a.Citation, ...]]]:
    """Each part of a declaration that carries citations (itself, its classes, arms, steps),
    with them."""
    if not isinstance(decl, a.Document):
        yield decl, decl.citations
    for part in (
        getattr(decl, "classes", ()) + getattr(decl, "arms", ()) + getattr(decl, "steps", ())
    ):
        yield part, part.citations


#: Declarations that must cite a document or state an assumption: a number a document fixes,
#: an indicator a document (or the national evaluation) defines, a target a document sets.
SOURCED = (a.Param, a.Table, a.Indicator, a.Target)


def _check_sourced(entry: Entry, report: Report) -> None:
    decl = entry.decl
    if isinstance(decl, SOURCED) and not decl.citations:
        fixes = "defines it" if isinstance(decl, a.Indicator) else "fixes it"
        hint = f'add `source <document> "article"`, or `assumption "why"` if no document {fixes}'
        report(
            entry.file.source.diagnostic(
                "E110",
                f"`{decl.name}` has no source",
                decl.span,
                _taken(entry.file.tree, decl, hint),
            )
        )
        return
    if isinstance(decl, a.Param | a.Table | a.Document | a.Input) or decl.citations:
        return
    for number in _uncited_numbers(decl):
        report(
            entry.file.source.diagnostic(
                "W103",
                f"a number in `{decl.name}` has no source: `{number_text(number)}`",
                number.span,
                'cite the document with `source`, or say `assumption "why"`',
            )
        )


def _find_uncited_numbers(decl: a.Declaration, _: object) -> tuple[a.Number, ...]:
    """The first number that fixes something in each uncited part of an uncited declaration: a
    class, formula arm or step without a citation of its own, and the body outside them."""
    parts = [part for part, citations in cited(decl) if part is not decl and not citations]
    numbers = (_first_number(node) for node in (*parts, _body(decl)))
    return tuple(number for number in numbers if number is not None)


#: Found once per declaration (`per_declaration`).
_uncited_numbers = PerDeclaration(_find_uncited_numbers)


def _body(decl: a.Declaration) -> object:
    """What a declaration computes outside its cited parts: a definition's formula, an
    adjustment's start value, an invariant's rule."""
    return tuple(
        getattr(decl, f)
        for f in decl.__dataclass_fields__
        if f not in ("span", "classes", "arms", "steps", "citations")
    )


def _first_number(node: object) -> a.Number | None:
    """The first literal number that is not 0 or 1 (100%): a number a policy fixes."""
    if isinstance(node, a.Number):
        return None if _neutral(node) else node
    if isinstance(node, a.Node):
        node = tuple(getattr(node, f) for f in node.__dataclass_fields__ if f != "span")
    if isinstance(node, tuple):
        return next((n for n in map(_first_number, node) if n is not None), None)
    return None


def _neutral(number: a.Number) -> bool:
    """0 in any unit, and 1 as a plain number or a share (100%, 1000‰): no rule is fixed by it."""
    if number.value == 0:
        return True
    scale = {"number": 1, "percent": 100, "permille": 1000}.get(number.kind)
    return scale is not None and number.value == scale


def check_inputs(scope: Scope, report: Report) -> None:
    for entry in scope.resolved.entries:
        decl = entry.decl
        if isinstance(decl, a.Input) and decl.table not in INPUT_TABLES:
            report(
                entry.file.source.diagnostic(
                    "E114",
                    f"`input {decl.table}`: no such input table",
                    decl.span,
                    did_you_mean(decl.table, INPUT_TABLES) or f"tables: {', '.join(INPUT_TABLES)}",
                )
            )


def literal_type(expr: a.Expr) -> tuple[Type, bool] | None:
    """The type of a literal and whether it is a bare number that takes a declared unit."""
    if isinstance(expr, a.Neg):
        return literal_type(expr.operand)
    if isinstance(expr, a.Number):
        return Type("number", LITERAL_UNITS[expr.kind]), expr.kind == "number"
    if isinstance(expr, a.Bool):
        return TYPE_NAMES["bool"], False
    if isinstance(expr, a.Text):
        return TYPE_NAMES["text"], False
    if isinstance(expr, a.Date):
        return TYPE_NAMES["date"], False
    return None


def check_literal(
    expr: a.Expr, expected: Type | None, entry: Entry, what: str, report: Report
) -> None:
    """A parameter value, table key or table value must fit its declared type."""
    found = literal_type(expr)
    if expected is None or found is None:
        return
    typ, adopts = found
    if typ.same(expected) or (adopts and expected.kind == "number"):
        return
    code = "E303" if typ.kind == expected.kind else "E302"
    report(
        entry.file.source.diagnostic(
            code,
            f"{what} is {expected}, but this value is {typ}",
            expr.span,
            "write the value in the declared unit",
        )
    )


def check_stages(scope: Scope, report: Report) -> None:
    for info in scope.resolved.stages:
        if info.period not in PERIODS:
            report(
                info.file.source.diagnostic(
                    "E115",
                    f"stage `{info.name}`: `per {info.period}` is not a period",
                    info.node.span,
                    "write `per month` or `per year`",
                )
            )


def check_invariant(entry: Entry, lookup: Callable[[str], Info | None], report: Report) -> None:
    decl = entry.decl
    assert isinstance(decl, a.Invariant)
    rule = decl.rule
    problem = None
    names = [rule.target] if isinstance(rule, a.Monotone) else []
    names += [rule.target, rule.budget] if isinstance(rule, a.Closes) else []
    info = {name: lookup(name) for name in names}
    unknown = [name for name, found in info.items() if found is None]
    for name in unknown:  # E101, as an unknown name anywhere (a missing base's, reported once)
        report(
            entry.file.source.diagnostic(
                "E101",
                f"invariant `{decl.name}`: unknown name `{name}`",
                rule.span,
                "name a definition of this policy or of the version it extends",
            )
        )
    if unknown:
        return
    if isinstance(rule, a.Monotone):
        target, field = info[rule.target], CORE_FIELDS.get(rule.field)
        if target is None or target.type.kind != "number":
            problem = f"`{rule.target}` is not a numeric definition"
        elif field is None or field.table != "cases" or field.type.kind != "number":
            problem = f"`{rule.field}` is not a numeric case field"
    elif isinstance(rule, a.Closes):
        target, budget = info[rule.target], info[rule.budget]
        if target is None or budget is None:
            return  # E101 above
        if not (target.type.same(TYPE_NAMES["money"]) and budget.type.same(TYPE_NAMES["money"])):
            problem = "`closes` compares money with money"
    if problem:
        report(
            entry.file.source.diagnostic(
                "E901",
                f"invariant `{decl.name}`: {problem}",
                rule.span,
                INVARIANT_HINTS[type(rule)],
            )
        )


#: How each kind of invariant is written, for the hint of E901.
INVARIANT_HINTS: dict[type, str] = {
    a.Monotone: "write `monotone <definition> in <case field>`, e.g. `monotone case_points in "
    "total_cost`",
    a.Closes: "write `closes <payment> to <budget>` with two money definitions, e.g. "
    "`closes payment to period_fund`",
    a.Always: "write `always <condition>`, e.g. `always case_points >= 0 pt`",
}
