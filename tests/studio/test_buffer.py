"""The editor's buffer: diagnostics, formatting and the template of a new version."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from policy_dsl.loader import read_policy_file
from studio import buffer
from tests.studio.apptest import replaced

XC = "xuancheng"


def test_an_error_is_found_with_its_code_and_fixed(policies: Path) -> None:
    text = (policies / XC / "2024.policy").read_text(encoding="utf-8")
    bad = replaced(text, "cost_ratio <= low_ratio_grassroots", "cost_ratio <= low_ratio_grasroots")
    found = buffer.analyse(bad, policies, XC)
    assert not found.ok
    error = next(d for d in found.diagnostics if d.severity == "error")
    line = bad[: bad.index("low_ratio_grasroots")].count("\n") + 1
    assert (error.code, error.line) == ("E101", line)
    assert error.hint == "did you mean `low_ratio_grassroots`?"
    assert buffer.analyse(text, policies, XC).ok


def test_a_syntax_error_is_a_diagnostic(policies: Path) -> None:
    found = buffer.analyse('policy xuancheng version "2024"\n  effective\n', policies, XC)
    assert found.file is None and not found.ok
    assert found.diagnostics[0].code.startswith("E00")
    assert found.version is None


def test_a_file_of_another_city_is_flagged(policies: Path) -> None:
    text = (policies / XC / "2024.policy").read_text(encoding="utf-8")
    found = buffer.analyse(text, policies, "wuxi")
    assert found.diagnostics[0].code == buffer.WRONG_CITY and not found.ok


def test_format_gives_the_canonical_layout() -> None:
    messy = 'policy x version "1"\n effective 2024-01-01   method points\n'
    formatted = buffer.format_text(messy)
    assert formatted.splitlines()[:3] == [
        'policy x version "1"',
        "  effective 2024-01-01",
        "  method points",
    ]
    assert buffer.format_text(formatted) == formatted


def test_next_version_names() -> None:
    assert buffer.next_version_name("2024", set()) == "2025"
    assert buffer.next_version_name("2024", {"2025"}) == "2026"
    assert buffer.next_version_name("v09", set()) == "v10"
    assert buffer.next_version_name("draft", set()) == "draft-2"


def test_a_new_version_extends_the_one_in_force_and_checks_clean(policies: Path) -> None:
    files = [read_policy_file(p) for p in sorted((policies / XC).glob("*.policy"))]
    base = buffer.base_in_force(files, dt.date(2023, 6, 1))
    assert base.header.version == "2023"
    base = buffer.base_in_force(files, dt.date(2030, 1, 1))  # none in force: the latest
    assert base.header.version == "2024"
    version, text = buffer.new_version_text(base, {"2023", "2024"})
    assert version == "2025"
    assert 'extends "2024"' in text and "effective 2025-01-01" in text
    found = buffer.analyse(text, policies, XC)
    assert found.ok, [d.render() for d in found.diagnostics]
    assert found.version == "2025"
