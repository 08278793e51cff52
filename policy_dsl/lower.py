"""Lowering: a checked policy (with `extends` resolved) → the IR the engine runs.

Each stage gets its own definitions plus the shared ones it needs, in dependency order; a policy
without stages has one stage, `settlement`, that runs over whatever period it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from policy_dsl import ast as a
from policy_dsl import grains as g
from policy_dsl import ir
from policy_dsl.check import Checked, check
from policy_dsl.check.declarations import literal_type
from policy_dsl.check.infer import DefKey
from policy_dsl.check.ranges import declared_range
from policy_dsl.check.structure import OUTPUTS, output_scopes
from policy_dsl.check.tables import literal_value
from policy_dsl.loader import Entry, PolicyFile, Resolved, read_policy_file, resolve
from policy_dsl.references import dependency_first
from policy_dsl.types import TYPE_NAMES, Type
from policy_dsl.unparse import expr_text

IMPLICIT_STAGE = "settlement"
DEFINITIONS = (a.Let, a.Classify, a.Formula, a.Adjust)


def compile_file(path: Path | str) -> ir.Policy:
    """Read, check and lower a policy file; raises `PolicyErrors` if it has errors."""
    return lower(_checked(resolve(read_policy_file(path))))


def compile_text(text: str, path: str, siblings: list[PolicyFile] | None = None) -> ir.Policy:
    """Compile text that is not (yet) a file, e.g. the studio's editor buffer."""
    from policy_dsl.loader import policy_from_text

    return lower(_checked(resolve(policy_from_text(text, path), siblings)))


def _checked(resolved: Resolved) -> Checked:
    checked = check(resolved)
    checked.raise_for_errors()
    return checked


def lower(checked: Checked) -> ir.Policy:
    """The IR of a policy that checked clean."""
    resolved = checked.resolved
    header = resolved.header
    entries = resolved.entries
    policy = ir.Policy(
        city=header.city,
        version=header.version,
        title=header.title,
        effective_from=header.effective_from.isoformat() if header.effective_from else None,
        effective_to=header.effective_to.isoformat() if header.effective_to else None,
        method="rate" if header.method == "rate" else "points",
        extends=[f.header.version for f in resolved.chain[:-1]],
        documents=[_document(e) for e in entries if isinstance(e.decl, a.Document)],
        inputs=[_input(e, checked) for e in entries if isinstance(e.decl, a.Input)],
        params=[_param(e) for e in entries if isinstance(e.decl, a.Param)],
        tables=[_table(e) for e in entries if isinstance(e.decl, a.Table)],
        stages=_stages(checked),
        invariants=[_invariant(e, checked) for e in entries if isinstance(e.decl, a.Invariant)],
        **_monitoring(checked),
    )
    return ir.with_hash(policy)


def _monitoring(checked: Checked) -> dict[str, Any]:
    from policy_dsl.lower_indicators import lower_monitoring  # it lowers with this module

    return lower_monitoring(checked)


# ---- small declarations ------------------------------------------------------------


def type_ir(typ: Type) -> ir.TypeIR:
    return ir.TypeIR(
        kind=typ.kind, money=typ.unit.money, points=typ.unit.points, classes_of=typ.classes_of
    )


def citations_ir(citations: Iterable[a.Citation]) -> list[ir.Citation]:
    return [
        ir.Citation(assumption=c.reason)
        if isinstance(c, a.Assumption)
        else ir.Citation(document=c.document, article=c.article)
        for c in citations
    ]


def _origin(entry: Entry, node: a.Node) -> ir.Origin:
    return ir.Origin(
        file=str(entry.file.path),
        line=node.span.line,
        column=node.span.column,
        version=entry.file.header.version,
    )


def _document(entry: Entry) -> ir.Document:
    decl = entry.decl
    assert isinstance(decl, a.Document)
    number = decl.field("number")
    no_number = number is not None and isinstance(number.value, a.Name)  # `number none`
    return ir.Document(
        name=decl.name,
        title=decl.title,
        issuer=decl.value("issuer") or "",
        number=None if no_number else decl.value("number"),
        date=decl.value("date") or "",
        status=decl.value("status"),  # type: ignore[arg-type]  # checked: E135
        text=decl.value("text"),
        origin=_origin(entry, decl),
    )


