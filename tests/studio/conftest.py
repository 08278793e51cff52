"""Fixtures of the studio tests: a tmp copy of `policies/` the app is pointed at (tests never
write the real folder), and a tmp cache folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import POLICIES, SAMPLE

APP = Path(__file__).resolve().parents[2] / "studio" / "app.py"


@pytest.fixture
def policies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES, root)
    monkeypatch.setenv("DRGPOLICY_POLICIES", str(root))
    monkeypatch.setenv("DRGPOLICY_DATA", str(SAMPLE))
    monkeypatch.setenv("DRGPOLICY_STUDIO_CACHE", str(tmp_path / "cache"))
    return root
