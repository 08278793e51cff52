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
    assert "E201.policy:13:54: error E201: `total_cost` is a case value" in text
    assert text.count("  hint: ") == len(CODES) - 2  # every code but the two timeline checks
    assert text.count("```policy\n") == len(CODES) - 2