def _input(entry: Entry, checked: Checked) -> ir.Input:
    decl = entry.decl
    assert isinstance(decl, a.Input)
    grain = checked.inference.grain_of(decl.grain, entry) if decl.grain else g.ALL
    return ir.Input(
        name=decl.name,
        table=decl.table,
        label=decl.label,
        grain=g.order(grain),
        type=type_ir(TYPE_NAMES[decl.type]),
        citations=citations_ir(decl.citations),
    )


def _scalar(expr: a.Expr | None) -> float | str | bool | None:
    value = literal_value(expr)
    if isinstance(expr, a.Date):
        return expr.value.isoformat()
    return float(value) if isinstance(value, Decimal) else value


def _param(entry: Entry) -> ir.Param:
    decl = entry.decl
    assert isinstance(decl, a.Param)
    value = _scalar(decl.value)
    assert value is not None
    return ir.Param(
        name=decl.name,
        label=decl.label,
        type=type_ir(TYPE_NAMES[decl.type]),
        value=value,
        citations=citations_ir(decl.citations),
        origin=_origin(entry, decl),
        declared_type=decl.type,
        range=declared_range(decl.range, decl.type) if decl.range else None,
    )


def _table(entry: Entry) -> ir.Table:
    decl = entry.decl
    assert isinstance(decl, a.Table)
    rows = [_row(row) for row in decl.rows]
    ranges = any(isinstance(r, a.RangeRow) for r in decl.rows)
    return ir.Table(
        name=decl.name,
        label=decl.label,
        kind="ranges" if ranges else "keys",
        key_type=type_ir(TYPE_NAMES[decl.key_type]),
        value_type=type_ir(TYPE_NAMES[decl.value_type]),
        rows=rows,
        citations=citations_ir(decl.citations),
        origin=_origin(entry, decl),
    )


def _row(row: a.TableRow) -> ir.Row:
    value = _scalar(row.value)
    assert value is not None
    if isinstance(row, a.RangeRow):
        low, high = _scalar(row.low), _scalar(row.high)
        return ir.Row(
            low=float(low) if isinstance(low, float) else None,
            low_closed=row.low_closed,
            high=float(high) if isinstance(high, float) else None,
            high_closed=row.high_closed,
            value=value,
        )
    if isinstance(row, a.KeyRow):
        return ir.Row(key=_scalar(row.key), value=value)
    return ir.Row(default=True, value=value)


# ---- stages and definitions -----------------------------------------------------------


def _stages(checked: Checked) -> list[ir.Stage]:
    resolved = checked.resolved
    if not resolved.stages:
        shared = [e for e in resolved.entries if e.stage is None and _is_definition(e)]
        return [_stage(IMPLICIT_STAGE, "结算", None, True, shared, checked)]
    settling = set(output_scopes(checked.scope))
    return [
        _stage(
            s.name,
            s.label,
            s.period,
            s.name in settling,
            _stage_entries(s.name, s.name in settling, checked),
            checked,
        )
        for s in resolved.stages
    ]


def _is_definition(entry: Entry) -> bool:
    return isinstance(entry.decl, DEFINITIONS)


def _stage_entries(stage: str, settles: bool, checked: Checked) -> list[Entry]:
    """The stage's own definitions and every shared one they (or its outputs) need."""
    entries = checked.resolved.entries
    roots: list[DefKey] = [(stage, e.decl.name) for e in entries if e.stage == stage]
    if settles:
        method = checked.resolved.header.method or "points"
        roots += [
            (None, name)
            for name in OUTPUTS[method]
            if checked.scope.by_stage[stage].get(name) is None
        ]
        roots += [
            (None, e.decl.name)
            for e in entries
            if e.stage is None and isinstance(e.decl, a.Let) and e.decl.report
        ]
    needed = _reachable(roots, checked.inference.edges)
    return [e for e in entries if (e.stage, e.decl.name) in needed and _is_definition(e)]


def _reachable(roots: list[DefKey], edges: dict[DefKey, set[DefKey]]) -> set[DefKey]:
    seen: set[DefKey] = set()
    stack = list(roots)
    while stack:
        key = stack.pop()
        if key in seen:
            continue
        seen.add(key)
        stack.extend(k for k in edges.get(key, ()) if k[0] == key[0] or k[0] is None)
    return seen


