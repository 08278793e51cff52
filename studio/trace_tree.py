"""The trace of one case as a tree (解释树), for the Explain page, without Streamlit: the payment at
the root, each step's inputs under it — an input that is itself a step of the trace opens to its
own formula, inputs, value and source — and how an allocation or a rank falls to the case, in
words.

A step at a coarser grain (a group average, the point value) is taken from the batch run and
records no inputs: it is a leaf. Steps the root does not read (the point value, beside the
payment) are roots of their own, after it.
"""

from __future__ import annotations

import html
from collections import deque
from collections.abc import Collection

import polars as pl

from engine.explainer.report_text import show
from engine.explainer.trace import AllocationCheck, CitedPassage, RankCheck, Step, Trace
from engine.explainer.trace_graph import ROOT, reached, root_name, step_inputs
from engine.page.markup import markdown_text as md
from studio import formats

#: The two ways the Explain page shows a trace.
TREE, FLAT = "tree, from the payment", "every step, in order"
KEY_PREFIX = "explain_node"


def roots(trace: Trace) -> list[str]:
    """The root, then each step no other step reaches (in the trace's order)."""
    first = root_name(trace)
    if first is None:
        return []
    found, covered = [first], reached(trace, first)
    read = {n for s in trace.steps for n in step_inputs(trace, s)}
    for step in trace.steps:
        if step.name not in covered and step.name not in read:
            found.append(step.name)
            covered |= reached(trace, step.name)
    return found


def path_to(trace: Trace, start: str, target: str) -> list[str] | None:
    """The shortest chain of steps from `start` to `target` through their inputs, both ends
    included (None when `start` does not read `target`)."""
    came_from: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        name = queue.popleft()
        if name == target:
            chain: list[str] = []
            at: str | None = name
            while at is not None:
                chain.append(at)
                at = came_from[at]
            return chain[::-1]
        for child in step_inputs(trace, trace.step(name)):
            if child not in came_from:
                came_from[child] = name
                queue.append(child)
    return None


def opened_at_first(trace: Trace, parting: str | None) -> set[tuple[str, ...]]:
    """The nodes drawn open when the tree is first shown: each root, and the chain down to the
    step where two versions part."""
    opened: set[tuple[str, ...]] = {(name,) for name in roots(trace)[:1]}
    for root in roots(trace):
        chain = path_to(trace, root, parting) if parting else None
        if chain:
            opened |= {tuple(chain[: i + 1]) for i in range(len(chain))}
            break
    return opened


def node_key(case_id: str, parting: str | None, path: tuple[str, ...]) -> str:
    """The widget key of a node: one per case, first difference and path from its root (the
    same step read in two places opens in each on its own)."""
    return f"{KEY_PREFIX}:{case_id}:{parting or ''}:{'/'.join(path)}"


# ---- what a node shows -----------------------------------------------------------------------


def input_kind(name: str, trace: Trace, params: Collection[str]) -> str:
    """What an input of a step is: another step, a parameter, a table row, a value of an earlier
    stage, or a field of the case's data."""
    if any(s.name == name for s in trace.steps):
        return "step"
    if "[" in name:
        return "table row"
    if name in params:
        return "parameter"
    if "." in name:
        return "earlier stage"
    return "case field"


def inputs_frame(
    step: Step,
    trace: Trace,
    params: Collection[str],
    steps_too: bool = True,
    money: Collection[str] = (),
) -> pl.DataFrame:
    """A step's inputs as (input, value, kind) rows, amounts (`money`) in ¥; `steps_too=False`
    leaves out the inputs that are steps (the tree shows them as nodes of their own)."""
    rows = [
        {
            "input": name,
            "value": formats.value(value, name in money),
            "kind": input_kind(name, trace, params),
        }
        for name, value in step.inputs.items()
    ]
    kept = [r for r in rows if steps_too or r["kind"] != "step"]
    return pl.DataFrame(kept, schema={"input": pl.String, "value": pl.String, "kind": pl.String})


def allocation_text(check: AllocationCheck) -> str:
    """How an `allocate` falls to the case: its exact share, the whole fen, the fen on top."""
    given = check.floor + check.fen_given
    if check.total is None or check.weight is None or check.weight_sum is None:
        base = "its share could not be computed"
    else:
        base = (
            f"the total {formats.value(check.total, True)} × its weight {show(check.weight)} ÷ its "
            f"group's weights {show(check.weight_sum)} = {check.share:,.4f} fen exactly"
        )
    return (
        f"allocation: {base}; {check.floor:,} whole fen"
        + (f" + {check.fen_given} left-over fen" if check.fen_given else "")
        + f" = {formats.money(given)}"
    )


def rank_text(check: RankCheck) -> str:
    """How a `rank` falls to the case: its group, its order keys, whether it takes part and the
    rows ahead of it (Markdown: the names and keys escaped)."""
    within = ", ".join(md(w) for w in check.within) or "all cases"
    keys = ", ".join(md(show(k)) for k in check.keys)
    if not check.eligible:
        return f"rank within {within} by {keys}: the case does not take part (`where` is false)"
    return (
        f"rank within {within} by {keys}: {check.ahead:,} row(s) of its group sort before it, "
        f"so it is number {check.position}"
    )


__all__ = [
    "FLAT",
    "ROOT",
    "TREE",
    "allocation_text",
    "input_kind",
    "inputs_frame",
    "node_key",
    "opened_at_first",
    "path_to",
    "rank_text",
    "reached",
    "root_name",
    "roots",
    "step_inputs",
]


def passage_html(cited: CitedPassage) -> str:
    """A quote's passage in its document as the Explain page shows it beside the step's source:
    the sentence, the quoted words in <mark>, the document's title; every text escaped."""
    text, pieces, at = cited.passage.text, [], 0
    for start, end in cited.passage.marks:
        pieces += [html.escape(text[at:start]), f"<mark>{html.escape(text[start:end])}</mark>"]
        at = end
    pieces.append(html.escape(text[at:]))
    return (
        '<blockquote class="passage" style="margin:0 0 0.5em 1.6em;padding-left:0.8em;'
        'border-left:3px solid #9ab;font-size:0.92em">'
        f"{''.join(pieces)}<br><small>— {html.escape(cited.document)}</small></blockquote>"
    )
