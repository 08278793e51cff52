"""Shared fixtures: repository paths and a settled bundled sample (computed once per session)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import polars as pl
import pytest
from hypothesis import settings

from policy_dsl.check.ledger import read_ledger

# Hypothesis: no time limit per example (CI machines are shared and loaded; a slow example is not
# a failing one — speed is measured by the benchmarks). Under `.ci/run` (DRGPOLICY_CI=1) the
# examples are derandomized: a commit's CI gives the same answer every time it runs; a developer's
# own runs draw new examples (and keep what fails in .hypothesis/ to replay).
settings.register_profile("drgpolicy", deadline=None)
settings.register_profile("drgpolicy-ci", deadline=None, derandomize=True, database=None)
settings.load_profile("drgpolicy-ci" if os.environ.get("DRGPOLICY_CI") == "1" else "drgpolicy")

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
SAMPLE = ROOT / "sample"
SHARED_DATA = ROOT.parent / "shared" / "data"
#: The five source documents' texts, kept outside the repository (never copied in).
SHARED_SOURCES = ROOT.parent / "shared" / "sources"


def shared_sources() -> Path:
    """`../shared/sources`; a test that needs it is skipped, with the reason, where it is absent
    (the texts are never copied into the repository)."""
    if not SHARED_SOURCES.is_dir():
        pytest.skip(
            f"the source documents' texts are not at {SHARED_SOURCES} (../shared/sources): "
            "the quotes of the shipped policies are not checked against them here"
        )
    return SHARED_SOURCES


@pytest.fixture(autouse=True)
def _no_sources_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test sees the same search path for documents' texts, whatever the shell sets
    (`DRGPOLICY_SOURCES`): those that need more give it themselves."""
    monkeypatch.delenv("DRGPOLICY_SOURCES", raising=False)


@pytest.fixture(autouse=True)
def _no_compile_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test compiles its policies afresh (a test that patches the compiler must not be
    served another test's IR); `tests/engine/test_compile_cache.py` turns the cache on."""
    monkeypatch.setenv("DRGPOLICY_COMPILE_CACHE", "off")


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`drgpolicy ARGS…` in this process: the exit code, stdout and stderr."""
    from engine.cli import main

    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def ledger_lines(policy: Path, *, verified: bool) -> list[str]:
    """The summary line `drgpolicy check` prints for a shipped city's ledger, after the last file
    of its folder (none after the others); its sentences found in the document when `verified`
    (the texts given), else unverifiable with one warning (W710)."""
    if policy != max(policy.parent.glob("*.policy")):
        return []
    ledger = policy.parent / "fidelity.md"
    rows = len(read_ledger(ledger).rows)
    found = f"{rows} verified, 0 not found, 0" if verified else f"0 verified, 0 not found, {rows}"
    warnings = "0 warnings" if verified else "1 warning"
    return [f"{ledger}: ok (0 errors, {warnings}); {rows} rows, sentences: {found} unverifiable"]


def shipped_policies() -> list[Path]:
    return sorted(POLICIES.rglob("*.policy"))


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLE


#: Cases in `sample_cut`.
CUT_CASES = 500


@pytest.fixture(scope="session")
def sample_cut(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 500 cases of the sample (by id), with its hospitals, groups, budget, deductions
    and assessment scores: a data folder that settles in a tenth of the time, for tests that
    settle many times."""
    folder = tmp_path_factory.mktemp("sample-cut")
    cases = pl.read_csv(SAMPLE / "cases.csv", infer_schema_length=0)
    cases.sort("case_id").head(CUT_CASES).write_csv(folder / "cases.csv")
    parts = ("hospitals.csv", "groups.csv", "budget.yaml", "deductions.csv", "assessments.csv")
    for name in parts:
        shutil.copyfile(SAMPLE / name, folder / name)
    return folder
