"""The run a settlement replaces (重新结算): a fund office settles a month again after a
correction (a corrected `deductions.csv`, `cases.csv`…) into the same `--out`, and the new
manifest says what moved against the run it replaced — read before the swap, since the swap
deletes it: which input files changed (by table: `cases.csv` and `cases.parquet` are one), whether
the policy changed, and per hospital the money columns that moved, exact to the fen.

Only a run of the same city and period, written by name (`--labels en`) as CSV or Parquet, is
compared; another one (a workbook, Chinese headers, another month) is said not to be.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from engine.inputs.contract import file_sha256
from engine.inputs.earlier import other_tables
from engine.inputs.indicator_runs import settle_manifest
from engine.plan.money import fen_text
from engine.run.out_folder import SETTLEMENT
from engine.run.table_files import WORKBOOK, Tables, csv_frame

#: The statement tables compared, per settling stage (`<stage>/hospitals`).
STATEMENT = "/hospitals"


@dataclass(frozen=True)
class Replaced:
    """The earlier settlement in an output folder: its manifest, and why it cannot be compared
    (None when it can)."""

    folder: Path
    manifest: dict[str, Any]
    sha256: str
    not_compared: str | None

    @classmethod
    def read(cls, folder: Path, city: str, period: str) -> Replaced | None:
        """The settlement of `folder` (None for a new folder, or one without a manifest)."""
        if not (folder / SETTLEMENT.marker).is_file():
            return None
        manifest = settle_manifest(folder, "--out")
        settled = f"{manifest.get('policy', {}).get('city')} {manifest.get('period')}"
        reason = None
        if manifest.get("labels", "en") != "en" or WORKBOOK in manifest.get("outputs", {}):
            reason = "it was written for people (--labels zh or --format xlsx)"
        elif settled != f"{city} {period}":
            reason = f"it settled {settled}"
        else:
            reason = next(
                (
                    f"its {name} is not the file it wrote"
                    for name, sha in manifest.get("outputs", {}).items()
                    if STATEMENT in name
                    and (not (folder / name).is_file() or file_sha256(folder / name) != sha)
                ),
                None,
            )
        return cls(folder, manifest, file_sha256(folder / SETTLEMENT.marker), reason)

    def against(self, manifest: dict[str, Any], tables: Tables) -> dict[str, Any] | None:
        """What moved from this run to the run of `manifest` whose tables are `tables`; None
        when nothing did — the same input files, policy and money: a re-run, whose outputs are
        then byte for byte a fresh run's (same inputs and policy, same bytes)."""
        record = {"manifest_sha256": self.sha256, "period": self.manifest.get("period")}
        if self.not_compared is not None:
            return record | {"not_compared": self.not_compared}
        before, after = self.manifest.get("inputs", {}), manifest["inputs"]
        changes = {
            "inputs_changed": sorted({*other_tables(before, after), *other_tables(after, before)}),
            "policy_changed": self.manifest.get("policy", {}).get("hash")
            != manifest["policy"]["hash"],
            "moved": self._moved(tables),
        }
        return record | changes if any(changes.values()) else None

    def _moved(self, tables: Tables) -> dict[str, dict[str, str]]:
        """Hospital → `stage.column` → how much its money moved (`+9.00`), where it did."""
        moved: dict[str, dict[str, str]] = {}
        for name in sorted(tables):
            frame, money = tables[name]
            written = [n for n in self.manifest.get("outputs", {}) if n.startswith(f"{name}.")]
            if not name.endswith(STATEMENT) or not written:
                continue
            after = csv_frame(frame, money)
            columns = [n for n, dtype in after.schema.items() if isinstance(dtype, pl.Decimal)]
            path = self.folder / written[0]
            parquet = path.suffix == ".parquet"
            before = pl.read_parquet(path) if parquet else pl.read_csv(path, infer_schema=False)
            columns = [n for n in columns if n in before.columns]
            both = _fen(before, columns).join(
                _fen(after, columns), on="hospital_id", how="full", coalesce=True, suffix="_new"
            )
            stage = name.removesuffix(STATEMENT)
            for row in both.fill_null(0).sort("hospital_id").iter_rows(named=True):
                for column in columns:
                    delta = row[f"{column}_new"] - row[column]
                    if delta:
                        text = fen_text(delta)
                        moved.setdefault(row["hospital_id"], {})[f"{stage}.{column}"] = (
                            text if delta < 0 else f"+{text}"
                        )
        return dict(sorted(moved.items()))


def _fen(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Each hospital's money in whole fen (its months summed), exact: as the decimal written."""
    amount = [
        (pl.col(n).cast(pl.String).replace("", None).cast(pl.Decimal(38, 2)) * 100).cast(pl.Int64)
        for n in columns
    ]
    return frame.group_by(pl.col("hospital_id").cast(pl.String)).agg(a.sum() for a in amount)


__all__ = ["Replaced"]
