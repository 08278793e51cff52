"""A case picked in a table (the What-if page's cases that change category) opened on the Explain
page (病例解释链接): the page's pickers set to the case, its two versions, its dataset and period,
and the explanation run — written against a plain mapping so that it is tested without a
browser."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from studio.datasets import Dataset

PAGE = "pages/explain.py"
#: The dataset an upload made, handed to the Explain page (its uploader starts empty).
HANDED = "explain_handed_dataset"
#: The dataset pickers' state copied from one page to the other (`widgets.pick_dataset`).
DATASET_KEYS = ("data_kind", "gen_cases", "gen_seed", "folder", "encoding")


def open_case(
    state: MutableMapping[Any, Any],
    case_id: str,
    city: str,
    versions: tuple[str, str],
    period: str,
    dataset: Dataset,
    source: str = "whatif",
) -> None:
    """Set the Explain page to explain `case_id` under `versions` (new against base, as the
    What-if page's options name them: a saved version or the editor's buffer)."""
    base, new = versions
    state["explain_city"] = city
    state["explain_version"] = new
    state["explain_compare"] = True
    state["explain_other"] = base
    state["explain_period"] = period
    state["explain_case"] = case_id
    state["explain_run"] = True
    for key in DATASET_KEYS:
        if f"{source}_{key}" in state:
            state[f"explain_{key}"] = state[f"{source}_{key}"]
    state[HANDED] = dataset


__all__ = ["HANDED", "PAGE", "open_case"]
