"""One conformance suite for every backend (后端一致性): the same policy and data settled on polars
and on a SQL backend must give byte-identical `<stage>/*.csv` and `indicators.csv` (the monitoring
stage evaluated in the database where the cases stay there: `engine.plan.sql.monitoring`). A
difference is a bug in the backend, never a tolerance to widen. Each backend's test module calls
these checks with its own database (DuckDB per run; one Spark session per module)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.inputs.contract import Inputs
from engine.inputs.rundata import Period
from engine.plan.sql.database import Database
from engine.run.examples import compare, settle_example
from engine.run.outputs import fill_outputs
from engine.run.settle import Settlement, load_data, settle
from policy_dsl import ir
from policy_dsl.errors import PolicyError

Opener = Callable[[], Database]


def stage_files(result: Settlement) -> dict[str, bytes]:
    """The bytes of every `<stage>/*.csv` a run writes, and of its `indicators.csv`."""
    with tempfile.TemporaryDirectory(prefix="drgpolicy-conformance-") as out:
        folder = Path(out)
        fill_outputs(result, folder)
        found = [*folder.glob("*/*.csv"), *folder.glob("indicators.csv")]
        return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(found)}


def first_difference(polars: dict[str, bytes], other: dict[str, bytes]) -> str | None:
    """Where two runs' files first differ: the file and the first differing line of each."""
    if polars.keys() != other.keys():
        return f"files differ: {sorted(polars)} vs {sorted(other)}"
    for name, data in polars.items():
        if data != other[name]:
            ours, theirs = data.decode().splitlines(), other[name].decode().splitlines()
            for number, (a, b) in enumerate(zip(ours, theirs, strict=False), start=1):
                if a != b:
                    return f"{name} line {number}:\n  polars {a}\n  other  {b}\n  header {ours[0]}"
            return f"{name}: {len(ours)} lines vs {len(theirs)}"
    return None


def same_outputs(
    policy: ir.Policy, folder: Path, period: str, opener: Opener, **options: object
) -> str | None:
    """Settle `folder` under `policy` on polars and on the opened backend; the first difference
    of their stage files (None when byte-identical). A run polars refuses (a `PolicyError`:
    not finite, a missing column…) the backend must refuse with the same words."""
    inputs = load_data(folder, policy)
    database = opener()
    try:  # open while the files are written: DuckDB writes the cases tables itself
        polars = _run(policy, inputs, period, "polars", options)
        other = _run(policy, inputs, period, database, options)
        if isinstance(polars, str) or isinstance(other, str):
            return (
                None if polars == other else f"polars: {polars!s:.2000}\nbackend: {other!s:.2000}"
            )
        assert other.backend == database.name and polars.backend == "polars"
        return first_difference(stage_files(polars), stage_files(other))
    finally:
        database.close()


def _run(
    policy: ir.Policy, inputs: Inputs, period: str, backend: str | Database, options: dict[str, Any]
) -> Settlement | str:
    """The settlement, or the words of the `PolicyError` that refused it."""
    try:
        return settle(policy, inputs, Period.parse(period), backend=backend, **options)
    except PolicyError as exc:
        return f"{type(exc).__name__}: {exc}"


def example_on(path: Path, opener: Opener) -> str | None:
    """An analyst's example settled on the backend: it passes, and its files equal polars'."""
    example, polars = settle_example(path)
    database = opener()
    try:
        _, other = settle_example(path, backend=database)
        mismatches = compare(example, other)
        if mismatches:
            return "\n".join(m.render() for m in mismatches)
        return first_difference(stage_files(polars), stage_files(other))
    finally:
        database.close()
