"""Attribution per clause (条款归因): how the change from one version to the next splits over the
changed clauses.

Each unit of the diff (`policy_dsl.patch.separate`: one change with what it brings along, or
changes that cannot be separated) is applied alone to the base version and settled; its part is
what it changes against the base. What the parts do not explain is the interaction remainder
(交互项): total change − the sum of the parts. Money is in fen, so per hospital, per level and in
total the parts plus the interaction add up to the whole change exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from engine.batch import Settings
from engine.whatif.impact import Impact, impact_of
from engine.whatif.runs import Outcome, Runs
from policy_dsl import ast as a
from policy_dsl import ir
from policy_dsl.check import check
from policy_dsl.diff import Change, diff_versions
from policy_dsl.loader import Entry, Resolved
from policy_dsl.lower import lower
from policy_dsl.patch import Unit, part_name, separate

INTERACTION = "interaction"


@dataclass(frozen=True)
class Part:
    """The effect of one unit applied alone to the base version; money in fen."""

    key: str
    label: str
    clauses: tuple[str, ...]
    descriptions: tuple[str, ...]
    brought: tuple[str, ...]
    note: str | None
    delta: int
    moved: int
    levels: dict[int, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "clauses": list(self.clauses),
            "changes": list(self.descriptions),
            "brought_along": list(self.brought),
            "note": self.note,
            "delta": self.delta,
            "moved": self.moved,
            "levels": {str(k): v for k, v in self.levels.items()},
        }


@dataclass(frozen=True)
class Attribution:
    """The parts, largest first (by money moved between hospitals), the interaction remainder,
    and per hospital (`hospital_id`, `level`, `part`, `delta`, long form; `part` is a part's key
    or `interaction`)."""

    impact: Impact
    parts: list[Part]
    interaction: int
    hospitals: pl.DataFrame

    def table(self) -> pl.DataFrame:
        """Per hospital: the total change, one column per part and the interaction."""
        wide = self.hospitals.pivot("part", index=["hospital_id", "level"], values="delta")
        columns = [p.key for p in self.parts] + [INTERACTION]
        total = self.impact.hospitals.select("hospital_id", pl.col("delta").alias("total"))
        return wide.join(total, on="hospital_id").select("hospital_id", "level", "total", *columns)

    def levels(self) -> pl.DataFrame:
        """Per level and part (and the interaction): the change in fen."""
        return (
            self.hospitals.group_by("level", "part")
            .agg(pl.col("delta").sum())
            .sort("level", "part")
        )

    @property
    def interaction_levels(self) -> dict[int, int]:
        """The interaction per hospital level (fen); under budget closure these, unlike their
        total, need not be zero."""
        return _levels(self.hospitals.filter(pl.col("part") == INTERACTION))

    def to_json(self) -> dict[str, Any]:
        return {
            "delta": self.impact.delta,
            "parts": [p.to_json() for p in self.parts],
            "interaction": self.interaction,
            "interaction_levels": self.interaction_levels,
            "hospitals": self.table().to_dicts(),
        }


def attribute(
    runs: Runs, base: Resolved, new: Resolved, settings: Settings | None = None
) -> Attribution:
    """Split the change from `base` to `new` (resolved versions that check) over its clauses."""
    base_ir, new_ir = compiled(base), compiled(new)
    impact = impact_of(runs.outcome(base_ir, settings), runs.outcome(new_ir, settings))
    units = separate(base, new, diff_versions(base, new))
    start = _by_hospital(impact.base)
    measured = [
        (unit, _by_hospital(runs.outcome(lower(unit.checked) if unit.ok else new_ir, settings)))
        for unit in units
    ]
    rows = [_delta(after, start, unit.clauses[0]) for unit, after in measured]
    total = _delta(_by_hospital(impact.new), start, "total")
    none = total.with_columns(pl.lit(0, dtype=pl.Int64).alias("delta"))
    explained = pl.concat([none, *rows]).group_by("hospital_id").agg(pl.col("delta").sum())
    interaction = total.join(explained, on="hospital_id", how="left", suffix="_parts").select(
        "hospital_id",
        pl.lit(INTERACTION).alias("part"),
        (pl.col("delta") - pl.col("delta_parts").fill_null(0)).alias("delta"),
    )
    levels = impact.hospitals.select("hospital_id", "level")
    long = levels.join(pl.concat([*rows, interaction]), on="hospital_id")
    parts = [_part(unit, long, new, base) for unit, _ in measured]
    parts.sort(key=lambda p: (-p.moved, -abs(p.delta), p.key))
    return Attribution(impact, parts, int(interaction["delta"].sum()), long.sort("hospital_id"))


def compiled(resolved: Resolved) -> ir.Policy:
    """The IR of a resolved version (raises `PolicyErrors` when it does not check)."""
    checked = check(resolved)
    checked.raise_for_errors()
    return lower(checked)


def _by_hospital(outcome: Outcome) -> pl.DataFrame:
    return outcome.cases.group_by("hospital_id").agg(pl.col("payment").sum())


def _delta(after: pl.DataFrame, start: pl.DataFrame, part: str) -> pl.DataFrame:
    joined = start.join(after, on="hospital_id", how="full", coalesce=True, suffix="_after")
    return joined.select(
        "hospital_id",
        pl.lit(part).alias("part"),
        (pl.col("payment_after").fill_null(0) - pl.col("payment").fill_null(0)).alias("delta"),
    )


def _part(unit: Unit, long: pl.DataFrame, new: Resolved, base: Resolved) -> Part:
    mine = long.filter(pl.col("part") == unit.clauses[0])
    return Part(
        key=unit.clauses[0],
        label=" + ".join(_label(c, new, base) for c in unit.changes),
        clauses=unit.clauses,
        descriptions=tuple(c.describe() for c in unit.changes),
        brought=unit.patched.brought,
        note=unit.note,
        delta=int(mine["delta"].sum()),
        moved=int(mine["delta"].clip(lower_bound=0).sum()),
        levels=_levels(mine),
    )


def _levels(frame: pl.DataFrame) -> dict[int, int]:
    summed = frame.group_by("level").agg(pl.col("delta").sum()).sort("level")
    return {int(level): int(delta) for level, delta in summed.rows()}


def _label(change: Change, new: Resolved, base: Resolved) -> str:
    """What an analyst calls a change: the Chinese label of what it changes, and its subject."""
    entry = _entry(new, change) or _entry(base, change)
    label = _declared_label(entry, change.part) if entry is not None else None
    return f"{label} ({change.subject})" if label else change.subject


def _entry(resolved: Resolved, change: Change) -> Entry | None:
    return next(
        (e for e in resolved.entries if (e.stage, e.decl.name) == (change.stage, change.name)),
        None,
    )


def _declared_label(entry: Entry, part: str | None) -> str | None:
    decl = entry.decl
    if part is None:
        return getattr(decl, "label", None)
    parts = getattr(decl, "classes", ()) + getattr(decl, "steps", ())
    found = next((p for p in parts if part_name(p) == part), None)
    if isinstance(found, a.ClassArm | a.Step):
        return found.label
    return getattr(decl, "label", None)


__all__ = ["INTERACTION", "Attribution", "Part", "attribute", "compiled"]
