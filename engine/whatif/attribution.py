"""Attribution per clause (条款归因): how the change from one version to the next splits over the
changed clauses.

Each unit of the diff (`policy_dsl.patch.separate`: one change with what it brings along, or
changes that cannot be separated) is applied alone to the base version and settled; its part is
what it changes against the base. What the parts do not explain is the interaction remainder
(交互项): total change − the sum of the parts. Money is in fen, so per hospital, per level and in
total the parts plus the interaction add up to the whole change exactly.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from engine.plan.polars.batch import Settings
from engine.run.progress import step
from engine.whatif.impact import Impact, impact_of
from engine.whatif.measured import Measured, measured_definitions
from engine.whatif.rerun import WORKERS, resettle
from engine.whatif.runs import Outcome, Runs
from policy_dsl import ast as a
from policy_dsl import ir
from policy_dsl.check import check
from policy_dsl.diff import Change, diff_versions
from policy_dsl.loader import Entry, Resolved
from policy_dsl.lower import lower
from policy_dsl.patch import Unit, part_name, separate

INTERACTION = "interaction"
#: The measure of the case payments in the long frames; every other measure is a money report.
PAYMENT = "payment"


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
    reports: dict[str, int] = field(default_factory=dict)
    report_levels: dict[str, dict[int, int]] = field(default_factory=dict)

    @property
    def moves_reports(self) -> bool:
        return any(self.reports.values()) or any(
            v for levels in self.report_levels.values() for v in levels.values()
        )

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
            "reports": self.reports,
            "report_levels": {
                r: {str(k): v for k, v in levels.items()}
                for r, levels in self.report_levels.items()
            },
        }


@dataclass(frozen=True)
class Attribution:
    """The parts, largest first (by money moved between hospitals), the interaction remainder,
    and per hospital (`hospital_id`, `level`, `part`, `delta`, long form; `part` is a part's key
    or `interaction`); `report_hospitals` the same for each money report (`report` column)."""

    impact: Impact
    parts: list[Part]
    interaction: int
    hospitals: pl.DataFrame
    report_hospitals: pl.DataFrame = field(default_factory=lambda: _empty_long(report=True))

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

    @property
    def reports(self) -> list[str]:
        """The money reports attributed, in the statement's order."""
        return list(self.report_hospitals["report"].unique(maintain_order=True))

    @property
    def interaction_reports(self) -> dict[str, int]:
        """The interaction per money report (fen)."""
        return _report_totals(self.report_hospitals.filter(pl.col("part") == INTERACTION))

    @property
    def interaction_report_levels(self) -> dict[str, dict[int, int]]:
        """The interaction per money report and hospital level (fen)."""
        return _report_levels(self.report_hospitals.filter(pl.col("part") == INTERACTION))

    def report_table(self) -> pl.DataFrame:
        """Per hospital and money report: the total change, one column per part and the
        interaction (fen)."""
        if self.report_hospitals.is_empty():
            return pl.DataFrame()
        index = ["hospital_id", "level", "report"]
        wide = self.report_hospitals.pivot("part", index=index, values="delta")
        total = self.impact.hospital_reports.select(
            "hospital_id", "report", pl.col("delta").alias("total")
        )
        return wide.join(total, on=["hospital_id", "report"], how="left").select(
            *index, "total", *self._keys()
        )

    def _keys(self) -> list[str]:
        return [p.key for p in self.parts] + [INTERACTION]

    def to_json(self) -> dict[str, Any]:
        return {
            "delta": self.impact.delta,
            "parts": [p.to_json() for p in self.parts],
            "interaction": self.interaction,
            "interaction_levels": self.interaction_levels,
            "hospitals": self.table().to_dicts(),
            "reports": {
                "names": self.reports,
                "delta": _report_totals(
                    self.report_hospitals.filter(pl.col("part").is_in(list(self._keys())))
                ),
                "interaction": self.interaction_reports,
                "interaction_levels": {
                    r: {str(k): v for k, v in levels.items()}
                    for r, levels in self.interaction_report_levels.items()
                },
                "hospitals": self.report_table().to_dicts(),
            },
        }


