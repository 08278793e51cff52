"""The one Transformer from Lark's parse tree to the typed syntax tree (`policy_dsl.ast`)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from lark import Token, Tree
from lark.tree import Meta

from policy_dsl import ast as a
from policy_dsl.limits import number_problem


def span_of(meta: Meta | Token) -> a.Span:
    """The span of a tree node or token (empty trees have no position)."""
    if isinstance(meta, Token) or not getattr(meta, "empty", True):
        return a.Span(meta.line or 0, meta.column or 0, meta.end_line or 0, meta.end_column or 0)
    return a.NO_SPAN


def unquote(token: str) -> str:
    """The text inside a quoted STRING token, with `\\"` and `\\\\` unescaped."""
    return re.sub(r"\\(.)", r"\1", str(token)[1:-1])


#: What is not part of a number's digits: its unit (`%`, `元`, `¥`, `pt`…) and spaces.
NOT_DIGITS = re.compile(r"[^0-9.eE+-]")


def _digits(token: Token) -> Decimal:
    """The value of a number as written, refused (`InvalidNumber`) past the language's limits."""
    digits = NOT_DIGITS.sub("", str(token))
    problem = number_problem(digits)
    if problem is not None:
        raise InvalidNumber(token, *problem)
    return Decimal(digits)


class InvalidNumber(ValueError):
    """A number literal the engine cannot hold as written (too many digits, too large)."""

    def __init__(self, token: Token, problem: str, hint: str) -> None:
        super().__init__(problem)
        self.token, self.problem, self.hint = token, problem, hint


class InvalidDate(ValueError):
    """A date literal that is not a calendar date (e.g. 2024-02-30)."""

    def __init__(self, token: Token) -> None:
        super().__init__(str(token))
        self.token = token


def parse_date(token: Token) -> dt.date:
    try:
        return dt.date.fromisoformat(str(token))
    except ValueError as exc:
        raise InvalidDate(token) from exc


def _citations(children: list[Any]) -> tuple[a.Citation, ...]:
    return tuple(c for c in children if isinstance(c, a.Source | a.Assumption))


def _strings(children: list[Any]) -> list[str]:
    return [unquote(c) for c in children if isinstance(c, Token) and c.type == "STRING"]


def _names(children: list[Any]) -> list[str]:
    return [str(c) for c in children if isinstance(c, Token) and c.type == "NAME"]


def _exprs(children: list[Any]) -> list[Any]:
    skip = (
        Token | a.Source | a.Assumption | a.Grain | _TypeNote | _Where | _Unit | _Listing | _Yearly
    )
    return [c for c in children if not isinstance(c, skip)]


