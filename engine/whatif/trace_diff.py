"""One case under two versions (病例对比): the two traces step by step, side by side, and the first
step where they part — in evaluation order, so what a step reads is compared before the step."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from engine.explain import Step, Trace
from engine.report_text import show, step_lines, table

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
    "≠ differs   - only in the old version   + only in the new version   "
    "· defined in both, read in one"
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
        """The first step whose value differs (or that only one side has)."""
        return next((p for p in self.pairs if p.differs), None)

    def to_json(self) -> dict[str, Any]:
        first = self.first
        return {
            "case_id": self.new.case_id,
            "old": _version(self.old),
            "new": _version(self.new),
            "first_difference": first.name if first else None,
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
    """The two traces side by side, the first difference marked ▶ and shown in full."""
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
    if first is None:
        return "\n".join([*lines, "The two versions agree on every step."])
    lines.append(f"▶ first difference: {first.name} ({first.label})")
    for name, side, step in (("old", old, first.old), ("new", new, first.new)):
        lines.append(f"  under {side.version}:")
        shown = step_lines(step) if step is not None else [first.absent(name)]
        lines += [f"    {line}" for line in shown]
    lines.append(LEGEND)
    return "\n".join(lines)


__all__ = ["StepPair", "TraceDiff", "render_trace_diff", "trace_diff"]
