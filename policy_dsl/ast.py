"""Typed syntax tree of a policy file: frozen, slotted dataclasses, each carrying its source span.

Spans never take part in equality, so `parse(format(tree)) == tree` compares meaning, not layout.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal


@dataclass(frozen=True, slots=True)
class Span:
    """Where a node stands in its file (1-based lines and columns, end exclusive)."""

    line: int
    column: int
    end_line: int
    end_column: int


NO_SPAN = Span(0, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class Node:
    """Base of every node."""

    span: Span = field(default=NO_SPAN, compare=False, kw_only=True, repr=False)


# ---- expressions -------------------------------------------------------------

LiteralKind = Literal["number", "percent", "permille", "money", "points"]


@dataclass(frozen=True, slots=True)
class Number(Node):
    """A numeric literal as written: `1.5`, `80%`, `6‰`, `¥1200`, `100 pt`."""

    value: Decimal
    kind: LiteralKind = "number"


@dataclass(frozen=True, slots=True)
class Bool(Node):
    """`true` or `false`."""

    value: bool


@dataclass(frozen=True, slots=True)
class Text(Node):
    """A quoted text literal."""

    value: str


@dataclass(frozen=True, slots=True)
class Date(Node):
    """A calendar date literal `2024-01-01`."""

    value: dt.date


@dataclass(frozen=True, slots=True)
class Name(Node):
    """A reference to a parameter, table, definition or input field."""

    name: str


@dataclass(frozen=True, slots=True)
class StageRef(Node):
    """A value of an earlier stage: `monthly.payment`."""

    stage: str
    name: str


@dataclass(frozen=True, slots=True)
class Lookup(Node):
    """A table applied to a key: `high_ratio_k[base_points]`."""

    table: str
    key: Expr


@dataclass(frozen=True, slots=True)
class Rekey(Node):
    """One key of a re-keyed reference: `group = no_cc(secondary_drg)`."""

    key: str
    value: Expr


@dataclass(frozen=True, slots=True)
class Rekeyed(Node):
    """A definition read at other keys than the row's own: `base_points[group = g]`."""

    name: str
    keys: tuple[Rekey, ...]


@dataclass(frozen=True, slots=True)
class Call(Node):
    """A function or aggregate call: `max(a, b)`, `mean(total_cost where not ungrouped)`."""

    function: str
    args: tuple[Expr, ...]
    where: Expr | None = None


@dataclass(frozen=True, slots=True)
class OrderKey(Node):
    """One sort key of a rank."""

    expr: Expr
    descending: bool


@dataclass(frozen=True, slots=True)
class Rank(Node):
    """Position of a row among the rows sharing its `within` keys (1 = first)."""

    keys: tuple[OrderKey, ...]
    within: tuple[str, ...]
    where: Expr | None = None


@dataclass(frozen=True, slots=True)
class Current(Node):
    """The running value inside an adjustment step."""


@dataclass(frozen=True, slots=True)
class Neg(Node):
    """Unary minus."""

    operand: Expr


@dataclass(frozen=True, slots=True)
class Binary(Node):
    """Arithmetic: `+ - * /`."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Compare(Node):
    """Comparison: `== != < <= > >=`."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class IsClass(Node):
    """`category is normal` / `category is not normal`."""

    operand: Expr
    class_name: str
    negated: bool = False


@dataclass(frozen=True, slots=True)
class InClasses(Node):
    """`category in (special, unstable)`."""

    operand: Expr
    classes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class And(Node):
    """Logical and of two or more conditions: a chain `a and b and c` is one node, however
    long (a bracketed `(a and b)` in it stays an operand of its own)."""

    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or(Node):
    """Logical or of two or more conditions, as `And`."""

    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Not(Node):
    """Logical not."""

    operand: Expr


@dataclass(frozen=True, slots=True)
class Branch(Node):
    """One `if`/`elif` condition with its value."""

    condition: Expr
    value: Expr


@dataclass(frozen=True, slots=True)
class If(Node):
    """`if c then a elif d then b else e`."""

    branches: tuple[Branch, ...]
    otherwise: Expr


Expr = (
    Number
    | Bool
    | Text
    | Date
    | Name
    | StageRef
    | Lookup
    | Rekeyed
    | Call
    | Rank
    | Current
    | Neg
    | Binary
    | Compare
    | IsClass
    | InClasses
    | And
    | Or
    | Not
    | If
)

