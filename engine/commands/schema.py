"""`drgpolicy schema KIND`: print a published JSON Schema (2020-12).

    drgpolicy schema ir          # the compiled policy (IR) the engine runs
    drgpolicy schema cases       # one row of the input contract's cases table (also hospitals,
                                 # groups, deductions, assessments) or the budget document
    drgpolicy schema example     # an analyst's example test (policies/<city>/examples/*.yaml)
    drgpolicy schema budget --policy policies/wuxi/2024.policy   # the budget that policy needs

A new kind is one entry in `SCHEMAS`: its name and a function that returns the schema.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from engine.inputs.budget import budget_schema
from engine.inputs.fields import json_schema as contract_schema
from engine.run import examples
from engine.run.settle import budget_input, load_policy
from policy_dsl import ir
from policy_dsl.errors import PolicyError

SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    "ir": ir.json_schema,
    "cases": partial(contract_schema, "cases"),
    "hospitals": partial(contract_schema, "hospitals"),
    "groups": partial(contract_schema, "groups"),
    "deductions": partial(contract_schema, "deductions"),
    "assessments": partial(contract_schema, "assessments"),
    "budget": budget_schema,
    "example": examples.json_schema,
}


class UnknownSchema(PolicyError):
    """A schema kind that is not published."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "schema",
        description=f"Print the JSON Schema of one of: {', '.join(SCHEMAS)}.",
    )
    parser.add_argument("kind", help=f"which schema: {', '.join(SCHEMAS)}")
    parser.add_argument(
        "--policy",
        type=Path,
        help="with budget: the budget.yaml this .policy file needs (its figures, in their shape)",
    )
    parser.set_defaults(run=run)


def schema(kind: str) -> dict[str, Any]:
    """The schema of `kind`; raises `UnknownSchema` naming the valid kinds."""
    make = SCHEMAS.get(kind)
    if make is None:
        raise UnknownSchema(f"no schema `{kind}`; valid kinds: {', '.join(SCHEMAS)}")
    return make()


def policy_schema(kind: str, path: Path) -> dict[str, Any]:
    """The budget schema of one policy (its declared figures, each in its shape)."""
    if kind != "budget":
        raise UnknownSchema(f"--policy goes with `schema budget`, not `schema {kind}`")
    policy = load_policy(path)
    return budget_schema([budget_input(i) for i in policy.inputs if i.table == "budget"])


def run(args: argparse.Namespace) -> int:
    found = schema(args.kind) if args.policy is None else policy_schema(args.kind, args.policy)
    print(json.dumps(found, ensure_ascii=False, indent=2))
    return 0
