"""W610: a class condition that reads a value that can be missing (可能缺失的值).

A comparison with a missing value is neither true nor false; a classification then tries the
next class, and the case may end in the catch-all class without a word (an ungrouped case
classed `normal`). The run counts such cases (`engine.plan.polars.fallthrough`); the checker warns
where a class condition can read a missing value. What counts as "can be missing":

- a field of the group catalog (`weight`, `avg_cost`, `base_group`, `group_name`), and a value
  computed per group (`at group`) read at another grain: the catalog has no row for an
  ungrouped (0000) or ambiguous (xQY) case;
- `table[key]` of a table without `else ->` whose rows do not cover every key of its key type:
  a keys table that does not list every value of a yes/no or `level` key (0–3), a ranges table
  that does not cover the key type's default range (`policy_dsl.ranges`: `[0, inf)` for points);
- `name[key = …]`: the row it names may not be there;
- `mean`, `min`, `max`, `cv`, `share` with `where` (no row may meet it), `rank(… where …)`;
- a budget input per key (`input budget x at tier`): budget.yaml may not list every key;
- a definition (of any stage) whose formula reads any of these — except through
  `if_missing(value, default)`, which gives the default instead.

Classes tried after a class that takes the ungrouped cases (`when ungrouped`, or `… or
ungrouped`) — and the other side of `not ungrouped and …` — are not warned about the catalog:
those cases never reach them. Division by zero (missing too) and a value missing in the data
are not looked for here; the run's count sees every case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from decimal import Decimal

from policy_dsl import ast as a
from policy_dsl.check.infer import Inference
from policy_dsl.check.scope import Scope, Symbol
from policy_dsl.check.tables import literal_value
from policy_dsl.diagnostics import Diagnostic
from policy_dsl.grains import CASE
from policy_dsl.loader import Entry
from policy_dsl.ranges import default_range
from policy_dsl.unparse import expr_text

Report = Callable[[Diagnostic], None]
GROUP = frozenset({"group"})
UNGROUPED = "an ungrouped (0000) or ambiguous (xQY) case has no row in the group catalog"
#: Keys of a keys table that cover every value of its key type.
EVERY_KEY: dict[str, frozenset[object]] = {
    "bool": frozenset({True, False}),
    "level": frozenset(Decimal(n) for n in range(4)),
}
#: Aggregates that have no value over no rows (sum and count give 0).
EMPTY_MISSING = ("mean", "min", "max", "cv", "share")


@dataclass(frozen=True)
class Why:
    """Why a value can be missing; `ungrouped`: only for a case not in the group catalog."""

    text: str
    ungrouped: bool = False


@dataclass(frozen=True)
class Found:
    """The place in a condition that reads a value that can be missing, and why."""

    node: a.Node
    why: Why


class MissingValues:
    """Which values can be missing, definition by definition (each worked out once)."""

    def __init__(self, scope: Scope, inference: Inference) -> None:
        self.scope = scope
        self.inference = inference
        self.memo: dict[tuple[str | None, str], list[Why]] = {}

    def reads(self, expr: a.Expr | None, stage: str | None, grain: frozenset[str]) -> list[Found]:
        """Each place in `expr` (read at `grain`) that reads a value that can be missing."""
        if expr is None:
            return []
        return list(self._walk(expr, stage, grain))

    def _walk(self, node: a.Node, stage: str | None, grain: frozenset[str]) -> Iterator[Found]:
        match node:
            case a.Name():
                yield from self._symbol(node, node.name, stage, grain)
            case a.StageRef():
                yield from self._symbol(node, node.name, node.stage, grain)
            case a.Lookup():
                yield from self._walk(node.key, stage, grain)
                miss = self._table_miss(node.table, stage)
                if miss:
                    yield Found(node, miss)
            case a.Rekeyed():
                for rekey in node.keys:
                    yield from self._walk(rekey.value, stage, grain)
                text = f"`{node.name}[…]` reads a row that may not be there"
                yield Found(node, Why(text))
            case a.Call() if node.function == "if_missing":
                yield from self._walk(node.args[-1], stage, grain) if node.args else iter(())
            case a.Call():
                for arg in node.args:
                    yield from self._walk(arg, stage, grain)
                if node.function in EMPTY_MISSING and node.where is not None:
                    yield Found(node, Why(f"`{node.function}(… where …)`: no row may meet `where`"))
            case a.Rank() if node.where is not None:
                yield Found(node, Why("`rank(… where …)` ranks no row that fails `where`"))
            case a.Node():
                for child in _children(node):
                    yield from self._walk(child, stage, grain)

    def _symbol(
        self, node: a.Node, name: str, stage: str | None, grain: frozenset[str]
    ) -> Iterator[Found]:
        symbol = self.scope.lookup(name, stage)
        if symbol is None:
            return
        if symbol.field is not None:
            if symbol.field.table == "groups" and symbol.field.column != "drg_code":
                yield Found(
                    node, Why(f"`{name}` is a field of the group catalog: {UNGROUPED}", True)
                )
            return
        assert symbol.entry is not None
        decl = symbol.entry.decl
        if isinstance(decl, a.Input) and decl.table == "budget" and decl.grain:
            yield Found(node, Why(f"budget.yaml may not list every key of `{name}`"))
        info = self.inference.definition(symbol) if symbol.kind == "definition" else None
        if info is None:
            return
        if info.grain == GROUP and grain != GROUP:
            yield Found(node, Why(f"`{name}` is computed per group: {UNGROUPED}", True))
        for why in self._definition(symbol, info.grain):
            yield Found(node, why)

    def dependencies_first(self, order: list[tuple[str | None, str]]) -> None:
        """Work out what can be missing in each definition of `order`, each after those it
        reads: working one out then finds the others memoized, and a long chain of
        definitions does not nest Python calls as deep as it is long."""
        for stage, name in order:
            symbol = self.scope.lookup(name, stage)
            if symbol is None or symbol.kind != "definition":
                continue
            info = self.inference.definition(symbol)
            if info is not None:
                self._definition(symbol, info.grain)

    def _definition(self, symbol: Symbol, grain: frozenset[str]) -> list[Why]:
        key = (symbol.stage, symbol.name)
        if key not in self.memo:
            self.memo[key] = []  # a cycle (E401) reads nothing more
            assert symbol.entry is not None
            found = [
                f.why
                for part in _values(symbol.entry.decl)
                for f in self.reads(part, symbol.stage, grain)
            ]
            self.memo[key] = _distinct(found)
        return self.memo[key]

    def _table_miss(self, name: str, stage: str | None) -> Why | None:
        symbol = self.scope.lookup(name, stage)
        if symbol is None or symbol.entry is None or not isinstance(symbol.entry.decl, a.Table):
            return None
        table = symbol.entry.decl
        if any(isinstance(r, a.DefaultRow) for r in table.rows) or _covers(table):
            return None
        return Why(f"table `{name}` has no row for some keys and no `else ->` row")


def _values(decl: a.Declaration) -> list[a.Expr]:
    """What a definition's value is made of (not the conditions that choose among them)."""
    if isinstance(decl, a.Let):
        return [decl.expr]
    if isinstance(decl, a.Formula):
        return [arm.expr for arm in decl.arms]
    if isinstance(decl, a.Adjust):
        return [decl.start, *(step.expr for step in decl.steps)]
    return []  # a classification always gives a class


