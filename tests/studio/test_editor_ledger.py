"""The Editor page shows the city's fidelity ledger checked (`policy_dsl.check.ledger`) beside
the policy's own diagnostics: ok with its counts, or each diagnostic at its line; nothing for a
city without a ledger."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import shared_sources
from tests.studio.apptest import editor_on, labels_of, line_of, open_app, replaced, texts

WUXI = "wuxi"
ROW_18 = "`retain_full_below`, `year_end.year_actual_payment` | as written"


def test_a_clean_ledger_is_shown_ok_with_its_counts(
    policies: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRGPOLICY_SOURCES", str(shared_sources()))
    at = open_app()
    editor_on(at, WUXI, "2024")
    assert "Ledger wuxi/fidelity.md: ok" in labels_of(at.expander)
    assert (
        "条文对照表 — 46 rows: 4 as written, 29 reading, 13 not encoded; sentences: 46 verified, "
        "0 not found, 0 unverifiable. Checked against the saved versions of wuxi: save to check "
        "it against the text edited here."
    ) in texts(at.caption)
    assert "wuxi/fidelity.md checks clean." in texts(at.success)


def test_a_ledger_error_is_listed_at_its_line_beside_the_diagnostics(policies: Path) -> None:
    ledger = policies / WUXI / "fidelity.md"
    text = ledger.read_text(encoding="utf-8")
    ledger.write_text(
        replaced(text, ROW_18, ROW_18.replace("retain_full_below", "retain_full_belw"))
    )
    at = open_app()
    editor_on(at, WUXI, "2024")
    # without the document's text (not in the city's sources/), W710 too
    assert "Ledger wuxi/fidelity.md: 1 error(s), 1 warning(s)" in labels_of(at.expander)
    line = line_of(text, ROW_18)
    column = text.split("\n")[line - 1].index("`retain_full_belo") + 1  # at its backtick
    assert (
        f"**E715** wuxi/fidelity.md line {line}, column {column}: row 18 names "
        "`retain_full_belw`, which no version it covers declares  \nhint: did you mean "
        "`retain_full_below`? name a parameter, table, definition or stage of the file, a "
        "stage's own as `stage.name`, a class, arm or step as `name.part`"
    ) in texts(at.error)
    assert any(w.startswith("**W710** wuxi/fidelity.md line 3, column") for w in texts(at.warning))


def test_a_city_without_a_ledger_shows_none(policies: Path) -> None:
    (policies / WUXI / "fidelity.md").unlink()
    at = open_app()
    editor_on(at, WUXI, "2024")
    assert not [label for label in labels_of(at.expander) if label.startswith("Ledger")]
    assert not [t for t in texts(at.caption) if "条文对照表" in t]