class ToAst:
    """Builds `ast.Policy` from the parse tree; every node gets its source span. Each rule's
    method takes the node's `meta` and its children, children first (tokens as they are: the
    rules that hold them read them). Walked here rather than by Lark's `Transformer` with
    `v_args(meta=True)`, which wraps the method anew on every node (a fresh process's first
    compile spent a third of this pass there)."""

    def transform(self, tree: Tree[Token]) -> a.Policy:
        policy: a.Policy = self._node(tree)
        return policy

    def _node(self, tree: Tree[Token]) -> Any:
        children = [self._node(c) if isinstance(c, Tree) else c for c in tree.children]
        return getattr(self, tree.data)(tree.meta, children)

    # ---- file structure ----
    def start(self, meta: Meta, ch: list[Any]) -> a.Policy:  # a policy, or a library module
        header, rest = ch[0], ch[1:]
        items = tuple(c for c in rest if not isinstance(c, a.Stage))
        stages = tuple(c for c in rest if isinstance(c, a.Stage))
        return a.Policy(header, items, stages, span=span_of(meta))

    def header(self, meta: Meta, ch: list[Any]) -> a.Header:
        fields: dict[str, Any] = {"city": str(ch[0]), "version": unquote(ch[1])}
        includes: list[str] = []
        for clause in ch[2:]:
            includes += clause.pop("includes", [])
            fields.update(clause)
        return a.Header(
            **fields,
            includes=tuple(includes),
            city_span=span_of(ch[0]),
            version_span=span_of(ch[1]),
            span=span_of(meta),
        )

    def library_header(self, meta: Meta, ch: list[Any]) -> a.Header:
        title = unquote(ch[2]) if len(ch) > 2 and ch[2] is not None else None
        return a.Header(
            str(ch[0]),
            unquote(ch[1]),
            title,
            library=True,
            city_span=span_of(ch[0]),
            version_span=span_of(ch[1]),
            span=span_of(meta),
        )

    def title(self, meta: Meta, ch: list[Any]) -> dict[str, Any]:
        return {"title": unquote(ch[0])}

    def effective(self, meta: Meta, ch: list[Any]) -> dict[str, Any]:
        dates = [parse_date(t) for t in ch]
        return {"effective_from": dates[0], "effective_to": dates[1] if len(dates) > 1 else None}

    def extends(self, meta: Meta, ch: list[Any]) -> dict[str, Any]:
        return {"extends": unquote(ch[0])}

    def method(self, meta: Meta, ch: list[Any]) -> dict[str, Any]:
        return {"method": str(ch[0])}

    def include(self, meta: Meta, ch: list[Any]) -> dict[str, Any]:
        return {"includes": [unquote(ch[0])]}

    def item(self, meta: Meta, ch: list[Any]) -> a.Declaration:
        decl = ch[-1]
        if len(ch) == 2:  # leading OVERRIDE token
            decl = _with_override(decl)
        return decl

    def stage(self, meta: Meta, ch: list[Any]) -> a.Stage:
        name, period = _names(ch[:4])[0], _names(ch[:4])[1]
        items: tuple[a.Declaration, ...] = tuple(c for c in ch if isinstance(c, a.Decl))  # type: ignore[misc]
        return a.Stage(name, _strings(ch[:4])[0], period, items, _citations(ch), span=span_of(meta))

    # ---- declarations ----
    def document(self, meta: Meta, ch: list[Any]) -> a.Document:
        fields = a.Document.in_order(c for c in ch if isinstance(c, a.DocumentField))
        return a.Document(str(ch[0]), unquote(ch[1]), fields, span=span_of(meta))

    def doc_field(self, meta: Meta, ch: list[Any]) -> a.DocumentField:
        name, token = ch
        value: a.DocumentValue
        if token.type == "STRING":
            value = a.Text(unquote(token), span=span_of(token))
        elif token.type == "DATE":
            value = a.Date(parse_date(token), span=span_of(token))
        elif token.type == "NUMBER":
            value = a.Number(_digits(token), span=span_of(token))
        else:
            value = a.Name(str(token), span=span_of(token))
        return a.DocumentField(str(name), value, span=span_of(meta))

    def input_decl(self, meta: Meta, ch: list[Any]) -> a.Input:
        table, name, type_name = _names(ch)
        grain = next((c for c in ch if isinstance(c, a.Grain)), None)
        return a.Input(
            name, table, _strings(ch)[0], grain, type_name, _citations(ch), span=span_of(meta)
        )

    def param(self, meta: Meta, ch: list[Any]) -> a.Param:
        name, type_name = _names(ch)[:2]
        declared = next((c for c in ch if isinstance(c, a.ParamRange)), None)
        value = next(c for c in _exprs(ch) if not isinstance(c, a.ParamRange))
        return a.Param(
            name,
            _strings(ch)[0],
            type_name,
            value,
            _citations(ch),
            declared,
            span=span_of(meta),
        )

    def param_range(self, meta: Meta, ch: list[Any]) -> a.ParamRange:
        open_, low, high, close = ch
        return a.ParamRange(low, open_ == "[", _finite(high), close == "]", span=span_of(meta))

    def table(self, meta: Meta, ch: list[Any]) -> a.Table:
        name, key_type, value_type = _names(ch)[:3]
        rows = tuple(c for c in ch if isinstance(c, a.RangeRow | a.KeyRow | a.DefaultRow))
        return a.Table(
            name, _strings(ch)[0], key_type, value_type, rows, _citations(ch), span=span_of(meta)
        )

    def range_row(self, meta: Meta, ch: list[Any]) -> a.RangeRow:
        open_, low, _, high, close, _, value = ch  # the grammar keeps every token of a row
        high_value = None if isinstance(high, Token) and high.type == "INF" else high
        return a.RangeRow(low, open_ == "[", high_value, close == "]", value, span=span_of(meta))

    def range_open(self, meta: Meta, ch: list[Any]) -> str:
        """A bracket of a parameter's range, as its text (a table row keeps its own tokens)."""
        return str(ch[0])

    range_close = range_open

    def key_row(self, meta: Meta, ch: list[Any]) -> a.KeyRow:
        return a.KeyRow(ch[0], ch[1], span=span_of(meta))

    def key_literal(self, meta: Meta, ch: list[Any]) -> a.Expr:
        token = ch[0]
        if isinstance(token, Token) and token.type == "NUMBER":
            return a.Number(_digits(token), span=span_of(token))
        if isinstance(token, Token) and token.type == "STRING":
            return a.Text(unquote(token), span=span_of(token))
        return token  # already a Bool

    def default_row(self, meta: Meta, ch: list[Any]) -> a.DefaultRow:
        return a.DefaultRow(ch[0], span=span_of(meta))

    def let_decl(self, meta: Meta, ch: list[Any]) -> a.Let:
        keyword, name = ch[0], str(ch[1])
        type_name = next((c for c in ch if isinstance(c, _TypeNote)), None)
        grain = next(c for c in ch if isinstance(c, a.Grain))
        expr = _exprs(ch)[0]
        return a.Let(
            name,
            _strings(ch)[0],
            type_name.name if type_name else None,
            grain,
            expr,
            _citations(ch),
            keyword == "report",
            span=span_of(meta),
        )

    def type_note(self, meta: Meta, ch: list[Any]) -> _TypeNote:
        return _TypeNote(str(ch[0]))

    def grain(self, meta: Meta, ch: list[Any]) -> a.Grain:
        return a.Grain(tuple(str(c) for c in ch), span=span_of(meta))

    def classify(self, meta: Meta, ch: list[Any]) -> a.Classify:
        classes = tuple(c for c in ch if isinstance(c, a.ClassArm))
        return a.Classify(str(ch[0]), _strings(ch)[0], classes, _citations(ch), span=span_of(meta))

    def class_arm(self, meta: Meta, ch: list[Any]) -> a.ClassArm:
        when = next(iter(_exprs(ch[2:])), None)
        return a.ClassArm(str(ch[0]), unquote(ch[1]), when, _citations(ch), span=span_of(meta))

    def formula(self, meta: Meta, ch: list[Any]) -> a.Formula:
        type_name = next((c.name for c in ch if isinstance(c, _TypeNote)), None)
        arms = tuple(c for c in ch if isinstance(c, a.FormulaArm))
        by = _names(ch)[1]
        return a.Formula(
            str(ch[0]), _strings(ch)[0], type_name, by, arms, _citations(ch), span=span_of(meta)
        )

    def formula_arm(self, meta: Meta, ch: list[Any]) -> a.FormulaArm:
        head = ch[0]
        class_name = None if head.type == "OTHERWISE" else str(head)
        return a.FormulaArm(class_name, ch[1], _citations(ch), span=span_of(meta))

    def adjust(self, meta: Meta, ch: list[Any]) -> a.Adjust:
        type_name = next((c.name for c in ch if isinstance(c, _TypeNote)), None)
        steps = tuple(c for c in ch if isinstance(c, a.Step))
        start = next(c for c in _exprs(ch) if not isinstance(c, a.Step))
        return a.Adjust(
            str(ch[0]),
            _strings(ch)[0],
            type_name,
            start,
            steps,
            _citations(ch),
            span=span_of(meta),
        )

    def step(self, meta: Meta, ch: list[Any]) -> a.Step:
        when, expr = _exprs(ch)[:2]
        return a.Step(str(ch[0]), unquote(ch[1]), when, expr, _citations(ch), span=span_of(meta))

    def invariant(self, meta: Meta, ch: list[Any]) -> a.Invariant:
        rule = next(c for c in ch if isinstance(c, a.Monotone | a.Always | a.Closes))
        return a.Invariant(str(ch[0]), unquote(ch[1]), rule, _citations(ch), span=span_of(meta))

    def indicator(self, meta: Meta, ch: list[Any]) -> a.Indicator:
        name, type_name, *grains = (c for c in ch if isinstance(c, Token) and c.type == "NAME")
        unit = next((c.text for c in ch if isinstance(c, _Unit)), None)
        listing = next((c.expr for c in ch if isinstance(c, _Listing)), None)
        expr = next(c for c in _exprs(ch) if c is not None and not isinstance(c, _Unit | _Listing))
        return a.Indicator(
            str(name),
            _strings(ch)[0],
            str(type_name),
            tuple(map(str, grains)),
            expr,
            unit,
            listing,
            _citations(ch),
            span=span_of(meta),
            grains_span=_join(span_of(grains[0]), span_of(grains[-1])) if grains else a.NO_SPAN,
        )

    def unit(self, meta: Meta, ch: list[Any]) -> _Unit:
        return _Unit(unquote(ch[0]))

    def listing(self, meta: Meta, ch: list[Any]) -> _Listing:
        return _Listing(ch[0])

    def target(self, meta: Meta, ch: list[Any]) -> a.Target:
        name, indicator, *grains = _names(ch)
        op = next(str(c) for c in ch if isinstance(c, Token) and c.type == "COMP_OP")
        return a.Target(
            name,
            _strings(ch)[0],
            indicator,
            op,
            _exprs(ch)[0],
            tuple(grains),
            _citations(ch),
            per=next((c.word for c in ch if isinstance(c, _Yearly)), None),
            span=span_of(meta),
        )

    def yearly(self, meta: Meta, ch: list[Any]) -> _Yearly:
        return _Yearly(str(ch[0]))

    def monotone(self, meta: Meta, ch: list[Any]) -> a.Monotone:
        return a.Monotone(str(ch[0]), str(ch[1]), span=span_of(meta))

    def always(self, meta: Meta, ch: list[Any]) -> a.Always:
        return a.Always(ch[0], span=span_of(meta))

    def closes(self, meta: Meta, ch: list[Any]) -> a.Closes:
        return a.Closes(str(ch[0]), str(ch[1]), span=span_of(meta))

    def source(self, meta: Meta, ch: list[Any]) -> a.Source:
        article = unquote(ch[1]) if len(ch) > 1 else None
        return a.Source(str(ch[0]), article, span=span_of(meta))

    def assumption(self, meta: Meta, ch: list[Any]) -> a.Assumption:
        return a.Assumption(unquote(ch[0]), span=span_of(meta))

    # ---- expressions ----
    def if_expr(self, meta: Meta, ch: list[Any]) -> a.If:
        first = a.Branch(ch[0], ch[1], span=_join(ch[0].span, ch[1].span))
        branches = (first, *[c for c in ch[2:-1] if isinstance(c, a.Branch)])
        return a.If(branches, ch[-1], span=span_of(meta))

    def elif_clause(self, meta: Meta, ch: list[Any]) -> a.Branch:
        return a.Branch(ch[0], ch[1], span=span_of(meta))

    def or_(self, meta: Meta, ch: list[Any]) -> a.Or:
        return a.Or(tuple(ch), span=span_of(meta))

    def and_(self, meta: Meta, ch: list[Any]) -> a.And:
        return a.And(tuple(ch), span=span_of(meta))

    def not_(self, meta: Meta, ch: list[Any]) -> a.Not:
        return a.Not(ch[0], span=span_of(meta))

    def compare(self, meta: Meta, ch: list[Any]) -> a.Compare:
        return a.Compare(str(ch[1]), ch[0], ch[2], span=span_of(meta))

    def is_class(self, meta: Meta, ch: list[Any]) -> a.IsClass:
        return a.IsClass(ch[0], str(ch[1]), span=span_of(meta))

    def is_not_class(self, meta: Meta, ch: list[Any]) -> a.IsClass:
        return a.IsClass(ch[0], str(ch[1]), negated=True, span=span_of(meta))

    def in_classes(self, meta: Meta, ch: list[Any]) -> a.InClasses:
        return a.InClasses(ch[0], tuple(str(c) for c in ch[1:]), span=span_of(meta))

    def binary(self, meta: Meta, ch: list[Any]) -> a.Binary:
        return a.Binary(str(ch[1]), ch[0], ch[2], span=span_of(meta))

    def neg(self, meta: Meta, ch: list[Any]) -> a.Neg:
        return a.Neg(ch[1], span=span_of(meta))

    def name(self, meta: Meta, ch: list[Any]) -> a.Name:
        return a.Name(str(ch[0]), span=span_of(meta))

    def stage_ref(self, meta: Meta, ch: list[Any]) -> a.StageRef:
        return a.StageRef(str(ch[0]), str(ch[1]), span=span_of(meta))

    def lookup(self, meta: Meta, ch: list[Any]) -> a.Lookup:
        return a.Lookup(str(ch[0]), ch[1], span=span_of(meta))

    def rekeyed(self, meta: Meta, ch: list[Any]) -> a.Rekeyed:
        return a.Rekeyed(str(ch[0]), tuple(ch[1:]), span=span_of(meta))

    def rekey(self, meta: Meta, ch: list[Any]) -> a.Rekey:
        return a.Rekey(str(ch[0]), ch[1], span=span_of(meta))

    def call(self, meta: Meta, ch: list[Any]) -> a.Call:
        function, rest = str(ch[0]), [c for c in ch[1:] if c is not None]
        where = rest.pop() if isinstance(ch[-1], _Where) else None
        return a.Call(
            function,
            tuple(rest),
            where.expr if isinstance(where, _Where) else None,
            span=span_of(meta),
        )

    def rank(self, meta: Meta, ch: list[Any]) -> a.Rank:
        keys = tuple(c for c in ch if isinstance(c, a.OrderKey))
        within = tuple(_names(ch))
        where = next((c.expr for c in ch if isinstance(c, _Where)), None)
        return a.Rank(keys, within, where, span=span_of(meta))

    def order_key(self, meta: Meta, ch: list[Any]) -> a.OrderKey:
        return a.OrderKey(ch[0], ch[1].type == "DESC", span=span_of(meta))

    def where(self, meta: Meta, ch: list[Any]) -> _Where:
        return _Where(ch[0])

    def current(self, meta: Meta, ch: list[Any]) -> a.Current:
        return a.Current(span=span_of(meta))

    # ---- literals ----
    def number(self, meta: Meta, ch: list[Any]) -> a.Number:
        return a.Number(_digits(ch[0]), span=span_of(meta))

    def percent(self, meta: Meta, ch: list[Any]) -> a.Number:
        return a.Number(_digits(ch[0]), "percent", span=span_of(meta))

    def permille(self, meta: Meta, ch: list[Any]) -> a.Number:
        return a.Number(_digits(ch[0]), "permille", span=span_of(meta))

    def money(self, meta: Meta, ch: list[Any]) -> a.Number:
        return a.Number(_digits(ch[0]), "money", span=span_of(meta))

    def points(self, meta: Meta, ch: list[Any]) -> a.Number:
        return a.Number(_digits(ch[0]), "points", span=span_of(meta))

    def date(self, meta: Meta, ch: list[Any]) -> a.Date:
        return a.Date(parse_date(ch[0]), span=span_of(meta))

    def string(self, meta: Meta, ch: list[Any]) -> a.Text:
        return a.Text(unquote(ch[0]), span=span_of(meta))

    def true(self, meta: Meta, ch: list[Any]) -> a.Bool:
        return a.Bool(True, span=span_of(meta))

    def false(self, meta: Meta, ch: list[Any]) -> a.Bool:
        return a.Bool(False, span=span_of(meta))


class _TypeNote:
    """Transient holder for `: type` while building a declaration."""

    def __init__(self, name: str) -> None:
        self.name = name


class _Where:
    """Transient holder for a `where` filter while building a call or rank."""

    def __init__(self, expr: a.Expr) -> None:
        self.expr = expr


class _Unit:
    """Transient holder for an indicator's `unit "…"`."""

    def __init__(self, text: str) -> None:
        self.text = text


class _Yearly:
    """Transient holder of a target's `per year` (the word as written)."""

    def __init__(self, word: str) -> None:
        self.word = word


class _Listing:
    """Transient holder for an indicator's `when` (the rows it lists)."""

    def __init__(self, expr: a.Expr) -> None:
        self.expr = expr


def _finite(bound: a.Expr | Token) -> a.Expr | None:
    """An upper bound: `None` for `inf`."""
    if isinstance(bound, Token):
        assert bound.type == "INF"
        return None
    return bound


def _join(first: a.Span, last: a.Span) -> a.Span:
    return a.Span(first.line, first.column, last.end_line, last.end_column)


def _with_override(decl: a.Decl) -> a.Decl:
    from dataclasses import replace

    return replace(decl, override=True)
