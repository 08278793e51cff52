"""The intermediate representation the engine consumes: pydantic models, JSON-serializable, with a
content hash and a published JSON Schema (`drgpolicy schema ir`).

A compiled policy is a list of stages; each stage lists its definitions in dependency order, each
at a grain (a list of keys) with a type and an expression tree. Shared definitions are copied into
every stage that needs them, so a stage can be evaluated on its own.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

IR_VERSION = "2.1"


class Model(BaseModel):
    """Base of IR models: immutable, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class TypeIR(Model):
    """A value type; numbers carry unit exponents (money, points)."""

    kind: Literal["number", "bool", "text", "date", "class"]
    money: int = 0
    points: int = 0
    classes_of: str | None = None

    @property
    def is_money(self) -> bool:
        """An amount in 元 (not money per point or per weight): shown and rounded to the fen."""
        return self.kind == "number" and (self.money, self.points) == (1, 0)


class Citation(Model):
    """A source document (and article), or the reason for an assumption."""

    document: str | None = None
    article: str | None = None
    assumption: str | None = None


class Origin(Model):
    """Where a declaration was written (left out of the content hash)."""

    file: str
    line: int
    column: int
    version: str


# ---- expressions ----------------------------------------------------------------


class Lit(Model):
    op: Literal["lit"] = "lit"
    value: float | bool | str | None
    type: TypeIR


class FieldRef(Model):
    """An input column: `table` is cases, hospitals, groups, budget or run."""

    op: Literal["field"] = "field"
    name: str
    table: str
    column: str


class ParamRef(Model):
    op: Literal["param"] = "param"
    name: str


class TableLookup(Model):
    op: Literal["table"] = "table"
    name: str
    key: Expr


class Ref(Model):
    """Another definition; `stage` is None for the same stage."""

    op: Literal["ref"] = "ref"
    name: str
    stage: str | None = None


class KeyValue(Model):
    key: str
    value: Expr


class Rekey(Model):
    """A definition read at keys given by expressions: `base_points[group = g]`."""

    op: Literal["rekey"] = "rekey"
    target: Annotated[Ref | FieldRef, Field(discriminator="op")]
    keys: list[KeyValue]


class Unary(Model):
    op: Literal["neg", "not"]
    operand: Expr


class Arith(Model):
    op: Literal["arith"] = "arith"
    fn: Literal["+", "-", "*", "/"]
    left: Expr
    right: Expr


class Cmp(Model):
    """A comparison; `numeric` ones treat values within 1e-14 (relative) of each other as equal,
    so that a cost exactly at a threshold is judged as the policy's words say, not by the last
    bit of a floating-point quotient."""

    op: Literal["cmp"] = "cmp"
    fn: Literal["==", "!=", "<", "<=", ">", ">="]
    left: Expr
    right: Expr
    numeric: bool = False


class Logic(Model):
    """`and`/`or` of two or more conditions (Kleene: unknown unless decided by the others)."""

    op: Literal["and", "or"]
    args: list[Expr] = Field(min_length=2)


class BranchIR(Model):
    condition: Expr
    value: Expr


class IfExpr(Model):
    op: Literal["if"] = "if"
    branches: list[BranchIR]
    otherwise: Expr


class IsIn(Model):
    """The case's class is (not) one of `classes`."""

    op: Literal["is_in"] = "is_in"
    operand: Expr
    classes: list[str]
    negated: bool = False


class Call(Model):
    """A row-wise built-in function (min, max, clamp, floor, round_fen, no_cc, …)."""

    op: Literal["call"] = "call"
    fn: str
    args: list[Expr]


class Aggregate(Model):
    """An aggregate from grain `source` to the definition's grain (`arg` is None for count)."""

    op: Literal["agg"] = "agg"
    fn: Literal["sum", "mean", "min", "max", "cv", "count", "share", "distinct"]
    arg: Expr | None = None
    where: Expr | None = None
    source: list[str]


class OrderIR(Model):
    expr: Expr
    descending: bool


class RankIR(Model):
    """1-based position among rows sharing `within`; rows failing `where` rank after the rest;
    ties are broken by the row's keys."""

    op: Literal["rank"] = "rank"
    keys: list[OrderIR]
    within: list[str]
    where: Expr | None = None


class Allocate(Model):
    """`total` (at grain `by`) split over the rows in proportion to `weight`, exact to the fen."""

    op: Literal["allocate"] = "allocate"
    total: Expr
    weight: Expr
    by: list[str]


class ClassIR(Model):
    name: str
    label: str
    when: Expr | None
    text: str = "otherwise"
    citations: list[Citation] = []


