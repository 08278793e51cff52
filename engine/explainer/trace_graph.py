"""What the steps of a case's trace read (依赖路径): the payment at the root, each step's inputs
that are steps of the trace under it. A step at a coarser grain (a group average, the point
value) is taken from the batch run and records no inputs: it is a leaf."""

from __future__ import annotations

from engine.explainer.trace import Step, Trace

ROOT = "payment"


def root_name(trace: Trace) -> str | None:
    """The step the payment's path starts from: `payment`, or the last step where a policy has
    none."""
    names = [s.name for s in trace.steps]
    if ROOT in names:
        return ROOT
    return names[-1] if names else None


def step_inputs(trace: Trace, step: Step) -> list[str]:
    """The inputs of `step` that are steps of the trace, in the order the step read them."""
    names = {s.name for s in trace.steps}
    return [n for n in step.inputs if n in names and n != step.name]


def reached(trace: Trace, start: str) -> set[str]:
    """The steps `start` reads, directly or through other steps, and `start` itself."""
    seen, todo = {start}, [start]
    while todo:
        for name in step_inputs(trace, trace.step(todo.pop())):
            if name not in seen:
                seen.add(name)
                todo.append(name)
    return seen


__all__ = ["ROOT", "reached", "root_name", "step_inputs"]