# ---- citations -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Source(Node):
    """`source doc "article"`: the document (and article) that fixes a value."""

    document: str
    article: str | None = None


@dataclass(frozen=True, slots=True)
class Assumption(Node):
    """`assumption "why"`: no document fixes this; the reason is stated."""

    reason: str


Citation = Source | Assumption

# ---- declarations ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Header(Node):
    """The file's identity: city, version, dates, base version, payment method."""

    city: str
    version: str
    title: str | None = None
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    extends: str | None = None
    method: str | None = None
    #: The library modules it takes in (`include "indicators"`), in the order written.
    includes: tuple[str, ...] = ()
    #: A library module (`library <name> version "…"`) rather than a policy: `city` is its name.
    library: bool = False
    #: Where the city's name and the version's string stand (for E141, E140).
    city_span: Span = field(default=NO_SPAN, compare=False, kw_only=True, repr=False)
    version_span: Span = field(default=NO_SPAN, compare=False, kw_only=True, repr=False)


@dataclass(frozen=True, slots=True)
class Grain(Node):
    """`at hospital, group`: the keys a definition is computed for."""

    keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Decl(Node):
    """Base of every named declaration; `override` replaces the base version's one."""

    name: str
    override: bool = field(default=False, kw_only=True)


DocumentValue = Text | Date | Name | Number

#: The fields of a document, in their canonical order.
DOCUMENT_FIELDS = ("issuer", "number", "date", "status", "text")


@dataclass(frozen=True, slots=True)
class DocumentField(Node):
    """One `name value` line of a document: `issuer "…"`, `number none`, `date 2021-05-10`,
    `status draft`, `text "file.txt"`; a bare word is a `Name` (a bare number, never valid, is
    kept to say so)."""

    name: str
    value: DocumentValue


@dataclass(frozen=True, slots=True)
class Document(Decl):
    """A source document (来源文件) that declarations cite: its title as the document gives it,
    then its fields (issuer 发文机关, number 文号, date, status, where its text is) in the order
    of `DOCUMENT_FIELDS` (others after them, as written): the order they are written in carries
    no meaning. The checker validates them (E130–E136)."""

    title: str
    fields: tuple[DocumentField, ...] = ()

    @staticmethod
    def in_order(fields: Iterable[DocumentField]) -> tuple[DocumentField, ...]:
        """`fields` in the canonical order (a stable sort: a field given twice keeps its two
        places)."""
        rank = {name: i for i, name in enumerate(DOCUMENT_FIELDS)}
        return tuple(sorted(fields, key=lambda f: rank.get(f.name, len(rank))))

    def field(self, name: str) -> DocumentField | None:
        """The first field called `name`, if any."""
        return next((f for f in self.fields if f.name == name), None)

    def value(self, name: str) -> str | None:
        """A field's value as written: the text of a string, a date as YYYY-MM-DD, a word."""
        found = self.field(name)
        if found is None:
            return None
        value = found.value
        if isinstance(value, Text):
            return value.value
        if isinstance(value, Date):
            return value.value.isoformat()
        return value.name if isinstance(value, Name) else str(value.value)


@dataclass(frozen=True, slots=True)
class Input(Decl):
    """An input field a policy needs beyond the core contract (e.g. a budget figure)."""

    table: str
    label: str
    grain: Grain | None
    type: str
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True, slots=True)
class Param(Decl):
    """A named constant with its label, type, declared range (`None`: its type's default range,
    `policy_dsl.ranges`) and citation."""

    label: str
    type: str
    value: Expr
    citations: tuple[Citation, ...] = ()
    range: ParamRange | None = None


@dataclass(frozen=True, slots=True)
class ParamRange(Node):
    """`in [0, 1]` after a parameter's type: the values it may take; `high` None is infinity."""

    low: Expr
    low_closed: bool
    high: Expr | None
    high_closed: bool


@dataclass(frozen=True, slots=True)
class RangeRow(Node):
    """`[low, high) -> value` — `None` bound means infinity."""

    low: Expr
    low_closed: bool
    high: Expr | None
    high_closed: bool
    value: Expr


@dataclass(frozen=True, slots=True)
class KeyRow(Node):
    """`key -> value`."""

    key: Expr
    value: Expr


@dataclass(frozen=True, slots=True)
class DefaultRow(Node):
    """`else -> value`."""

    value: Expr


TableRow = RangeRow | KeyRow | DefaultRow