class Classify(Model):
    """First-match classification; the value is the first class whose condition holds."""

    op: Literal["classify"] = "classify"
    classes: list[ClassIR]


class ArmIR(Model):
    class_name: str | None
    expr: Expr
    text: str
    citations: list[Citation] = []


class Match(Model):
    """A value per class of `on`; `class_name` None is the `otherwise` arm."""

    op: Literal["match"] = "match"
    on: Expr
    arms: list[ArmIR]


class StepIR(Model):
    name: str
    label: str
    when: Expr
    expr: Expr
    when_text: str
    text: str
    citations: list[Citation] = []


class AdjustIR(Model):
    """Start from `start`; each step whose condition holds replaces the running value."""

    op: Literal["adjust"] = "adjust"
    start: Expr
    steps: list[StepIR]


class Current(Model):
    op: Literal["current"] = "current"


Expr = Annotated[
    Lit
    | FieldRef
    | ParamRef
    | TableLookup
    | Ref
    | Rekey
    | Unary
    | Arith
    | Cmp
    | Logic
    | IfExpr
    | IsIn
    | Call
    | Aggregate
    | RankIR
    | Allocate
    | Classify
    | Match
    | AdjustIR
    | Current,
    Field(discriminator="op"),
]

# ---- declarations -----------------------------------------------------------------


class Definition(Model):
    """A value computed at a grain; `text` is its formula as the policy writes it."""

    name: str
    label: str
    grain: list[str]
    type: TypeIR
    expr: Expr
    text: str
    declared_type: str | None = None
    report: bool = False
    shared: bool = False
    citations: list[Citation] = []
    origin: Origin | None = None


class Stage(Model):
    """A step of the settlement flow; `period` month adds the month to every grain."""

    name: str
    label: str
    period: Literal["month", "year"] | None
    settles_cases: bool
    definitions: list[Definition]


class ValueRange(Model):
    """The values a number may take, `[low, high]` with open or closed ends (None: unbounded
    on that side); `whole` for whole numbers only. Never NaN or ±inf."""

    low: float | None = None
    low_closed: bool = True
    high: float | None = None
    high_closed: bool = True
    whole: bool = False

    def contains(self, value: float) -> bool:
        if not math.isfinite(value) or (self.whole and not value.is_integer()):
            return False
        above = self.low is None or value > self.low or (self.low_closed and value == self.low)
        below = self.high is None or value < self.high or (self.high_closed and value == self.high)
        return above and below

    def __str__(self) -> str:
        """`in [0, 1]`, `≥ 0`, `> 0`, `a whole number ≥ 0`, `any finite number`."""
        if self.low is not None and self.high is not None:
            opening, closing = "[" if self.low_closed else "(", "]" if self.high_closed else ")"
            text = f"in {opening}{self.low:g}, {self.high:g}{closing}"
        elif self.low is not None:
            text = f"{'≥' if self.low_closed else '>'} {self.low:g}"
        elif self.high is not None:
            text = f"{'≤' if self.high_closed else '<'} {self.high:g}"
        else:
            text = "any finite number"
        return f"a whole number {text}" if self.whole and self.low is not None else text


class Param(Model):
    """A parameter: `declared_type` is the name written (`ratio`, `count`…), `range` the range
    it declares (None: the type's default, `policy_dsl.ranges`)."""

    name: str
    label: str
    type: TypeIR
    value: float | bool | str
    citations: list[Citation] = []
    origin: Origin | None = None
    declared_type: str | None = None
    range: ValueRange | None = None


class Row(Model):
    """A table row: a range `[low, high)` (high None = infinity) or a `key`; `default` rows
    have neither."""

    low: float | None = None
    low_closed: bool = True
    high: float | None = None
    high_closed: bool = False
    key: float | str | bool | None = None
    default: bool = False
    value: float | bool | str


class Table(Model):
    name: str
    label: str
    kind: Literal["ranges", "keys"]
    key_type: TypeIR
    value_type: TypeIR
    rows: list[Row]
    citations: list[Citation] = []
    origin: Origin | None = None


class Input(Model):
    """An input a policy declares beyond the core contract."""

    name: str
    table: str
    label: str
    grain: list[str]
    type: TypeIR
    citations: list[Citation] = []


class Document(Model):
    """A source document (来源文件) the policy cites: what identifies it and where its text is."""

    name: str
    title: str
    issuer: str
    number: str | None = Field(description="文号; null for a document that has none")
    date: str = Field(
        pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$",
        description="the day (YYYY-MM-DD), or the month or year when the document gives only that",
    )
    status: Literal["in_force", "draft", "report"]
    text: str | None = Field(
        default=None, description="its text's file, looked up in the sources folders"
    )
    origin: Origin | None = None