def _stage(
    name: str, label: str, period: str | None, settles: bool, entries: list[Entry], checked: Checked
) -> ir.Stage:
    ordered = _dependency_order(entries, checked.inference.edges)
    return ir.Stage(
        name=name,
        label=label,
        period=period if period in ("month", "year") else None,  # type: ignore[arg-type]
        settles_cases=settles,
        definitions=[_definition(e, checked) for e in ordered],
    )


def _dependency_order(entries: list[Entry], edges: dict[DefKey, set[DefKey]]) -> list[Entry]:
    """Definitions with every dependency first; otherwise in file order (deterministic)."""
    by_key = {(e.stage, e.decl.name): e for e in entries}

    def needs(key: DefKey) -> list[DefKey]:
        return [
            k for k in sorted(edges.get(key, ()), key=lambda k: (k[0] or "", k[1])) if k in by_key
        ]

    return [by_key[key] for key in dependency_first(by_key, needs)]


def _definition(entry: Entry, checked: Checked) -> ir.Definition:
    decl = entry.decl
    info = checked.info(decl.name, entry.stage)
    assert info is not None, decl.name
    lower_expr = ExprLowering(checked, entry).expr
    grain = g.order(info.grain)
    if isinstance(decl, a.Let):
        expr, text = lower_expr(decl.expr), expr_text(decl.expr)
    elif isinstance(decl, a.Classify):
        expr = ir.Classify(
            classes=[
                ir.ClassIR(
                    name=c.name,
                    label=c.label,
                    when=lower_expr(c.when) if c.when else None,
                    text=expr_text(c.when) if c.when else "otherwise",
                    citations=citations_ir(c.citations),
                )
                for c in decl.classes
            ]
        )
        text = "first of: " + ", ".join(c.name for c in decl.classes)
    elif isinstance(decl, a.Formula):
        expr = ir.Match(
            on=lower_expr(a.Name(decl.by)),
            arms=[
                ir.ArmIR(
                    class_name=arm.class_name,
                    expr=lower_expr(arm.expr),
                    text=expr_text(arm.expr),
                    citations=citations_ir(arm.citations),
                )
                for arm in decl.arms
            ],
        )
        text = f"by {decl.by}"
    else:
        assert isinstance(decl, a.Adjust)
        expr = ir.AdjustIR(
            start=lower_expr(decl.start),
            steps=[
                ir.StepIR(
                    name=s.name,
                    label=s.label,
                    when=lower_expr(s.when),
                    expr=lower_expr(s.expr),
                    when_text=expr_text(s.when),
                    text=expr_text(s.expr),
                    citations=citations_ir(s.citations),
                )
                for s in decl.steps
            ],
        )
        text = f"from {expr_text(decl.start)}, then " + ", ".join(s.name for s in decl.steps)
    return ir.Definition(
        name=decl.name,
        label=getattr(decl, "label", decl.name),
        grain=grain,
        type=type_ir(info.type),
        expr=expr,
        text=text,
        declared_type=getattr(decl, "type", None),
        report=isinstance(decl, a.Let) and decl.report,
        shared=entry.stage is None,
        citations=citations_ir(getattr(decl, "citations", ())),
        origin=_origin(entry, decl),
    )


def _invariant(entry: Entry, checked: Checked) -> ir.Invariant:
    decl = entry.decl
    assert isinstance(decl, a.Invariant)
    rule = decl.rule
    common: dict[str, Any] = {"name": decl.name, "label": decl.label, "stage": entry.stage}
    if isinstance(rule, a.Monotone):
        return ir.Invariant(kind="monotone", target=rule.target, field=rule.field, **common)
    if isinstance(rule, a.Closes):
        return ir.Invariant(kind="closes", target=rule.target, budget=rule.budget, **common)
    condition = ExprLowering(checked, entry).expr(rule.condition)
    return ir.Invariant(kind="always", condition=condition, **common)


