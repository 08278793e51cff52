"""The indicators of a re-settled run taken from the run it was re-settled from (指标复用): a
what-if that moves a low-ratio threshold changes the low-ratio share, not the CMI, the cost
index or the length of stay, which read the cases alone — so only the indicators that read
something changed are evaluated again; the others keep the earlier run's values, which are
the values a fresh evaluation gives (each definition's inputs are the same).
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from engine.plan.polars.frames import StageResult
from policy_dsl.check.indicators import PREVIOUS, SETTLED

if TYPE_CHECKING:
    from engine.run.settle import Settlement

#: The aggregates a monitoring stage keeps between its definitions (`StageRun.kept_aggregates`).
_KEPT = re.compile(r"__kept\d+")


@dataclass(frozen=True)
class ResettledFrom:
    """The run a run was re-settled from (held weakly: a run dropped from a cache is not kept
    alive by those re-settled from it) and the monitoring stage's definitions whose values may
    differ from its."""

    earlier: weakref.ref[Settlement]
    redo: frozenset[str]


@dataclass(frozen=True)
class Reused:
    """The earlier run's monitoring frames, stripped of what may be stale, and the definitions
    whose values are taken from them."""

    frames: dict[frozenset[str], pl.DataFrame]
    home: dict[str, frozenset[str]]


def reused(settlement: Settlement, grains: frozenset[str] | None) -> Reused | None:
    """What the monitoring stage of `settlement` at `grains` can take from the run it was
    re-settled from, when that run's indicators are evaluated already (None otherwise)."""
    source = settlement.resettled_from
    earlier = source.earlier() if source is not None else None
    if source is None or earlier is None or earlier.previous is not settlement.previous:
        return None
    evaluated = earlier.kept_monitoring(grains)
    if evaluated is None:
        return None
    result: StageResult = evaluated.result
    home = {name: grain for name, grain in result.home.items() if name not in source.redo}
    stale = set(result.home) - set(home)
    frames = {
        grain: frame.drop([c for c in frame.columns if c in stale or _copied(c, settlement)])
        for grain, frame in result.frames.items()
    }
    return Reused(frames, home)


def _copied(column: str, settlement: Settlement) -> bool:
    """A column the stage made for its own use: an aggregate computed ahead, or a copy of an
    earlier stage's or the previous run's value (made again when read)."""
    stage, dot, _ = column.partition(".")
    copied = dot and stage in {*settlement.stages, SETTLED, PREVIOUS}
    return bool(copied) or _KEPT.fullmatch(column) is not None