def _children(node: a.Node) -> Iterator[a.Node]:
    for f in fields(node):
        value = getattr(node, f.name)
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, a.Node):
                yield item


def _distinct(found: list[Why]) -> list[Why]:
    """One reason of each kind: the first that is not about the catalog, the first that is."""
    general = next((w for w in found if not w.ungrouped), None)
    catalog = next((w for w in found if w.ungrouped), None)
    return [w for w in (general, catalog) if w is not None]


def _covers(table: a.Table) -> bool:
    """Whether a table's rows cover every key of its key type."""
    keys = [r for r in table.rows if isinstance(r, a.KeyRow)]
    if keys:
        every = EVERY_KEY.get(table.key_type)
        return every is not None and every <= {literal_value(r.key) for r in keys}
    ranges = [r for r in table.rows if isinstance(r, a.RangeRow)]
    allowed = default_range(table.key_type)
    if not ranges or allowed is None or allowed.low is None:
        return False
    starts = [
        (v, not r.low_closed) for r in ranges if isinstance(v := literal_value(r.low), Decimal)
    ]
    if not starts or not any(r.high is None for r in ranges):
        return False
    first, open_start = min(starts)
    low = Decimal(str(allowed.low))
    return first < low or (first == low and not open_start)


# ---- the warning ----------------------------------------------------------------------------


