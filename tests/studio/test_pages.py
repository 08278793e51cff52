"""Every page of the studio through Streamlit's AppTest, against a tmp copy of `policies/`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from engine.explain import explain
from engine.outputs import stage_tables
from engine.rundata import Period
from engine.settle import load_data, load_policy, settle
from policy_dsl.lower import compile_text
from studio.editing import DRAFT, NEW
from studio.widgets import BUFFER
from tests.conftest import SAMPLE
from tests.studio.conftest import APP

XC = "xuancheng"


def open_app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    assert not at.exception
    if page:
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception
    return at


def editor_on(at: AppTest, city: str, choice: str) -> str:
    at.selectbox(key="editor_city").set_value(city).run()
    at.selectbox(key="editor_choice").set_value(choice).run()
    assert not at.exception
    return str(at.text_area(key="editor_text").value)


def texts(elements: object) -> list[str]:
    return [str(e.value) for e in elements]  # type: ignore[attr-defined]


def test_editor_error_fix_and_save(policies: Path) -> None:
    at = open_app()
    text = editor_on(at, XC, "2024")
    assert text == (policies / XC / "2024.policy").read_text(encoding="utf-8")

    bad = text.replace("cost_ratio < low_ratio_grassroots", "cost_ratio < low_ratio_grasroots")
    at.text_area(key="editor_text").set_value(bad).run()
    errors = texts(at.error)
    assert any("E101" in e and "line 37" in e and "low_ratio_grassroots" in e for e in errors)
    assert at.button(key="editor_save").disabled

    fixed = text.replace("ratio = 30%", "ratio = 35%")
    at.text_area(key="editor_text").set_value(fixed).run()
    assert not at.error
    at.button(key="editor_save").click().run()
    assert any("Saved xuancheng/2024.policy" in s for s in texts(at.success))
    assert "ratio = 35%" in (policies / XC / "2024.policy").read_text(encoding="utf-8")


def test_editor_format_button(policies: Path) -> None:
    at = open_app()
    text = editor_on(at, XC, "2024")
    at.text_area(key="editor_text").set_value(text.replace("  method points", "   method points"))
    at.run()
    at.button(key="editor_format").click().run()
    assert at.text_area(key="editor_text").value == text


def test_editor_new_version_and_draft(policies: Path) -> None:
    at = open_app()
    text = editor_on(at, XC, NEW)
    assert 'version "2025"' in text and 'extends "2024"' in text
    assert not at.error
    broken = text + "\nparam x"
    at.text_area(key="editor_text").set_value(broken).run()
    assert at.error
    at.button(key="editor_draft").click().run()
    assert (policies / ".drafts" / XC / "2025.policy.draft").read_text(encoding="utf-8") == broken
    assert at.selectbox(key="editor_choice").value == DRAFT + "2025"
    assert not (policies / XC / "2025.policy").exists()


def test_editor_confirmation_before_overwriting_an_extended_version(policies: Path) -> None:
    at = open_app()
    text = editor_on(at, XC, "2023")
    at.text_area(key="editor_text").set_value(text + "\n# edited\n").run()
    assert any("extended by" in w for w in texts(at.warning))
    at.button(key="editor_save").click().run()
    assert any("Not saved" in e for e in texts(at.error))
    assert "# edited" not in (policies / XC / "2023.policy").read_text(encoding="utf-8")
    at.checkbox(key="editor_confirm").check().run()
    at.button(key="editor_save").click().run()
    assert "# edited" in (policies / XC / "2023.policy").read_text(encoding="utf-8")


def test_versions_page_timeline_and_diff(policies: Path) -> None:
    at = open_app("versions")
    at.selectbox(key="versions_city").set_value(XC).run()
    assert not at.exception
    markdown = texts(at.markdown)
    assert any("change(s)** from 2023 to 2024" in m for m in markdown)
    labels = [e.label for e in at.expander]
    assert "added · parameter low_ratio_grassroots" in labels
    assert any("source after:** source xc2024" in m for m in markdown)
    assert at.dataframe  # timeline table and the semantic diff


def test_explain_page_tree_and_trace_diff(policies: Path) -> None:
    at = open_app("explain")
    at.selectbox(key="explain_city").set_value(XC).run()
    at.checkbox(key="explain_compare").check().run()
    at.text_input(key="explain_case").set_value("C000004")
    next(b for b in at.button if b.label == "Explain").click().run()
    assert not at.exception

    policy = load_policy(policies / XC / "2024.policy")
    trace = explain(settle(policy, load_data(SAMPLE, policy), Period.parse("2024")), "C000004")
    labels = [e.label for e in at.expander]
    for step in trace.steps:
        assert any(label.endswith(f"{step.name} = " + label.split(" = ")[1]) for label in labels)
    assert any(label.startswith("payment = ") for label in labels)
    assert any("first difference" in label for label in labels)
    assert any("part first at" in w for w in texts(at.warning))


def test_explain_finds_cases_by_part_of_their_id(policies: Path) -> None:
    at = open_app("explain")
    at.selectbox(key="explain_city").set_value(XC).run()
    at.text_input(key="explain_case").set_value("00000")
    next(b for b in at.button if b.label == "Explain").click().run()
    assert at.selectbox(key="explain_pick").options[:2] == ["C000001", "C000002"]


def test_examples_page_passes_and_shows_a_failure(policies: Path) -> None:
    example = policies / XC / "examples" / "bilateral.yaml"
    text = example.read_text(encoding="utf-8")
    assert "payment: 1800.00" in text
    example.write_text(text.replace("payment: 1800.00", "payment: 1900.00"), encoding="utf-8")
    at = open_app("examples")
    at.selectbox(key="examples_city").set_value(XC).run()
    at.button(key="examples_run").click().run()
    assert not at.exception
    assert any("6 passed, 1 failed" in e for e in texts(at.error))
    assert any("Trace of case C1" in m for m in texts(at.markdown))


@pytest.mark.parametrize("page", ["versions", "whatif", "explain", "examples"])
def test_every_page_loads(policies: Path, page: str) -> None:
    open_app(page)


def expected_hospitals(policies: Path, text_new: str) -> pl.DataFrame:
    """Per hospital payment (元) under the saved 2024 and the edited text, by the engine."""
    period = Period.parse("2024")
    base = load_policy(policies / XC / "2024.policy")
    edited = compile_text(text_new, str(policies / XC / "2024.policy"))
    inputs = load_data(SAMPLE, base)
    frames = []
    for name, policy in (("base", base), ("new", edited)):
        result = settle(policy, inputs, period)
        hospitals = stage_tables(result, "settlement")["hospitals"]
        frames.append(hospitals.select("hospital_id", (pl.col("payment") / 100).alias(name)))
    return (
        frames[0]
        .join(frames[1], on="hospital_id")
        .with_columns(delta=(pl.col("new") - pl.col("base")).round(2))
    )


def every_hospital(at: AppTest) -> pd.DataFrame:
    """The What-if page's table of every hospital (the longest with a `tier` column)."""
    tables = [d.value for d in at.dataframe if "tier" in d.value and "pct" in d.value]
    return max(tables, key=len)


