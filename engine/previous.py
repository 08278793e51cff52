"""The previous run (上一期结算) a settlement reads its growth rates from (`settle --previous DIR`):
last year's or last month's output folder of the same city, and the indicators it wrote.

`previous.cmi` in an indicator is that indicator's value for the same grain and key in the
previous run's `indicators.csv` (or `.parquet`). The folder is a `settle` output (its
`manifest.json` says so) of one policy, or of a policy folder: then the sub-folder of the same
city is taken.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from engine.out_folder import MARKER_KEY, SETTLEMENT
from policy_dsl.errors import PolicyError

#: The indicator table a settlement writes (`engine.indicators`), without its suffix.
TABLE = "indicators"
#: The columns of the previous run's table that a later run reads.
READ = ("indicator", "grain", "key", "value")


class PreviousError(PolicyError):
    """A `--previous` folder that is not a settlement of the city with its indicators."""


@dataclass(frozen=True)
class Previous:
    """A previous run: where it is, its period, policy, and its indicators' values."""

    folder: Path
    period: str
    city: str
    version: str
    values: pl.DataFrame  # indicator, grain, key (text), value

    @classmethod
    def read(cls, folder: Path | str, city: str) -> Previous:
        """The run of `city` in `folder` (itself, or its one sub-folder of that city)."""
        run = _run_of(Path(folder), city)
        manifest = _manifest(run)
        tables = (run / f"{TABLE}.csv", run / f"{TABLE}.parquet")
        table = next((path for path in tables if path.is_file()), None)
        if table is None:
            raise PreviousError(
                f"--previous {run} has no {TABLE}.csv: it was settled before runs wrote their "
                "indicators; settle that period again to have them"
            )
        values = _read(table)
        policy = manifest.get("policy", {})
        period = str(manifest.get("period"))
        return cls(run, period, str(policy.get("city")), str(policy.get("version")), values)

    def value(self, indicator: str, grain: str) -> pl.DataFrame | None:
        """The key and value of each row of an indicator at a grain (None if the previous run
        has none: not computed, or not available there)."""
        rows = self.values.filter(
            (pl.col("indicator") == indicator)
            & (pl.col("grain") == grain)
            & pl.col("value").is_not_null()
        )
        return rows.select("key", "value") if rows.height else None

    def to_json(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "period": self.period,
            "city": self.city,
            "version": self.version,
        }


def _run_of(folder: Path, city: str) -> Path:
    if not folder.is_dir():
        raise PreviousError(f"--previous {folder} is not a folder: give an earlier run's --out")
    if (folder / SETTLEMENT.marker).is_file():
        found = _city(folder)
        if found != city:
            raise PreviousError(
                f"--previous {folder} is a run of {found}, not of {city}: growth rates compare "
                "a city with itself"
            )
        return folder
    runs = [
        sub
        for sub in sorted(folder.iterdir())
        if (sub / SETTLEMENT.marker).is_file() and _city(sub) == city
    ]
    if len(runs) != 1:
        what = "no run" if not runs else f"{len(runs)} runs ({', '.join(r.name for r in runs)})"
        raise PreviousError(
            f"--previous {folder} holds {what} of {city}: give the output folder of one "
            "earlier settlement of the city"
        )
    return runs[0]


def _city(run: Path) -> Any:
    return _manifest(run).get("policy", {}).get("city")


def _manifest(folder: Path) -> dict[str, Any]:
    path = folder / SETTLEMENT.marker
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PreviousError(f"--previous {folder}: {path.name} cannot be read ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get(MARKER_KEY) != SETTLEMENT.name:
        raise PreviousError(f"--previous {folder} is not the output of `drgpolicy settle`")
    return manifest


def _read(path: Path) -> pl.DataFrame:
    try:
        if path.suffix == ".parquet":
            frame = pl.read_parquet(path, columns=list(READ))
        else:
            frame = pl.read_csv(path, columns=list(READ), infer_schema=False)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise PreviousError(f"--previous: {path} cannot be read ({exc})") from None
    value = pl.col("value").cast(pl.String).replace("", None)
    return frame.with_columns(
        pl.col("key").cast(pl.String).fill_null(""), value.cast(pl.Float64).alias("value")
    )
