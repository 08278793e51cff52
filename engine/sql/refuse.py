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
    from engine.sql.expressions import Lowering

    problems = []
    refused = REFUSED.get(backend, {})
    for stage in stages:
        for definition in stage.definitions:
            for node in ir.walk(definition.expr):
                op = getattr(node, "op", None)
                if op is None:
                    continue
                why = refused.get(op) or (
                    None if hasattr(Lowering, f"_{op}") else "the SQL lowering has no rule for it"
                )
                if why:
                    problems.append(_problem(policy, stage, definition, op, backend, why))
    if problems:
        raise BackendRefusal("\n".join(dict.fromkeys(problems)))


def _problem(
    policy: ir.Policy, stage: ir.Stage, definition: ir.Definition, op: str, backend: str, why: str
) -> str:
    origin = definition.origin
    where = f"{origin.file}:{origin.line}" if origin else f"{policy.city} {policy.version}"
    return (
        f"{where}: `{definition.name}` (stage {stage.name}) uses `{op}`, which the {backend} "
        f"backend cannot run ({why}); settle it with --backend polars"
    )
