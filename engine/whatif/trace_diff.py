"""One case under two versions (病例对比): the two traces step by step, side by side, and the first
step where they part on the payment's dependency path — in evaluation order, so what a step reads
is compared before the step. A step whose value differs but that the payment does not see (it is
read only by steps whose value is the same under both versions) is marked ≠, never first."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from engine.explainer.explain import Step, Trace
from engine.explainer.report_text import show, step_lines, table
from engine.explainer.trace_graph import root_name, step_inputs

MARKS = {
    "same": " ",
    "differs": "≠",
    "first": "▶",
    "old only": "-",
    "new only": "+",
    "not read in old": "·",
    "not read in new": "·",
}
LEGEND = (
    "▶ first difference on the payment's path   ≠ differs   - only in the old version   "
    "+ only in the new version   · defined in both, read in one"
)


@dataclass(frozen=True)
class StepPair:
    """A definition in either trace (None on the side whose case does not read it); whether
    each version defines it at all."""

    name: str
    old: Step | None
    new: Step | None
    in_old: bool = True
    in_new: bool = True

    @property
    def label(self) -> str:
        step = self.new or self.old
        assert step is not None
        return step.label

    @property
    def differs(self) -> bool:
        if self.old is None or self.new is None:
            return True
        return not _same(self.old.value, self.new.value)

    @property
    def moves(self) -> bool:
        """Whether the difference can move what reads it: a step only one side has or reads,
        whose value is false or missing, is a rule that does not apply to the case — the same
        as its absence on the other side."""
        one_sided = self.new if self.old is None else self.old if self.new is None else None
        if one_sided is not None:
            return one_sided.value is not None and one_sided.value is not False
        return self.differs

    @property
    def status(self) -> str:
        """`same`, `differs`, `new only` / `old only` (the other version has no such
        definition), or `not read in old` / `not read in new` (it has, but the case does not
        read it there)."""
        if self.old is None:
            return "not read in old" if self.in_old else "new only"
        if self.new is None:
            return "not read in new" if self.in_new else "old only"
        return "differs" if self.differs else "same"

    def absent(self, side: str) -> str:
        """Why a side has no step: `(not read in the old version)` or `(no such step)`."""
        defined = self.in_old if side == "old" else self.in_new
        return f"(not read in the {side} version)" if defined else "(no such step)"


@dataclass(frozen=True)
class TraceDiff:
    """Two traces of one case and their steps paired by name."""

    old: Trace
    new: Trace
    pairs: list[StepPair]

    @property
    def first(self) -> StepPair | None:
        """The first step, in evaluation order, on the payment's dependency path whose value
        differs (or that only one side has): None when the payment is the same."""
        moved = set(self.payment_path)
        return next((p for p in self.pairs if p.name in moved), None)

    @property
    def first_anywhere(self) -> StepPair | None:
        """The first step whose value differs, whether or not the payment reads it."""
        return next((p for p in self.pairs if p.differs), None)

    @property
    def payment_path(self) -> list[str]:
        """The chain of differing steps from the payment down to the first difference (empty
        when the payment is the same): each reads the next, in either version. A step whose
        value is the same under both versions ends the way down (what it reads changed nothing
        the payment sees), as does a one-sided rule that does not apply (`StepPair.moves`)."""
        pairs = {p.name: p for p in self.pairs}
        roots = [r for r in dict.fromkeys(map(root_name, (self.new, self.old))) if r]
        came_from: dict[str, str | None] = {r: None for r in roots if pairs[r].moves}
        todo = list(came_from)
        while todo:
            name = todo.pop(0)
            for child in self._reads(name):
                if child not in came_from and pairs[child].moves:
                    came_from[child] = name
                    todo.append(child)
        last = next((p.name for p in self.pairs if p.name in came_from), None)
        chain: list[str] = []
        while last is not None:
            chain.append(last)
            last = came_from[last]
        return chain[::-1]

    def _reads(self, name: str) -> list[str]:
        """The steps `name` reads in either version (the new version's first)."""
        read: list[str] = []
        for trace in (self.new, self.old):
            step = next((s for s in trace.steps if s.name == name), None)
            read += step_inputs(trace, step) if step is not None else []
        return list(dict.fromkeys(read))

    def to_json(self) -> dict[str, Any]:
        first, anywhere = self.first, self.first_anywhere
        return {
            "case_id": self.new.case_id,
            "old": _version(self.old),
            "new": _version(self.new),
            "first_difference": first.name if first else None,
            "payment_path": self.payment_path,
            "first_difference_anywhere": anywhere.name if anywhere else None,
            "steps": [
                {
                    "name": p.name,
                    "label": p.label,
                    "old": None if p.old is None else p.old.value,
                    "new": None if p.new is None else p.new.value,
                    "status": p.status,
                }
                for p in self.pairs
            ],
            "traces": {"old": self.old.to_json(), "new": self.new.to_json()},
        }


def trace_diff(old: Trace, new: Trace) -> TraceDiff:
    """Pair the steps of two traces of the same case, in the new trace's order (a step only the
    old trace has comes after the step before it there)."""
    before = {s.name: s for s in old.steps}
    after = {s.name: s for s in new.steps}
    order = list(after)
    for index, name in enumerate(before):
        if name not in after:
            earlier = [n for n in list(before)[:index] if n in order]
            order.insert(order.index(earlier[-1]) + 1 if earlier else 0, name)
    pairs = [
        StepPair(n, before.get(n), after.get(n), _defines(old, n), _defines(new, n)) for n in order
    ]
    return TraceDiff(old, new, pairs)


def _defines(trace: Trace, name: str) -> bool:
    """Whether the trace's version defines `name` (a trace without the list: if it reads it)."""
    return name in trace.defined or any(s.name == name for s in trace.steps)


def _same(first: Any, second: Any) -> bool:
    if isinstance(first, float) and isinstance(second, float):
        return math.isclose(first, second, rel_tol=1e-12, abs_tol=0.0)
    return bool(first == second)


def _version(trace: Trace) -> dict[str, str]:
    return {"city": trace.city, "version": trace.version, "policy_hash": trace.policy_hash}


def render_trace_diff(diff: TraceDiff) -> str:
    """The two traces side by side, the first difference on the payment's path marked ▶ and
    shown in full with the chain that leads the payment to it."""
    old, new = diff.old, diff.new
    facts = ", ".join(f"{k} {show(v)}" for k, v in new.facts.items() if k != "case_id")
    first = diff.first
    rows = [
        [
            MARKS["first"] if pair is first else MARKS[pair.status],
            pair.name,
            pair.label,
            "" if pair.old is None else show(pair.old.value),
            "" if pair.new is None else show(pair.new.value),
        ]
        for pair in diff.pairs
    ]
    lines = [
        f"Case {new.case_id}: {old.city} {old.version} (policy {old.policy_hash[:12]}) vs "
        f"{new.city} {new.version} (policy {new.policy_hash[:12]}), stage {new.stage}, "
        f"period {new.period}",
        f"  {facts}",
        "",
        table(["", "step", "label", old.version, new.version], rows),
        "",
    ]
    shown = first or diff.first_anywhere
    if shown is None:
        return "\n".join([*lines, "The two versions agree on every step."])
    if first is not None:
        lines.append(f"▶ first difference: {first.name} ({first.label}), on the payment's path")
        lines.append("  " + " ← ".join(diff.payment_path))
    else:
        lines.append(
            f"The payment is the same under both versions; the first step that differs, "
            f"{shown.name} ({shown.label}), does not reach it"
        )
    for name, side, step in (("old", old, shown.old), ("new", new, shown.new)):
        lines.append(f"  under {side.version}:")
        listed = step_lines(step) if step is not None else [shown.absent(name)]
        lines += [f"    {line}" for line in listed]
    lines.append(LEGEND)
    return "\n".join(lines)


__all__ = ["StepPair", "TraceDiff", "render_trace_diff", "trace_diff"]
