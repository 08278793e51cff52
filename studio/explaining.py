"""Explaining a case in the studio: finding it by id, its steps as the page shows them, and the
diff of its traces under two versions as a table (`engine.whatif.trace_diff` pairs the steps)."""

from __future__ import annotations

import polars as pl

from engine.explain import Step
from engine.report_text import show
from engine.settle import Settlement
from engine.whatif.trace_diff import TraceDiff

#: Steps shown open: the outputs an analyst reads first.
OUTPUTS = frozenset(
    {"category", "case_points", "case_weight", "coefficient", "settled_points", "payment"}
)


def find_cases(result: Settlement, text: str, limit: int = 20) -> list[str]:
    """Case ids settled in the run: the exact id if present, else those containing `text`."""
    cases = result.data.cases["case_id"]
    wanted = text.strip()
    if not wanted:
        return cases.head(limit).to_list()
    if (cases == wanted).any():
        return [wanted]
    return cases.filter(cases.str.contains(wanted, literal=True)).head(limit).to_list()


def step_title(step: Step) -> str:
    return f"{step.name} = {show(step.value)} — {step.label}"


def diff_frame(diff: TraceDiff) -> pl.DataFrame:
    """Every step of the case under both versions: values, and whether the rule reads
    differently."""
    pairs = diff.pairs
    return pl.DataFrame(
        {
            "step": [p.name for p in pairs],
            "label": [p.label for p in pairs],
            "old": [show(p.old.value) if p.old else "—" for p in pairs],
            "new": [show(p.new.value) if p.new else "—" for p in pairs],
            "status": [p.status for p in pairs],
            "rule changed": [
                p.old is not None and p.new is not None and p.old.formula != p.new.formula
                for p in pairs
            ],
        }
    )


__all__ = ["OUTPUTS", "diff_frame", "find_cases", "step_title"]