def attribute(
    runs: Runs,
    base: Resolved,
    new: Resolved,
    settings: Settings | None = None,
    impact: Impact | None = None,
    changes: list[Change] | None = None,
) -> Attribution:
    """Split the change from `base` to `new` (resolved versions that check) over its clauses;
    `impact`: their comparison on `runs` with `settings`, and `changes`: their diff
    (`diff_versions`), each when it is made already (the studio's what-if), else made here."""
    if impact is None:
        with step("settle both versions"):
            before = runs.outcome(compiled(base), settings)
            impact = impact_of(before, runs.outcome(compiled(new), settings))
    units = separate(base, new, diff_versions(base, new) if changes is None else changes)
    names = [r for r in impact.reports["report"] if r in _shared(impact)]
    start = _measures(impact.base, names)
    measured = []
    with (
        step("attribution: each changed clause alone", total=len(units)) as counting,
        ThreadPoolExecutor(max_workers=WORKERS) as pool,
    ):
        # a lone unit is the whole change: applied alone, it is the new version (not lowered)
        whole = len(units) == 1
        alone = [lower(unit.checked) if unit.ok and not whole else None for unit in units]
        found = pool.map(lambda policy: _alone(runs, impact, policy, settings), alone)
        for unit, after in zip(units, found, strict=True):
            measured.append((unit, _measures(after, names)))
            counting.advance()
    rows = [_delta(after, start, unit.clauses[0]) for unit, after in measured]
    total = _delta(_measures(impact.new, names), start, "total")
    none = total.with_columns(pl.lit(0, dtype=pl.Int64).alias("delta"))
    keys = ["hospital_id", "measure"]
    explained = pl.concat([none, *rows]).group_by(keys).agg(pl.col("delta").sum())
    interaction = total.join(explained, on=keys, how="left", suffix="_parts").select(
        *keys,
        pl.lit(INTERACTION).alias("part"),
        (pl.col("delta") - pl.col("delta_parts").fill_null(0)).alias("delta"),
    )
    levels = impact.hospitals.select("hospital_id", "level")
    every = levels.join(pl.concat([*rows, interaction]), on="hospital_id")
    order = {name: i for i, name in enumerate(names)}
    long = every.filter(pl.col("measure") == PAYMENT).drop("measure").sort("hospital_id")
    reports = (
        every.filter(pl.col("measure") != PAYMENT)
        .rename({"measure": "report"})
        .sort(pl.col("report").replace_strict(order, return_dtype=pl.Int64), "hospital_id")
        .select("hospital_id", "level", "part", "report", "delta")
    )
    parts = [_part(unit, long, reports, new, base) for unit, _ in measured]
    parts.sort(key=lambda p: (-p.moved, -abs(p.delta), -_report_weight(p), p.key))
    paid = interaction.filter(pl.col("measure") == PAYMENT)
    return Attribution(impact, parts, int(paid["delta"].sum()), long, reports)


def compiled(resolved: Resolved) -> ir.Policy:
    """The IR of a resolved version (raises `PolicyErrors` when it does not check)."""
    checked = check(resolved)
    checked.raise_for_errors()
    return lower(checked)


def _shared(impact: Impact) -> set[str]:
    """The money reports both versions have."""
    return set(impact.base.reports.columns) & set(impact.new.reports.columns) - {"hospital_id"}


def _alone(
    runs: Runs, impact: Impact, policy: ir.Policy | None, settings: Settings | None
) -> Measured:
    """A unit's version (None: one that cannot be separated, or the only one: the new version)
    as `runs` keeps it, else re-settled from the base run; only what the parts read of it."""
    if policy is None:
        return Measured.of_outcome(impact.new)
    kept = runs.kept(policy, settings)
    if kept is not None:
        return Measured.of_outcome(kept)
    base = impact.base.settlement
    only = measured_definitions(policy, base.period)
    return Measured.of(resettle(base, policy, settings, only))


def _measures(outcome: Outcome | Measured, reports: list[str]) -> pl.DataFrame:
    """Per hospital: the payment and each of `reports` (`hospital_id`, `measure`, `value`, fen)."""
    payment = outcome.cases.group_by("hospital_id").agg(
        pl.lit(PAYMENT).alias("measure"), pl.col("payment").sum().alias("value")
    )
    present = [r for r in reports if r in outcome.reports.columns]
    if not present:
        return payment
    money = outcome.reports.unpivot(
        index="hospital_id", on=present, variable_name="measure", value_name="value"
    ).with_columns(pl.col("value").cast(pl.Int64))
    return pl.concat([payment, money.select(payment.columns)])


def _delta(after: pl.DataFrame, start: pl.DataFrame, part: str) -> pl.DataFrame:
    """`after − start` per hospital and measure; a measure `after` lacks is unchanged."""
    keys = ["hospital_id", "measure"]
    joined = start.join(after, on=keys, how="full", coalesce=True, suffix="_after")
    before = pl.col("value").fill_null(0)
    return joined.select(
        *keys,
        pl.lit(part).alias("part"),
        (pl.col("value_after").fill_null(before) - before).alias("delta"),
    )


def _report_weight(part: Part) -> int:
    return sum(abs(v) for v in part.reports.values())


def _part(
    unit: Unit, long: pl.DataFrame, reports: pl.DataFrame, new: Resolved, base: Resolved
) -> Part:
    mine = long.filter(pl.col("part") == unit.clauses[0])
    money = reports.filter(pl.col("part") == unit.clauses[0])
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
        reports=_report_totals(money),
        report_levels=_report_levels(money),
    )


def _levels(frame: pl.DataFrame) -> dict[int, int]:
    summed = frame.group_by("level").agg(pl.col("delta").sum()).sort("level")
    return {int(level): int(delta) for level, delta in summed.rows()}


def _report_totals(frame: pl.DataFrame) -> dict[str, int]:
    """Per money report, the change summed (statement order)."""
    summed = frame.group_by("report", maintain_order=True).agg(pl.col("delta").sum())
    return {str(report): int(delta) for report, delta in summed.rows()}


def _report_levels(frame: pl.DataFrame) -> dict[str, dict[int, int]]:
    """Per money report and hospital level, the change summed."""
    return {
        str(report[0]): _levels(rows)
        for report, rows in frame.group_by("report", maintain_order=True)
    }


def _empty_long(report: bool = False) -> pl.DataFrame:
    schema = {"hospital_id": pl.String, "level": pl.Int64, "part": pl.String}
    extra = {"report": pl.String} if report else {}
    return pl.DataFrame(schema=schema | extra | {"delta": pl.Int64})


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


__all__ = ["INTERACTION", "PAYMENT", "Attribution", "Part", "attribute", "compiled"]
