"""The case grain's step tables, narrow (窄表): a stage's case steps carry only the columns of the
cases its definitions read, not all of them.

Every definition makes a new step table holding every column of its grain's table; at the case
grain the first of them was the cases table itself (~25 input columns), so each computed step
copied them all, a hundred million rows at a time, and every window or join over the cases
carried them (and spilled them). Now the first case table selects the grain keys, the fields
the stage reads and the earlier stages' values it reads by name; when the stage is done, its
case table is a view joining the other input columns back by `case_id` (unique in the cases,
`engine.inputs.fields`), in the order the wide table had them, so that whatever reads the stage
afterwards (the explainer, a later stage) finds the same columns as before. A settling stage's
steps also carry what its cases file and the monitoring stage read of the cases
(`later_reads`): those read the steps alone, without the join.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass

from sqlglot import exp

from engine.plan.polars.frames import KEY_COLUMNS
from engine.plan.sql import build as b
from policy_dsl import ir

#: The case keys every cases table starts with (`engine.run.settle.case_results`).
CASE_KEYS = ("case_id", "hospital_id", "drg_code", "month")
#: The case's own amounts every cases table ends with (`engine.run.outputs.stage_tables`).
CASE_AMOUNTS = ("patient_paid", "total_cost")


def case_reads(stage: ir.Stage) -> frozenset[str]:
    """The columns of the cases a stage's case steps may read: the grains' keys, every field
    its definitions read (of any table: a hospital's `level` is a column of the cases too) and
    every earlier stage's value it reads by name (`settled.payment`, a column of the monitoring
    stage's cases)."""
    found = set(KEY_COLUMNS.values())
    for node in ir.walk([d.expr for d in stage.definitions]):
        if isinstance(node, ir.FieldRef):
            found.add(node.column)
        elif isinstance(node, ir.Ref) and node.stage is not None:
            found.add(f"{node.stage}.{node.name}")
    return frozenset(found)


def later_reads(policy: ir.Policy, stage: ir.Stage) -> frozenset[str]:
    """The columns of the cases read from a settling stage's case table after it: the keys and
    amounts its cases file and statements read (`engine.run.case_file`) and the inputs the
    monitoring stage reads (whose cases are the settled stage's). Carried in the steps, they
    are read there, not joined back: a join of every case on every case by `case_id`, three
    times a run."""
    if not stage.settles_cases:
        return frozenset()
    found = {*CASE_KEYS, *CASE_AMOUNTS}
    if policy.monitoring is not None:
        found |= case_reads(policy.monitoring)
    return frozenset(found)


@dataclass(frozen=True)
class CaseParts:
    """A stage's case table in two parts: its last case step (`steps`, with the columns it
    carried and wrote) and the cases (`inputs`) holding the columns it did not carry; `columns`,
    the wide table's in order: the inputs no definition rewrote, then the columns the stage
    wrote, in their order (as `SqlStageRun.with_columns` adds them)."""

    steps: str
    steps_columns: list[str]
    inputs: str
    columns: list[str]

    @classmethod
    def of(
        cls, steps: str, carried: list[str], inputs: str, every: list[str], written: Set[str]
    ) -> CaseParts | None:
        """The parts of a stage's case table; None where its last step lacks no input."""
        if set(every) <= set(carried):
            return None
        columns = [c for c in every if c not in written] + [c for c in carried if c in written]
        return cls(steps, carried, inputs, columns)

    def holds(self, columns: Iterable[str]) -> bool:
        """Whether the steps hold every one of these columns (then read them there)."""
        return set(columns) <= set(self.steps_columns)

    def side(self, column: str) -> str:
        """The part a column is read from: `n` (the steps) or `c` (the cases)."""
        return "n" if column in self.steps_columns else "c"

    def joined(self) -> exp.Select:
        """The wide table: the inputs the steps lack joined back by `case_id`."""
        kept = [b.col(c, self.side(c)) for c in self.columns]
        on = b.compare("==", b.col("case_id", "n"), b.col("case_id", "c"))
        query = exp.select(*kept).from_(b.table(self.steps, "n"))
        return query.join(b.table(self.inputs, "c"), on=on, join_type="left")
