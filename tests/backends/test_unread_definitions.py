"""`drgpolicy settle` (`settle(..., written_only=True)`) leaves out the definitions no output
reads on every backend (`engine.run.settle.left_out`): a policy whose unread definition
overflows settles alike on polars and DuckDB, with the same outputs, and stops on both when
settled whole (an explanation, a what-if), where that definition is computed and checked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.inputs.rundata import Period
from engine.plan.polars.finite import NotFinite
from engine.run.settle import load_data, load_policy, settle
from tests.conftest import POLICIES, run_cli

#: A hospital value no output reads, `inf` (the sum of costs times 10³⁰⁸).
UNREAD = (
    '\nlet unread_ratio "未被任何输出读取的比值" : money at hospital =\n  sum(total_cost) * '
    + " * ".join(["100000000000000"] * 22)
    + '\n  assumption "an unread value that overflows"\n'
)


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("unread") / "xuancheng"
    shutil.copytree(POLICIES / "xuancheng", folder)
    path = folder / "2024.policy"
    path.write_text(path.read_text(encoding="utf-8") + UNREAD, encoding="utf-8")
    return path


def test_an_unread_overflow_settles_alike_on_polars_and_duckdb(  # type: ignore[no-untyped-def]
    capsys, policy: Path, sample_cut: Path, tmp_path: Path
) -> None:
    written = {}
    for backend in ("polars", "duckdb"):
        out = tmp_path / backend
        code, _, err = run_cli(
            capsys, "settle", "--policy", str(policy), "--data", str(sample_cut),
            "--period", "2024", "--out", str(out), "--backend", backend,
        )  # fmt: skip
        assert code == 0, err
        written[backend] = {p.relative_to(out): p.read_bytes() for p in out.rglob("*.csv")}
    assert written["polars"] and written["polars"] == written["duckdb"]


@pytest.mark.parametrize("backend", ["polars", "duckdb"])
def test_settled_whole_it_stops_on_both(policy: Path, sample_cut: Path, backend: str) -> None:
    loaded = load_policy(policy)
    inputs = load_data(sample_cut, loaded)
    with pytest.raises(NotFinite, match="unread_ratio"):
        settle(loaded, inputs, Period.parse("2024"), backend=backend)
