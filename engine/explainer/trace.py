"""The trace of one case (解释): every step that decided its payment, recorded as data — each
definition with its formula, inputs and value, the classes tried, the adjustment steps, how an
allocation and a rank fall to it — for the terminal, the studio and `--json`. And the trace of
one value at a coarser grain (a hospital's, a month's, the period's), read from the batch run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from policy_dsl.quotes import Passage


@dataclass
class ClassCheck:
    """One class of a classification, tried in order."""

    name: str
    label: str
    condition: str
    result: bool | None
    chosen: bool


@dataclass
class StepCheck:
    """One adjustment step: whether it applied and the running value after it."""

    name: str
    label: str
    condition: str
    formula: str
    applied: bool
    value: Any


@dataclass
class AllocationCheck:
    """How an `allocate` falls to the case: its exact share of its group's total (the total ×
    its weight ÷ the group's weight sum), the whole fen of it, and the fen it was given on top
    (0 or 1: the fen left over after every row's whole fen go one each to the largest
    remainders, ties to the earlier row)."""

    total: float | None  # yuan, the group's total
    weight: float | None  # the case's weight
    weight_sum: float | None  # the weights of its group, summed over the batch frame's rows
    share: float  # fen, exact (0 where it cannot be computed, as in the batch plan)
    floor: int  # whole fen of the share
    fen_given: int  # the batch run's allocation less the floor: one left-over fen or none


@dataclass
class RankCheck:
    """How a `rank` falls to the case: whether it takes part (`where`), its order keys, and the
    rows of its `within` group that sort before it (the batch frame's rows)."""

    within: list[str]
    keys: list[Any]
    eligible: bool
    ahead: int  # rows of the group sorting before the case
    position: int | None  # ahead + 1, or None when the case does not take part


@dataclass
class CitedPassage:
    """The words of a cited document around a step's quote (原文): the sentences holding it,
    the quoted parts marked (`policy_dsl.quotes.Passage`)."""

    citation: str  # as the step's `citations` show it: `xc2024 低于……0.3倍以下`
    document: str  # the document's title
    passage: Passage


@dataclass
class Step:
    """One definition as it applies to the case."""

    name: str
    label: str
    grain: list[str]
    formula: str
    value: Any
    source: str  # "computed", "batch" (coarser grain), "window" (over many rows), "fixed"
    origin: str | None = None
    citations: list[str] = field(default_factory=list)
    inputs: dict[str, Any] = field(default_factory=dict)
    classes: list[ClassCheck] = field(default_factory=list)
    adjustments: list[StepCheck] = field(default_factory=list)
    allocations: list[AllocationCheck] = field(default_factory=list)
    ranks: list[RankCheck] = field(default_factory=list)
    #: the passage of each quote cited, where its document's text was found
    # (`engine.explainer.passages`)
    passages: list[CitedPassage] = field(default_factory=list)


#: Where a step's value comes from, in words (the terminal trace and the studio show it).
PROVENANCE = {
    "computed": "computed for this case",
    "batch": "at {grain}, from the batch run",
    "window": "over many cases, from the batch run",
    "fixed": "fixed from outside",
}


def provenance(step: Step) -> str:
    """Where a step's value comes from: `at hospital, group, from the batch run`…"""
    return PROVENANCE[step.source].format(grain=", ".join(step.grain) or "all")


@dataclass
class Trace:
    """Everything that decided one case's payment."""

    case_id: str
    city: str
    version: str
    policy_hash: str
    stage: str
    period: str
    facts: dict[str, Any]
    steps: list[Step]
    #: every definition of the stage: a step is recorded only for those the case reads
    defined: list[str] = field(default_factory=list)

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)

    def value(self, name: str) -> Any:
        return self.step(name).value

    def only(self, names: Collection[str]) -> Trace:
        """The trace with only the steps of `names`: a failing example shows the case's path to
        the value it got wrong (`engine.explainer.explain.leading_to`), not every definition of
        the stage (the standard indicators' `died`, `grouped`… first). The whole trace where none
        of `names` is a step."""
        if not any(step.name in names for step in self.steps):
            return self
        return replace(self, steps=[step for step in self.steps if step.name in names])

    def to_json(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass
class ValueStep:
    """One definition at the keys of a value coarser than the case: its value read from the
    batch run, and every name its formula reads with its value at the same keys."""

    name: str
    label: str
    grain: list[str]
    keys: dict[str, Any]  # the key columns of the row: {"hospital_id": "H70"}, {} for all
    formula: str
    value: Any
    source: str  # "batch", or "fixed" from outside
    origin: str | None = None
    citations: list[str] = field(default_factory=list)
    #: by name as the formula reads it: `actual_cost`, `monthly.payment`, `sum(total_cost)`
    inputs: dict[str, Any] = field(default_factory=dict)
    #: which of the step's own name and its inputs are money (shown to the fen)
    money: list[str] = field(default_factory=list)


@dataclass
class ValueTrace:
    """Why a hospital's (a month's, the period's) value is what it is: its definition, then
    each definition it reads at that grain or a coarser one, each once."""

    name: str
    keys: dict[str, Any]
    city: str
    version: str
    policy_hash: str
    stage: str
    period: str
    facts: dict[str, Any]  # the row's key columns and those they determine (level, tier)
    steps: list[ValueStep]

    def step(self, name: str) -> ValueStep:
        return next(s for s in self.steps if s.name == name)

    def value(self, name: str) -> Any:
        return self.step(name).value

    def to_json(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
