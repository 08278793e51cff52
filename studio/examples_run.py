"""Running a city's example tests for the Examples page: every outcome, an unreadable example
or a policy that does not check shown as an error instead of stopping the run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from engine.run.examples import Mismatch, example_files, run_example
from policy_dsl.errors import PolicyError
from studio import formats, workspace


@dataclass
class Result:
    """One example's outcome: `pass`, `fail` (with mismatches) or `error` (with the reason)."""

    path: Path
    title: str
    status: str
    mismatches: list[Mismatch] = field(default_factory=list)
    error: str | None = None

    @property
    def name(self) -> str:
        return self.path.name


def files(root: Path, city: str) -> list[Path]:
    folder = root / workspace.check_name(city, "city")
    return example_files(folder) if folder.is_dir() else []


def run_one(path: Path) -> Result:
    try:
        outcome = run_example(path)
    except (PolicyError, OSError) as exc:
        return Result(path, path.stem, "error", error=str(exc))
    status = "pass" if outcome.passed else "fail"
    return Result(path, outcome.example.title, status, outcome.mismatches)


def run_all(paths: list[Path]) -> list[Result]:
    return [run_one(path) for path in paths]


def mismatch_frame(result: Result) -> pl.DataFrame:
    """Where, which value, expected and got (money as ¥ to the fen, a part of a fen kept)."""

    def shown(m: Mismatch, value: object) -> str:
        return formats.value(value, m.money)

    return pl.DataFrame(
        {
            "where": [m.where for m in result.mismatches],
            "value": [m.name for m in result.mismatches],
            "expected": [shown(m, m.expected) for m in result.mismatches],
            "got": [shown(m, m.got) for m in result.mismatches],
        }
    )


__all__ = ["Result", "files", "mismatch_frame", "run_all", "run_one"]