def test_whatif_page_matches_the_engine(policies: Path) -> None:
    at = open_app()
    text = editor_on(at, XC, "2024")
    edited = text.replace("ratio = 30%", "ratio = 35%")
    at.text_area(key="editor_text").set_value(edited).run()
    at.switch_page("pages/whatif.py").run()
    at.selectbox(key="whatif_city").set_value(XC).run()
    at.selectbox(key="whatif_base").set_value("2024").run()
    at.selectbox(key="whatif_new").set_value(BUFFER).run()
    next(b for b in at.button if b.label == "Run what-if").click().run()
    assert not at.exception

    expected = expected_hospitals(policies, edited)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["payment (元)"] == f"{expected['new'].sum():,.2f}"
    totals = at.dataframe[0].value
    payment = totals[totals["measure"] == "payment"].iloc[0]
    assert payment["new"] == pytest.approx(expected["new"].sum(), abs=0.005)
    hospitals = every_hospital(at)
    shown = dict(zip(hospitals["hospital_id"], hospitals["delta"], strict=True))
    for row in expected.iter_rows(named=True):
        assert shown[row["hospital_id"]] == pytest.approx(row["delta"], abs=0.005)
    assert any("interaction" in str(d.value.get("part", "")) for d in at.dataframe)
    assert any("low_ratio_grassroots" in str(list(d.value.get("clause", []))) for d in at.dataframe)
    assert at.get("download_button")


def test_whatif_slider_sets_the_parameter(policies: Path) -> None:
    at = open_app("whatif")
    at.selectbox(key="whatif_city").set_value(XC).run()
    at.selectbox(key="whatif_base").set_value("2024").run()
    at.selectbox(key="whatif_new").set_value("2024").run()
    at.slider(key="whatif_p_low_ratio_grassroots").set_value(0.35)
    next(b for b in at.button if b.label == "Run what-if").click().run()
    assert not at.exception
    text = (policies / XC / "2024.policy").read_text(encoding="utf-8")
    expected = expected_hospitals(policies, text.replace("ratio = 30%", "ratio = 35%"))
    hospitals = every_hospital(at)
    shown = dict(zip(hospitals["hospital_id"], hospitals["delta"], strict=True))
    for row in expected.iter_rows(named=True):
        assert shown[row["hospital_id"]] == pytest.approx(row["delta"], abs=0.005)
    assert any("low_ratio_grassroots" in c.value for c in at.caption)
