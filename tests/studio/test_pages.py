"""Every page of the studio through Streamlit's AppTest, against a tmp copy of `policies/`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from engine.explain import explain
from engine.outputs import stage_tables
from engine.rundata import Period
from engine.settle import load_data, load_policy, settle
from policy_dsl.lower import compile_text
from policy_dsl.parser import keywords
from studio import policy_editor
from studio.editing import DRAFT, NEW
from studio.state import EDITOR_COMPONENT, EDITOR_PLAIN
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


def component(at: AppTest) -> dict[str, Any]:
    """The arguments the Editor page drew the policy editor component with (AppTest shows a
    custom component as an element it cannot drive, with its JSON arguments)."""
    found = [
        e for e in at.get("component_instance") if e.proto.component_name.endswith(".policy_editor")
    ]
    assert len(found) == 1, "the Editor page draws one policy editor"
    return dict(json.loads(found[0].proto.json_args))


def editor_on(at: AppTest, city: str, choice: str) -> str:
    at.selectbox(key="editor_city").set_value(city).run()
    at.selectbox(key="editor_choice").set_value(choice).run()
    assert not at.exception
    return str(component(at)["text"])


def type_in(at: AppTest, text: str, revision: int | None = None) -> dict[str, Any]:
    """What the component sends when typing stops — the whole text, for the revision it was
    drawn with — and the arguments the page draws it with next."""
    sent_for = component(at)["revision"] if revision is None else revision
    at.session_state[EDITOR_COMPONENT] = {"text": text, "revision": sent_for}
    at.run()
    assert not at.exception
    return component(at)


def line_of(text: str, part: str) -> int:
    return text[: text.index(part)].count("\n") + 1


def texts(elements: object) -> list[str]:
    return [str(e.value) for e in elements]  # type: ignore[attr-defined]


def test_editor_marks_an_error_as_typed_then_saves_the_fix(policies: Path) -> None:
    at = open_app()
    text = editor_on(at, XC, "2024")
    assert text == (policies / XC / "2024.policy").read_text(encoding="utf-8")
    assert component(at)["marks"] == []

    bad = text.replace("cost_ratio < low_ratio_grassroots", "cost_ratio < low_ratio_grasroots")
    drawn = type_in(at, bad)
    assert drawn["text"] == bad
    error = next(m for m in drawn["marks"] if m["severity"] == "error")
    line = line_of(bad, "low_ratio_grasroots")
    column = bad.split("\n")[line - 1].index("low_ratio_grasroots") + 1
    assert (error["code"], error["line"], error["column"]) == ("E101", line, column)
    assert error["end_column"] == column + len("low_ratio_grasroots")
    assert error["hint"] == "did you mean `low_ratio_grassroots`?"
    errors = texts(at.error)  # the page lists them too, with line and hint
    assert any("E101" in e and f"line {line}" in e and "low_ratio_grassroots" in e for e in errors)
    assert at.button(key="editor_save").disabled

    fixed = text.replace("ratio = 30%", "ratio = 35%")
    assert type_in(at, fixed)["marks"] == []
    assert not at.error
    at.button(key="editor_save").click().run()
    assert any("Saved xuancheng/2024.policy" in s for s in texts(at.success))
    assert "ratio = 35%" in (policies / XC / "2024.policy").read_text(encoding="utf-8")


def test_editor_draws_the_language_and_its_settings(policies: Path) -> None:
    at = open_app()
    editor_on(at, XC, "2024")
    drawn = component(at)
    assert set(drawn["language"]["keywords"]) == keywords()
    assert drawn["debounce_ms"] == policy_editor.DEBOUNCE_MS
    assert not at.text_area  # the component, not the plain box
    assert not [h for h in at.get("html") if "drg-listing" in str(h.proto.body)]


def test_editor_format_button_replaces_the_text_as_a_new_revision(policies: Path) -> None:
    at = open_app()
    text = editor_on(at, XC, "2024")
    messy = text.replace("  method points", "   method points")
    before = type_in(at, messy)["revision"]
    at.button(key="editor_format").click().run()
    drawn = component(at)
    assert drawn["text"] == text and drawn["revision"] == before + 1
    # typed before the formatted text reached the browser: dropped, the formatted text stays
    assert type_in(at, messy, revision=before)["text"] == text
    assert type_in(at, messy + "# x\n", revision=before + 1)["text"] == messy + "# x\n"


def test_a_button_acts_on_the_text_just_sent(policies: Path) -> None:
    at = open_app()
    text = editor_on(at, XC, "2024")
    at.session_state[EDITOR_COMPONENT] = {
        "text": text + "\n# typed just before Save\n",
        "revision": component(at)["revision"],
    }
    at.button(key="editor_save").click().run()
    assert "# typed just before Save" in (policies / XC / "2024.policy").read_text(encoding="utf-8")


def test_editor_new_version_and_draft(policies: Path) -> None:
    at = open_app()
    text = editor_on(at, XC, NEW)
    assert 'version "2025"' in text and 'extends "2024"' in text
    assert not at.error
    broken = text + "\nparam x"
    assert type_in(at, broken)["marks"]
    assert at.error
    at.button(key="editor_draft").click().run()
    assert (policies / ".drafts" / XC / "2025.policy.draft").read_text(encoding="utf-8") == broken
    assert at.selectbox(key="editor_choice").value == DRAFT + "2025"
    assert not (policies / XC / "2025.policy").exists()


def test_editor_confirmation_before_overwriting_an_extended_version(policies: Path) -> None:
    at = open_app()
    text = editor_on(at, XC, "2023")
    type_in(at, text + "\n# edited\n")
    assert any("extended by" in w for w in texts(at.warning))
    at.button(key="editor_save").click().run()
    assert any("Not saved" in e for e in texts(at.error))
    assert "# edited" not in (policies / XC / "2023.policy").read_text(encoding="utf-8")
    at.checkbox(key="editor_confirm").check().run()
    at.button(key="editor_save").click().run()
    assert "# edited" in (policies / XC / "2023.policy").read_text(encoding="utf-8")


def test_the_plain_text_box_fallback(policies: Path) -> None:
    at = open_app()
    text = editor_on(at, XC, "2024")
    typed = type_in(at, text + "\n# typed in the component\n")["text"]
    at.toggle(key=EDITOR_PLAIN).set_value(True).run()
    assert not at.get("component_instance")
    assert at.text_area(key="editor_text").value == typed
    bad = typed.replace("cost_ratio < low_ratio_grassroots", "cost_ratio < low_ratio_x")
    at.text_area(key="editor_text").set_value(bad).run()
    assert any("E101" in e for e in texts(at.error))
    listing = [str(h.proto.body) for h in at.get("html") if "drg-listing" in str(h.proto.body)]
    assert len(listing) == 1 and "drg-line error" in listing[0]
    at.toggle(key=EDITOR_PLAIN).set_value(False).run()
    drawn = component(at)  # back in the component, with what was typed in the box
    assert drawn["text"] == bad and any(m["code"] == "E101" for m in drawn["marks"])


def test_the_plain_text_box_by_default(policies: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(policy_editor.PLAIN_ENV, "1")
    at = open_app()
    at.selectbox(key="editor_city").set_value(XC).run()
    at.selectbox(key="editor_choice").set_value("2024").run()
    assert not at.get("component_instance") and at.toggle(key=EDITOR_PLAIN).value
    text = (policies / XC / "2024.policy").read_text(encoding="utf-8")
    assert at.text_area(key="editor_text").value == text


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
    count = len(list(example.parent.glob("*.yaml")))
    assert any(f"{count - 1} passed, 1 failed" in e for e in texts(at.error))
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
    type_in(at, edited)
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
