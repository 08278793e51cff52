"""Every analyst's example under policies/ passes (the same runner as `drgpolicy test`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.examples import example_files, run_example
from tests.conftest import POLICIES

EXAMPLES = example_files(POLICIES)


def test_every_city_has_examples() -> None:
    cities = {p.parent.name for p in POLICIES.rglob("*.policy")}
    covered = {p.parent.parent.name for p in EXAMPLES}
    assert cities <= covered


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_example(path: Path) -> None:
    outcome = run_example(path)
    assert outcome.passed, "\n".join(m.render() for m in outcome.mismatches)