class ExprLowering:
    """AST expression → IR expression, names resolved in the declaration's scope."""

    def __init__(self, checked: Checked, entry: Entry) -> None:
        self.checked = checked
        self.entry = entry

    def expr(self, node: a.Expr) -> Any:
        method: Callable[[Any], Any] = getattr(self, "_" + type(node).__name__)
        return method(node)

    def _Number(self, node: a.Number) -> ir.Lit:
        typed = literal_type(node)
        assert typed is not None
        return ir.Lit(value=_scalar(node), type=type_ir(typed[0]))

    def _Bool(self, node: a.Bool) -> ir.Lit:
        return ir.Lit(value=node.value, type=ir.TypeIR(kind="bool"))

    def _Text(self, node: a.Text) -> ir.Lit:
        return ir.Lit(value=node.value, type=ir.TypeIR(kind="text"))

    def _Date(self, node: a.Date) -> ir.Lit:
        return ir.Lit(value=node.value.isoformat(), type=ir.TypeIR(kind="date"))

    def _Current(self, node: a.Current) -> ir.Current:
        return ir.Current()

    def _Name(self, node: a.Name) -> Any:
        symbol = self.checked.scope.lookup(node.name, self.entry.stage)
        assert symbol is not None, node.name
        if symbol.field is not None:
            f = symbol.field
            return ir.FieldRef(name=f.name, table=f.table, column=f.column)
        decl = symbol.entry.decl if symbol.entry else None
        if isinstance(decl, a.Param):
            return ir.ParamRef(name=node.name)
        if isinstance(decl, a.Input):
            table = "budget" if decl.table == "budget" else decl.table + "s"
            return ir.FieldRef(name=decl.name, table=table, column=decl.name)
        return ir.Ref(name=node.name)

    def _StageRef(self, node: a.StageRef) -> ir.Ref:
        return ir.Ref(name=node.name, stage=node.stage)

    def _Lookup(self, node: a.Lookup) -> ir.TableLookup:
        return ir.TableLookup(name=node.table, key=self.expr(node.key))

    def _Rekeyed(self, node: a.Rekeyed) -> ir.Rekey:
        keys = [ir.KeyValue(key=k.key, value=self.expr(k.value)) for k in node.keys]
        return ir.Rekey(target=self._Name(a.Name(node.name)), keys=keys)

    def _Call(self, node: a.Call) -> Any:
        source = self.checked.inference.sources.get(id(node))
        if node.function == "allocate":
            total, weight = (self.expr(x) for x in node.args)
            return ir.Allocate(total=total, weight=weight, by=g.order(source or g.ALL))
        if source is not None:
            counted = node.function in ("count", "share")
            return ir.Aggregate(
                fn=node.function,  # type: ignore[arg-type]
                arg=None if counted else self.expr(node.args[0]),
                where=self.expr(node.where) if node.where is not None else None,
                source=g.order(source),
            )
        return ir.Call(fn=node.function, args=[self.expr(x) for x in node.args])

    def _Rank(self, node: a.Rank) -> ir.RankIR:
        return ir.RankIR(
            keys=[ir.OrderIR(expr=self.expr(k.expr), descending=k.descending) for k in node.keys],
            within=[k for k in node.within if k != "all"],
            where=self.expr(node.where) if node.where is not None else None,
        )

    def _Neg(self, node: a.Neg) -> ir.Unary:
        return ir.Unary(op="neg", operand=self.expr(node.operand))

    def _Not(self, node: a.Not) -> ir.Unary:
        return ir.Unary(op="not", operand=self.expr(node.operand))

    def _Binary(self, node: a.Binary) -> ir.Arith:
        return ir.Arith(fn=node.op, left=self.expr(node.left), right=self.expr(node.right))  # type: ignore[arg-type]

    def _Compare(self, node: a.Compare) -> ir.Cmp:
        return ir.Cmp(
            fn=node.op,  # type: ignore[arg-type]
            left=self.expr(node.left),
            right=self.expr(node.right),
            numeric=id(node) in self.checked.inference.numeric_comparisons,
        )

    def _And(self, node: a.And) -> ir.Logic:
        return ir.Logic(op="and", args=[self.expr(x) for x in node.operands])

    def _Or(self, node: a.Or) -> ir.Logic:
        return ir.Logic(op="or", args=[self.expr(x) for x in node.operands])

    def _IsClass(self, node: a.IsClass) -> ir.IsIn:
        return ir.IsIn(
            operand=self.expr(node.operand), classes=[node.class_name], negated=node.negated
        )

    def _InClasses(self, node: a.InClasses) -> ir.IsIn:
        return ir.IsIn(operand=self.expr(node.operand), classes=list(node.classes))

    def _If(self, node: a.If) -> ir.IfExpr:
        branches = [
            ir.BranchIR(condition=self.expr(b.condition), value=self.expr(b.value))
            for b in node.branches
        ]
        return ir.IfExpr(branches=branches, otherwise=self.expr(node.otherwise))
