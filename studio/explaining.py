"""Explaining a case in the studio: finding it by id, its steps as the page shows them, and the
diff of its traces under two versions as a table (`engine.whatif.trace_diff` pairs the steps)."""

from __future__ import annotations

from collections.abc import Collection

import polars as pl

from engine.explainer.explain import Step
from engine.run.settle import Settlement
from engine.whatif.trace_diff import TraceDiff
from studio import formats

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


def step_title(step: Step, money: Collection[str] = ()) -> str:
    """`payment = ¥5,075.58 — 病例支付额`."""
    return f"{step.name} = {formats.value(step.value, step.name in money)} — {step.label}"


def diff_frame(diff: TraceDiff, money: Collection[str] = ()) -> pl.DataFrame:
    """Every step of the case under both versions: values (amounts in ¥), and whether the rule
    reads differently."""
    pairs = diff.pairs

    def shown(step: Step | None) -> str:
        return "—" if step is None else formats.value(step.value, step.name in money)

    return pl.DataFrame(
        {
            "step": [p.name for p in pairs],
            "label": [p.label for p in pairs],
            "old": [shown(p.old) for p in pairs],
            "new": [shown(p.new) for p in pairs],
            "status": [p.status for p in pairs],
            "rule changed": [
                p.old is not None and p.new is not None and p.old.formula != p.new.formula
                for p in pairs
            ],
        }
    )


__all__ = ["OUTPUTS", "diff_frame", "find_cases", "step_title"]