class Invariant(Model):
    """A property the policy asserts: monotone, closes, always."""

    name: str
    label: str
    kind: Literal["monotone", "closes", "always"]
    target: str | None = None
    field: str | None = None
    budget: str | None = None
    condition: Expr | None = None
    stage: str | None = None


IndicatorGrain = Literal["city", "tier", "level", "hospital", "group", "month"]


class Indicator(Model):
    """A run-monitoring indicator (运行监测指标): for each grain of `grains`, the definition
    `<name>@<grain>` of the policy's `monitoring` stage computes it (and `<name>@<grain>?`, with
    a `listing`, says which rows it lists); `text` is its formula as written."""

    name: str
    label: str
    unit: str
    type: TypeIR
    declared_type: str
    grains: list[IndicatorGrain]
    text: str
    listing: str | None = None
    citations: list[Citation] = []
    origin: Origin | None = None


class Target(Model):
    """A target an indicator is checked against (考核目标) at `grains`: `indicator fn
    threshold`, the threshold the value of the monitoring stage's `<name>@target`."""

    name: str
    label: str
    indicator: str
    fn: Literal["==", "!=", "<", "<=", ">", ">="]
    text: str
    grains: list[IndicatorGrain]
    citations: list[Citation] = []
    origin: Origin | None = None
    #: `per year` (年度目标): judged only on a run of a whole year; on a shorter period the
    #: value is shown against it as progress (`met` empty)
    yearly: bool = False


class Policy(Model):
    """A compiled policy version, `extends` resolved; `includes` names the library modules it
    takes in, `monitoring` the stage computing its indicators and targets' thresholds (after
    the settlement, over the run's cases)."""

    ir_version: str = IR_VERSION
    city: str
    version: str
    title: str | None
    effective_from: str | None
    effective_to: str | None
    method: Literal["points", "rate"]
    extends: list[str]
    documents: list[Document]
    inputs: list[Input]
    params: list[Param]
    tables: list[Table]
    stages: list[Stage]
    invariants: list[Invariant]
    includes: list[str] = []
    indicators: list[Indicator] = []
    targets: list[Target] = []
    monitoring: Stage | None = None
    hash: str = ""

    def stage(self, name: str) -> Stage:
        return next(s for s in self.stages if s.name == name)

    def param(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)


#: What the content hash leaves out, as pydantic's `exclude`: the hash itself and the origin of
#: every declaration (each model with an `origin` field, where the policy holds it). Left out
#: while dumping rather than by walking the dump after, which cost more than the dump.
_EACH_ORIGIN = {"__all__": {"origin"}}
NOT_HASHED: dict[str, Any] = {
    "hash": True,
    **dict.fromkeys(
        ["documents", "params", "tables", "indicators", "targets"],
        _EACH_ORIGIN,
    ),
    "stages": {"__all__": {"definitions": _EACH_ORIGIN}},
    "monitoring": {"definitions": _EACH_ORIGIN},
}


def content_hash(policy: Policy) -> str:
    """sha256 of the policy's meaning: canonical JSON without origins (file, line) or the hash."""
    data = policy.model_dump(mode="json", exclude=NOT_HASHED)
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def with_hash(policy: Policy) -> Policy:
    return policy.model_copy(update={"hash": content_hash(policy)})


def walk(node: Any) -> Iterator[Model]:
    """Every IR node under `node` (a node or a list of them), itself included, parents before
    their children in field order. Iterative: the depth of an expression does not reach
    Python's stack (passes that only look for a kind of node go through here)."""
    stack: list[Any] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, Model):
            yield item
            stack.extend(getattr(item, name) for name in reversed(field_names(type(item))))


@functools.cache
def field_names(kind: type[Model]) -> tuple[str, ...]:
    """A model's field names in order (`walk`, the passes over the IR): pydantic's
    `model_fields` of a class is a property, 1.4 µs a read against 0.13 µs here, and a settle's
    passes over the IR read it thousands of times."""
    return tuple(kind.model_fields)


def contains(node: Any, kinds: type | tuple[type, ...]) -> bool:
    """Whether a node of one of `kinds` is under `node` (itself included)."""
    return any(isinstance(item, kinds) for item in walk(node))


def json_schema() -> dict[str, Any]:
    """The published JSON Schema of the IR."""
    schema = Policy.model_json_schema()
    schema["$id"] = f"https://drgpolicy.example/schema/ir-{IR_VERSION}.json"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


for _model in list(globals().values()):
    if isinstance(_model, type) and issubclass(_model, BaseModel) and _model is not BaseModel:
        _model.model_rebuild()