def check_classifications(
    scope: Scope,
    inference: Inference,
    order: list[tuple[str | None, str]],
    found: list[Diagnostic],
    report: Report,
) -> None:
    """W610 for each class whose condition can read a missing value (and has no error among
    the diagnostics `found` so far); the definitions are worked out in `order`, each after
    those it reads (`check._dependencies_first`)."""
    values = MissingValues(scope, inference)
    values.dependencies_first(order)
    errors = [d for d in found if d.severity == "error"]
    for entry in scope.resolved.entries:
        if isinstance(entry.decl, a.Classify):
            _check_classify(entry, entry.decl, values, errors, report)


def _check_classify(
    entry: Entry,
    decl: a.Classify,
    values: MissingValues,
    errors: list[Diagnostic],
    report: Report,
) -> None:
    grouped = False  # the cases not in the catalog were taken by an earlier class
    for arm in decl.classes:
        if arm.when is None:
            return
        reads = [
            f for f in _reads(arm.when, entry.stage, values) if not (grouped and f.why.ungrouped)
        ]
        if reads and not any(_within(d, entry, arm.when.span) for d in errors):
            report(_warning(entry, decl, arm, reads[0]))
        grouped = grouped or _takes_ungrouped(arm.when)


def _within(d: Diagnostic, entry: Entry, span: a.Span) -> bool:
    """Whether a diagnostic points into `span` of the entry's file."""
    start, end = (span.line, span.column), (span.end_line, span.end_column)
    return d.file == str(entry.file.path) and start <= (d.line, d.column) < end


def _reads(expr: a.Expr, stage: str | None, values: MissingValues) -> list[Found]:
    """The reads of a condition; beside `not ungrouped and …`, the catalog is always there."""
    if isinstance(expr, a.And) and any(_is_not_ungrouped(x) for x in expr.operands):
        found = [f for x in expr.operands for f in _reads(x, stage, values)]
        return [f for f in found if not f.why.ungrouped]
    return values.reads(expr, stage, CASE)


def _takes_ungrouped(expr: a.Expr) -> bool:
    if isinstance(expr, a.Or):
        return any(_takes_ungrouped(x) for x in expr.operands)
    return isinstance(expr, a.Name) and expr.name == "ungrouped"  # the core field (E104)


def _is_not_ungrouped(expr: a.Expr) -> bool:
    return isinstance(expr, a.Not) and _takes_ungrouped(expr.operand)


def _warning(entry: Entry, decl: a.Classify, arm: a.ClassArm, found: Found) -> Diagnostic:
    read = expr_text(found.node)  # type: ignore[arg-type]
    hint = (
        f'put `class ungrouped "…" when ungrouped` before `{arm.name}`, or give a value where it '
        f"is missing: `if_missing({read}, …)`"
        if found.why.ungrouped
        else f"give a value where it is missing: `if_missing({read}, …)` (or an `else ->` row)"
    )
    return entry.file.source.diagnostic(
        "W610",
        f"class `{arm.name}` of `{decl.name}` reads `{read}`, which can be missing "
        f"({found.why.text}); a case where it is missing is not `{arm.name}` and goes on "
        "to the next class",
        found.node.span,
        hint,
    )


__all__ = ["MissingValues", "check_classifications"]
