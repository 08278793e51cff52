"""Every shipped policy settled on the bundled sample writes the same bytes as the golden
(`tests/golden/outputs/hashes.json`; regenerate, on purpose only, with
`.venv/bin/python -m tests.engine.output_hashes --write`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import POLICIES
from tests.engine.output_hashes import file_hash, golden, output_hashes


@pytest.mark.parametrize("written_only", [False, True])
def test_outputs_are_byte_identical_to_the_golden(written_only: bool) -> None:
    """Settled whole, or computing only what the outputs read (`drgpolicy settle`)."""
    found = output_hashes(written_only)
    stored = golden()
    assert sorted(found) == sorted(stored)  # the same files
    changed = [name for name in sorted(found) if found[name] != stored[name]]
    assert not changed, f"outputs differ from the golden: {changed}"


def test_the_golden_covers_every_shipped_policy_in_both_formats() -> None:
    stored = golden()
    for path in POLICIES.rglob("*.policy"):
        city, version = path.parent.name, path.stem
        for fmt in ("csv", "parquet"):
            assert f"{city}/{version}/{fmt}/manifest.json" in stored
            assert f"{city}/{version}/{fmt}/settlement/cases.{fmt}" in stored or any(
                name.startswith(f"{city}/{version}/{fmt}/") and name.endswith(f"/cases.{fmt}")
                for name in stored
            )


def test_a_changed_byte_changes_the_hash(tmp_path: Path) -> None:
    file = tmp_path / "cases.csv"
    file.write_bytes(b"case_id,payment\nC1,100.00\n")
    before = file_hash(file)
    file.write_bytes(b"case_id,payment\nC1,100.01\n")
    assert file_hash(file) != before


def test_a_manifest_hash_ignores_the_backends_version_but_not_what_was_settled(
    tmp_path: Path,
) -> None:
    """A fresh install resolving a newer polars must not move the golden; a changed count must."""
    file = tmp_path / "manifest.json"

    def manifest(version: str, settled: int) -> str:
        return json.dumps(
            {
                "backend": {"name": "polars", "version": version},
                "outputs": {},
                "rows": {"cases": {"settled": settled}},
            }
        )

    file.write_text(manifest("2.1.0", 20000), encoding="utf-8")
    before = file_hash(file)
    file.write_text(manifest("2.2.0", 20000), encoding="utf-8")
    assert file_hash(file) == before
    file.write_text(manifest("2.2.0", 19999), encoding="utf-8")
    assert file_hash(file) != before
