"""Constructs a backend cannot express (不支持的构造), refused by name before anything runs: the
construct, the backend and the policy line — never approximated."""

from __future__ import annotations

from policy_dsl import ir
from policy_dsl.errors import PolicyError

#: Per backend, the IR constructs it cannot run, with why. Every construct of the language
#: lowers to DuckDB and Spark today; a construct the lowering does not know (a new node) is
#: refused on every SQL backend.
REFUSED: dict[str, dict[str, str]] = {"duckdb": {}, "spark": {}}


class BackendRefusal(PolicyError):
    """A policy uses a construct the chosen backend cannot run."""


def check_lowerable(policy: ir.Policy, stages: list[ir.Stage], backend: str) -> None:
    """Raise `BackendRefusal` naming every construct of `stages` the backend cannot run."""
    problems = []
    for stage in stages:
        for definition in stage.definitions:
            for node in ir.walk(definition.expr):
                construct = _construct(node)
                why = construct and _why(construct, backend)
                if construct and why:
                    problems.append(_problem(policy, stage, definition, construct, backend, why))
    if problems:
        raise BackendRefusal("\n".join(dict.fromkeys(problems)))


def _construct(node: ir.Model) -> str | None:
    """An expression node's construct: its op, or a built-in's name `ln(…)`."""
    if isinstance(node, ir.Call):
        return f"{node.fn}(…)"
    op = getattr(node, "op", None)
    return op if isinstance(op, str) else None


def _why(construct: str, backend: str) -> str | None:
    """Why the backend cannot run the construct (None: it can)."""
    from engine.plan.sql.expressions import FUNCTIONS, SPECIAL, Lowering

    refused = REFUSED.get(backend, {}).get(construct)
    if refused:
        return refused
    if construct.endswith("(…)"):
        known = construct[:-3] in FUNCTIONS or construct[:-3] in SPECIAL
    else:
        known = hasattr(Lowering, f"_{construct}")
    return None if known else "the SQL lowering has no rule for it"


def _problem(
    policy: ir.Policy, stage: ir.Stage, definition: ir.Definition, op: str, backend: str, why: str
) -> str:
    origin = definition.origin
    where = f"{origin.file}:{origin.line}" if origin else f"{policy.city} {policy.version}"
    return (
        f"{where}: `{definition.name}` (stage {stage.name}) uses `{op}`, which the {backend} "
        f"backend cannot run ({why}); settle it with --backend polars"
    )
