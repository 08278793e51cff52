"""One bad policy file per diagnostic code: the checker reports exactly what the file says.

See `golden_cases.py` for the `# expect:` format; `docs/diagnostics.md` is built from the same
files (`test_diagnostics_doc.py`).
"""

from __future__ import annotations

import pytest

from policy_dsl.codes import CODES

from .golden_cases import GOLDEN, ROOT, GoldenCase, golden_cases

CASES = golden_cases()


def test_every_code_has_one_golden_file() -> None:
    covered = [case.code for case in CASES]
    assert len(covered) == len(set(covered)), "two golden files for one code"
    assert set(covered) == set(CODES)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.code)
def test_golden_file_is_named_after_its_code(case: GoldenCase) -> None:
    named = case.path.stem if case.path.parent == GOLDEN else case.path.parent.name
    assert named == case.code
    assert case.about, f"{case.path}: say in a comment what {case.code} means"


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.code)
def test_checker_reports_the_expected_diagnostic(case: GoldenCase) -> None:
    diagnostics = case.diagnostics()
    found = [d for d in diagnostics if case.expect.matches(d)]
    shown = "\n".join(d.render() for d in diagnostics)
    assert len(found) == 1, f"expected {case.expect} in:\n{shown}"
    d = found[0]
    text = f"{d.message} {d.hint or ''}"
    for word in case.expect.words:
        assert word in text, f"{word!r} not in {text!r}"


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.code)
def test_no_other_diagnostic_than_listed(case: GoldenCase) -> None:
    diagnostics = case.diagnostics()
    wanted = [case.expect, *case.also]
    unexpected = [d for d in diagnostics if not any(e.matches(d) for e in wanted)]
    missing = [e for e in wanted if not any(e.matches(d) for d in diagnostics)]
    assert not unexpected, "\n".join(d.render() for d in unexpected)
    assert not missing


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.code)
def test_rendered_diagnostic_has_place_caret_and_hint(case: GoldenCase) -> None:
    d = next(d for d in case.diagnostics() if case.expect.matches(d))
    lines = d.render().splitlines()
    assert lines[0].startswith(f"{d.file}:{d.line}:{d.column}: {d.severity} {d.code}: ")
    assert lines[1].lstrip().startswith(f"{d.line} | ")
    assert lines[2].strip().startswith("| ") and lines[2].rstrip().endswith("^")
    source_line = (ROOT / d.file).read_text(encoding="utf-8").splitlines()[d.line - 1]
    assert lines[1].endswith(source_line)
    assert lines[-1].startswith("  hint: "), f"{d.code} tells what is wrong but not how to fix it"
