"""An earlier settlement's indicators read back (`indicators.csv`, or `.parquet`, and the run's
`manifest.json`): by a later run for its growth rates (`engine.inputs.previous`) and by `drgpolicy
monitor` (`engine.monitor`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from engine.inputs.contract import file_sha256
from engine.run.out_folder import MARKER_KEY, SETTLEMENT, read_marker
from engine.run.output_labels import named
from engine.run.table_files import WORKBOOK
from policy_dsl.errors import PolicyError

if TYPE_CHECKING:
    from engine.run.settle import Settlement

#: The indicator table a settlement writes (`engine.run.indicators`), without its suffix.
TABLE = "indicators"


class RunError(PolicyError):
    """A folder that is not a settlement's output with its indicators."""


@dataclass(frozen=True)
class IndicatorRun:
    """A settlement's output folder: its period, policy and indicators (`value` as a number)."""

    folder: Path
    period: str
    city: str
    version: str
    hash: str
    table: pl.DataFrame

    @classmethod
    def read(cls, folder: Path, what: str) -> IndicatorRun:
        """The run in `folder`; `what` names the argument in messages (`--previous`)."""
        manifest = settle_manifest(folder, what)
        tables = (folder / f"{TABLE}.csv", folder / f"{TABLE}.parquet")
        table = next((path for path in tables if path.is_file()), None)
        if table is None and WORKBOOK in manifest.get("outputs", {}):
            raise RunError(
                f"{what} {folder} was written as a workbook (--format xlsx): its indicators are "
                f"a sheet of {WORKBOOK}, which {what} does not read; settle that period again "
                "with --format csv (the default) or parquet — into another --out to keep the "
                "workbook"
            )
        if table is None:
            raise RunError(
                f"{what} {folder} has no {TABLE}.csv: it was settled before runs wrote their "
                "indicators; settle that period again to have them"
            )
        written = manifest.get("outputs")
        if not isinstance(written, dict) or file_sha256(table) != written.get(table.name):
            raise RunError(
                f"{what} {folder}: {table} is not the file that run wrote (its sha256 is not the "
                "one its manifest.json gives): changed after the run, it no longer says what "
                "the run measured; settle that period again, or put back the file it wrote"
            )
        policy = manifest.get("policy", {})
        return cls(
            folder,
            str(manifest.get("period")),
            str(policy.get("city")),
            str(policy.get("version")),
            str(policy.get("hash")),
            _read(table, what, manifest.get("headers", {}).get(table.name, {})),
        )

    @classmethod
    def of(cls, settlement: Settlement) -> IndicatorRun:
        """A settlement's indicators as if read back from its output folder (kept in memory:
        the studio's months)."""
        policy = settlement.policy
        table = settlement.indicators().with_columns(pl.col("value").cast(pl.Float64))
        folder = Path(f"<{policy.city} {policy.version} {settlement.period.label}>")
        return cls(folder, settlement.period.label, policy.city, policy.version, policy.hash, table)

    def to_json(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "period": self.period,
            "city": self.city,
            "version": self.version,
            "hash": self.hash,
        }


def settle_manifest(folder: Path, what: str) -> dict[str, Any]:
    """The `manifest.json` of a settlement's output folder (refused if it is none)."""
    if not folder.is_dir():
        raise RunError(f"{what} {folder} is not a folder: give an earlier run's --out")
    path = folder / SETTLEMENT.marker
    try:
        manifest = read_marker(path)
    except (OSError, ValueError) as exc:
        raise RunError(
            f"{what} {folder} is not the output of `drgpolicy settle` ({path.name}: {exc})"
        ) from None
    if not isinstance(manifest, dict) or manifest.get(MARKER_KEY) != SETTLEMENT.name:
        raise RunError(f"{what} {folder} is not the output of `drgpolicy settle`")
    return manifest


def city_of(folder: Path, what: str) -> Any:
    return settle_manifest(folder, what).get("policy", {}).get("city")


def _read(path: Path, what: str, headers: dict[str, str]) -> pl.DataFrame:
    """The table by name (a run with `--labels zh` wrote Chinese headers: its manifest's
    `headers` give the names back)."""
    try:
        if path.suffix == ".parquet":
            frame = pl.read_parquet(path).cast(pl.String)
        else:
            frame = pl.read_csv(path, infer_schema=False)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise RunError(f"{what}: {path} cannot be read ({exc})") from None
    frame = named(frame, headers)
    value = pl.col("value").replace("", None).cast(pl.Float64)
    met = pl.col("met").replace("", None).replace({"true": "1", "false": "0"}).cast(pl.Int8)
    return frame.with_columns(
        pl.col("key").fill_null(""), value.alias("value"), (met == 1).alias("met")
    )