@dataclass(frozen=True, slots=True)
class Table(Decl):
    """A piecewise (ranges) or lookup (keys) table."""

    label: str
    key_type: str
    value_type: str
    rows: tuple[TableRow, ...]
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True, slots=True)
class Let(Decl):
    """`let`/`report` name "label" : type at grain = expr."""

    label: str
    type: str | None
    grain: Grain
    expr: Expr
    citations: tuple[Citation, ...] = ()
    report: bool = False


@dataclass(frozen=True, slots=True)
class ClassArm(Node):
    """One class of a classification; `when is None` means `otherwise`."""

    name: str
    label: str
    when: Expr | None
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True, slots=True)
class Classify(Decl):
    """Ordered, first-match case classification (病例分类)."""

    label: str
    classes: tuple[ClassArm, ...]
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True, slots=True)
class FormulaArm(Node):
    """`class -> expr`; `class_name is None` means `otherwise`."""

    class_name: str | None
    expr: Expr
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True, slots=True)
class Formula(Decl):
    """A value per class of a classification (e.g. points formula per case type)."""

    label: str
    type: str | None
    by: str
    arms: tuple[FormulaArm, ...]
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True, slots=True)
class Step(Node):
    """One named adjustment: when the condition holds, the running value becomes `expr`."""

    name: str
    label: str
    when: Expr
    expr: Expr
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True, slots=True)
class Adjust(Decl):
    """A value built from a start value by named adjustments applied in order."""

    label: str
    type: str | None
    start: Expr
    steps: tuple[Step, ...]
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True, slots=True)
class Monotone(Node):
    """`monotone case_points in total_cost`: never falls as the field rises."""

    target: str
    field: str


@dataclass(frozen=True, slots=True)
class Always(Node):
    """`always <condition>`: holds for every case."""

    condition: Expr


@dataclass(frozen=True, slots=True)
class Closes(Node):
    """`closes payment to period_fund`: the payments sum exactly to the budget."""

    target: str
    budget: str


InvariantRule = Monotone | Always | Closes


@dataclass(frozen=True, slots=True)
class Invariant(Decl):
    """A property the policy author asserts; the test suite checks it on generated data."""

    label: str
    rule: InvariantRule
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True, slots=True)
class Indicator(Decl):
    """A run-monitoring indicator (运行监测指标): `expr` computed for each grain of `grains`
    (`city`, `tier`, `level`, `hospital`, `group`, `month`), each row aggregating the cases of
    its key; with `listing`, only the rows where that condition holds are reported (a group
    list). `unit` is what its values count in (`元`, `天`; by default its type)."""

    label: str
    type: str
    grains: tuple[str, ...]
    expr: Expr
    unit: str | None = None
    listing: Expr | None = None
    citations: tuple[Citation, ...] = ()
    grains_span: Span = field(default=NO_SPAN, compare=False, kw_only=True, repr=False)


@dataclass(frozen=True, slots=True)
class Target(Decl):
    """A target an indicator is checked against (考核目标): `indicator op threshold` at each of
    `grains` (all the indicator's grains when empty); the threshold is one value for the run."""

    label: str
    indicator: str
    op: str
    threshold: Expr
    grains: tuple[str, ...] = ()
    citations: tuple[Citation, ...] = ()
    #: `per year`: a yearly target (年度目标), judged only on a run of a whole year; a shorter
    #: period shows its value against it as progress, neither met nor missed. The word after
    #: `per` as written (the checker takes only `year`, E165); None without `per`
    per: str | None = None


Declaration = (
    Document
    | Input
    | Param
    | Table
    | Let
    | Classify
    | Formula
    | Adjust
    | Invariant
    | Indicator
    | Target
)


@dataclass(frozen=True, slots=True)
class Stage(Node):
    """A step of the settlement flow (`year_start`, `monthly`, `year_end`) and its declarations."""

    name: str
    label: str
    period: str
    items: tuple[Declaration, ...]
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True, slots=True)
class Policy(Node):
    """One version of one city's policy: header, shared declarations, stages."""

    header: Header
    items: tuple[Declaration, ...]
    stages: tuple[Stage, ...] = ()

    def declarations(self) -> list[tuple[Stage | None, Declaration]]:
        """Every declaration with the stage it belongs to (None = shared)."""
        shared: list[tuple[Stage | None, Declaration]] = [(None, d) for d in self.items]
        return shared + [(s, d) for s in self.stages for d in s.items]
