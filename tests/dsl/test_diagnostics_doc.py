"""`docs/diagnostics.md` is generated from the golden files and must be up to date."""

from __future__ import annotations

from policy_dsl.codes import CODES

from .make_diagnostics_doc import DOC, render_doc


def test_committed_catalogue_is_what_the_golden_files_generate() -> None:
    assert DOC.read_text(encoding="utf-8") == render_doc(), (
        "docs/diagnostics.md is stale: run `.venv/bin/python -m tests.dsl.make_diagnostics_doc`"
    )


def test_catalogue_has_a_section_and_an_index_row_per_code() -> None:
    text = render_doc()
    for code, title in CODES.items():
        assert f"\n### {code}\n\n**{title}**\n" in text
        assert f"| [{code}](#{code.lower()}) | {title} |" in text


def test_examples_show_the_rendered_diagnostic_with_caret_and_hint() -> None:
    text = render_doc()
    assert "E201.policy:18:54: error E201: `total_cost` is a case value" in text
    assert text.count("  hint: ") == len(CODES)
    assert text.count("```policy\n") == len(CODES)


def test_timeline_codes_have_their_example_across_two_versions() -> None:
    text = render_doc()
    assert (
        'E707/2024.policy:8:1: error E707: versions "2023" and "2024" of demo are both in force '
        "from 2023-10-01 to 2023-12-31"
    ) in text
    assert (
        "W702/2024.policy:7:1: warning W702: no version of demo is in force from 2023-07-01 "
        "to 2023-12-31"
    ) in text
    assert "# 2023.policy\n" in text and "effective 2023-01-01 to 2023-06-30" in text
