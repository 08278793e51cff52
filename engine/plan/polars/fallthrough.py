"""Cases whose classification read a missing value (缺失值落入后续分类): a class condition that
reads a value the case does not have (the group's average cost of an ungrouped case, a table row
or a `[group = …]` row that is not there, a division by zero) is neither true nor false. The
classification, first-match, then tries the next class — as if the condition were false — and
the case may end in the catch-all class (`normal`) without a word.

That reading is kept, and counted: per classification, per class, the cases whose condition was
missing when they reached it (before a class took them). A run reports the counts
(`Settlement.fallthrough()`, `manifest.json`: `classified_on_missing`) and prints a note;
`drgpolicy check` warns where a condition can read a missing value (W610).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

#: How many case ids a count keeps, to show with it.
EXAMPLES = 5


@dataclass(frozen=True)
class Fallthrough:
    """Per class, the rows whose condition was missing when they reached it; the first few
    row ids (by id) of any of them."""

    counts: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {"classes": self.counts, "first": self.examples}


def count_fallthrough(
    frame: pl.DataFrame, arms: list[tuple[str, str]], key: str | None
) -> Fallthrough:
    """`arms`: each conditional class in order, with the column of its condition in `frame`
    (null where missing); `key`: the column of row ids (`case_id`), if the rows have one."""
    if not arms:
        return Fallthrough()
    reached: pl.Expr = pl.lit(True)
    missed = []
    for name, column in arms:
        missed.append((pl.col(column).is_null() & reached).alias(name))
        reached = reached & ~pl.col(column).fill_null(False)
    flags = frame.select(*([pl.col(key)] if key else []), *missed)
    counts = flags.select(pl.col(name).sum() for name, _ in arms).row(0, named=True)
    found = {name: int(n) for name, n in counts.items() if n}
    if not found or key is None:
        return Fallthrough(found)
    anywhere = pl.any_horizontal(*(pl.col(name) for name in found))
    first = flags.filter(anywhere)[key].cast(pl.String).sort().head(EXAMPLES).to_list()
    return Fallthrough(found, first)


__all__ = ["EXAMPLES", "Fallthrough", "count_fallthrough"]
