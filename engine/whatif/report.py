"""A what-if run from end to end (政策模拟): impact, attribution per clause, threshold exposure and
an optional parameter sweep of one dataset and period, and the three files it writes —
`report.html` (self-contained, charts as inline SVG), `summary.md` and `whatif.json` (the same
numbers as data; money in fen) — written atomically.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.plan.polars.batch import Settings
from engine.run.out_folder import MARKER_KEY, WHATIF
from engine.run.outputs import write_folder_atomically
from engine.whatif.attribution import Attribution, attribute
from engine.whatif.exposure import Exposure, declared_types, exposure
from engine.whatif.impact import Impact
from engine.whatif.indicators import to_json as indicators_json
from engine.whatif.report_html import render_html
from engine.whatif.report_md import render_markdown
from engine.whatif.runs import Runs
from engine.whatif.sweep import Sweep, sweep
from engine.whatif.wording import effect
from policy_dsl.errors import PolicyError
from policy_dsl.loader import Resolved

FORMAT_VERSION = "1.0"


class CrossCity(PolicyError):
    """A what-if of two versions of different cities, not asked for (`--cross-city`)."""


def check_same_city(base: Resolved, new: Resolved, cross_city: bool) -> None:
    """Refuse to compare versions of two cities unless `cross_city` says it is meant."""
    if base.header.city == new.header.city or cross_city:
        return
    raise CrossCity(
        f"the base is {base.header.city} {base.header.version} and the new version is "
        f"{new.header.city} {new.header.version}: a what-if compares two versions of one city. "
        "To settle the same cases under two cities' rules anyway, pass --cross-city "
        "(cross_city=True in Python); the report's heading then says so"
    )


@dataclass(frozen=True)
class Report:
    """Everything one what-if run found; `cross_city` when its versions are of two cities."""

    data: str
    period: str
    attribution: Attribution
    exposure: Exposure | None
    sweep: Sweep | None
    cross_city: bool = False
    #: the two policy files, where they are of one city and version (an edited copy of a
    # version against it: `hefei 2024 → 2024` named neither)
    files: tuple[str, str] | None = None

    def side(self, index: int, version: str) -> str:
        """A side of the comparison as shown (`version`), with its file where both sides are of
        one version (0: the base, 1: the new)."""
        return f"{version} ({self.files[index]})" if self.files else version

    @property
    def impact(self) -> Impact:
        return self.attribution.impact

    def to_json(self) -> dict[str, Any]:
        return {
            MARKER_KEY: WHATIF.name,
            "format_version": FORMAT_VERSION,
            "data": self.data,
            "period": self.period,
            "cross_city": self.cross_city,
            "effect": effect(self.impact),
            "impact": self.impact.to_json(),
            "indicators": indicators_json(self.impact),
            "attribution": self.attribution.to_json(),
            "exposure": self.exposure.to_json() if self.exposure else None,
            "sweep": self.sweep.to_json() if self.sweep else None,
        }


def whatif(
    runs: Runs,
    base: Resolved,
    new: Resolved,
    data: str,
    grid: Mapping[str, Sequence[float]] | None = None,
    settings: Settings | None = None,
    with_exposure: bool = True,
    cross_city: bool = False,
) -> Report:
    """Compare and attribute `base` → `new`, measure the new version's thresholds and sweep
    `grid` (one or two of its parameters) on the cases of `runs`. Two versions of different
    cities are refused (`CrossCity`) unless `cross_city`."""
    check_same_city(base, new, cross_city)
    attribution = attribute(runs, base, new, settings)
    policy = attribution.impact.new.policy
    exposed = exposure(runs, policy, settings, declared_types(new)) if with_exposure else None
    swept = sweep(runs, policy, grid, settings) if grid else None
    crossed = base.header.city != new.header.city
    same = (base.header.city, base.header.version) == (new.header.city, new.header.version)
    files = (str(base.top.path), str(new.top.path)) if same else None
    return Report(data, runs.period.label, attribution, exposed, swept, crossed, files)


def write_report(report: Report, out: Path, protect: Iterable[Path] = ()) -> None:
    """Write `report.html`, `summary.md` and `whatif.json` into `out`, atomically (refused when
    `out` is or holds one of `protect`, the run's inputs)."""
    data = json.dumps(report.to_json(), ensure_ascii=False, indent=2, default=str) + "\n"
    write_folder_atomically(
        out,
        {
            "report.html": render_html(report).encode("utf-8"),
            "summary.md": render_markdown(report).encode("utf-8"),
            "whatif.json": data.encode("utf-8"),
        },
        kind=WHATIF,
        protect=protect,
    )


__all__ = ["CrossCity", "Report", "check_same_city", "whatif", "write_report"]
