"""What-if fixtures: the Xuancheng versions, the sample loaded once, a report written once."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import main
from engine.inputs.contract import Inputs
from engine.run.settle import load_data, load_policy
from tests.conftest import POLICIES, SAMPLE

XUANCHENG = POLICIES / "xuancheng"
OLD, NEW = XUANCHENG / "2023.policy", XUANCHENG / "2024.policy"


@pytest.fixture(scope="session")
def sample_inputs() -> Inputs:
    return load_data(SAMPLE, load_policy(NEW))


@pytest.fixture(scope="session")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`drgpolicy whatif` on the sample, Xuancheng 2023 → 2024, with a one-parameter sweep."""
    out = tmp_path_factory.mktemp("whatif") / "report"
    args = ["whatif", "--base", str(OLD), "--new", str(NEW), "--data", str(SAMPLE)]
    args += ["--period", "2024", "--out", str(out), "--set", "low_ratio_grassroots=0.25,0.3,0.35"]
    assert main(args) == 0
    return out
