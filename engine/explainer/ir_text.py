"""An IR expression as the policy writes it, and the names it reads — for the traces of the
explainers and for the errors that name a definition's inputs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from policy_dsl import grains as g
from policy_dsl import ir

#: The nodes shown as a step's inputs; the walk does not look inside an aggregate (finer rows).
INPUTS = (ir.Ref, ir.FieldRef, ir.ParamRef, ir.Aggregate, ir.TableLookup, ir.Rekey)


def input_nodes(node: Any) -> Iterator[Any]:
    """The names and aggregates an expression reads, in the order it reads them (not looking
    inside an aggregate, whose rows are finer, nor at the definition a `[… = …]` reads)."""
    if isinstance(node, INPUTS):
        yield node
        if isinstance(node, ir.Aggregate):
            return
        if isinstance(node, ir.Rekey):
            for kv in node.keys:
                yield from input_nodes(kv.value)
            return
    if isinstance(node, ir.Model):
        for name in type(node).model_fields:
            yield from input_nodes(getattr(node, name))
    elif isinstance(node, list):
        for item in node:
            yield from input_nodes(item)


#: Binding strength of operators: a weaker operand is put in brackets.
PRECEDENCE = {"or": 1, "and": 2, "not": 3, "cmp": 4, "+": 5, "-": 5, "*": 6, "/": 6, "neg": 7}


def expr_text(node: Any) -> str:
    """`sum(monthly.payment)`, `count(hospital where not tier_matches_rule)`…"""
    match node:
        case ir.Ref(stage=stage, name=name):
            return f"{stage}.{name}" if stage else name
        case ir.FieldRef(name=name) | ir.ParamRef(name=name):
            return name
        case ir.Lit(value=value):
            return _literal_text(value)
        case ir.Current():
            return "current"
        case ir.Aggregate(fn=fn, arg=arg, where=where, source=source):
            what = g.show(source) if arg is None else expr_text(arg)
            return f"{fn}({what}{'' if where is None else ' where ' + expr_text(where)})"
        case ir.TableLookup(name=name, key=key):
            return f"{name}[{expr_text(key)}]"
        case ir.Rekey(target=target, keys=keys):
            given = ", ".join(f"{kv.key} = {expr_text(kv.value)}" for kv in keys)
            return f"{expr_text(target)}[{given}]"
        case ir.Call(fn=fn, args=args):
            return f"{fn}({', '.join(expr_text(a) for a in args)})"
        case ir.IsIn(operand=operand, classes=classes, negated=negated):
            return f"{expr_text(operand)} is {'not ' if negated else ''}{', '.join(classes)}"
        case ir.Unary(op=op, operand=operand):
            return ("-" if op == "neg" else "not ") + _operand(operand, PRECEDENCE[op])
        case ir.Arith(fn=fn) | ir.Cmp(fn=fn):
            return _binary(node, fn)
        case ir.Logic(op=op, args=args):
            return f" {op} ".join(_operand(arg, PRECEDENCE[op] + 1) for arg in args)
        case ir.IfExpr(branches=branches, otherwise=otherwise):
            arms = " elif ".join(
                f"{expr_text(b.condition)} then {expr_text(b.value)}" for b in branches
            )
            return f"if {arms} else {expr_text(otherwise)}"
    return "…"


def _binary(node: ir.Arith | ir.Cmp, fn: str) -> str:
    strength = PRECEDENCE["cmp" if isinstance(node, ir.Cmp) else fn]
    left = _operand(node.left, strength)
    right = _operand(node.right, strength + (fn in ("-", "/") or isinstance(node, ir.Cmp)))
    return f"{left} {fn} {right}"


def _operand(node: Any, strength: int) -> str:
    text = expr_text(node)
    return f"({text})" if _strength(node) < strength else text


def _strength(node: Any) -> int:
    match node:
        case ir.Cmp() | ir.IsIn():
            return PRECEDENCE["cmp"]
        case ir.Arith(fn=fn) | ir.Logic(op=fn) | ir.Unary(op=fn):
            return PRECEDENCE[fn]
        case ir.IfExpr():
            return 0
    return 9


def _literal_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return f'"{value}"' if isinstance(value, str) else str(value)
