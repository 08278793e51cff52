"""Every page of the studio through Streamlit's AppTest, against a tmp copy of `policies/` (the
Explain page's tree: test_explain_page.py)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from engine.inputs.rundata import Period
from engine.page import show
from engine.run.outputs import stage_tables
from engine.run.settle import load_data, load_policy, settle
from policy_dsl.lower import compile_text
from policy_dsl.parser import keywords
from studio import buffer, policy_editor
from studio.editing import DRAFT, NEW
from studio.state import EDITOR_COMPONENT, EDITOR_PLAIN
from studio.widgets import BUFFER
from tests.conftest import SAMPLE
from tests.studio.apptest import (
    XC,
    component,
    editor_on,
    labels_of,
    line_of,
    open_app,
    replaced,
    shown,
    texts,
    type_in,
)


def test_editor_marks_an_error_as_typed_then_saves_the_fix(policies: Path) -> None:
    at = open_app()
    text = editor_on(at, XC, "2024")
    assert text == (policies / XC / "2024.policy").read_text(encoding="utf-8")
    # the notice's text is not in the city's sources/: W130, at the document's `text` in
    # 2023.policy, where the notice is declared; listed with that file, not marked in 2024's text
    assert component(at)["marks"] == []
    base = (policies / XC / "2023.policy").read_text(encoding="utf-8")
    declared = line_of(base, 'text "004_')
    where = f"**W130** xuancheng/2023.policy line {declared}, column 3"
    assert [w for w in texts(at.warning) if "W130" in w] == [
        f"{where}: the text of document `xc2024` is not found: its 37 quotes are not checked"
        f"  \nhint: looked for `004_f075d89bf2526765.txt` in {policies / XC / 'sources'}; give "
        "the folder holding it with `drgpolicy check --sources DIR` (or DRGPOLICY_SOURCES)"
    ]

    bad = replaced(text, "cost_ratio <= low_ratio_grassroots", "cost_ratio <= low_ratio_grasroots")
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

    fixed = replaced(text, "ratio = 30%", "ratio = 35%")
    warned = type_in(at, fixed)["marks"]
    assert [m["code"] for m in warned] == ["W131"], "its quote still says 0.3倍"
    assert warned[0]["line"] == line_of(fixed, "param low_ratio_grassroots") + 1  # the source
    assert warned[0]["message"] == "`low_ratio_grassroots` is 35%, but its source states 0.3倍"
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
    messy = replaced(text, "  method points", "   method points")
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


def files_under(folder: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    ("unsafe", "why"),
    [
        ("../x", "contains a slash"),
        ("{tmp}/abs", "is an absolute path"),
        ("v" * 300, "300 bytes long in UTF-8; at most 64"),  # was ENAMETOOLONG, uncaught
    ],
)
def test_editor_refuses_a_version_name_that_leaves_the_folder(
    policies: Path, tmp_path: Path, unsafe: str, why: str
) -> None:
    name = unsafe.format(tmp=tmp_path)
    at = open_app()
    text = editor_on(at, XC, "2024")
    bad = replaced(text, 'version "2024"', f'version "{name}"')
    before = files_under(tmp_path)

    # typed and Save pressed at once (the text reaches the page with the click): refused
    at.session_state[EDITOR_COMPONENT] = {"text": bad, "revision": component(at)["revision"]}
    at.button(key="editor_save").click().run()
    assert any(e.startswith("Not saved:") and why in e for e in texts(at.error))

    # flagged as typed: marked at the name, listed near the buttons, Save disabled
    drawn = component(at)
    mark = next(m for m in drawn["marks"] if m["code"] == buffer.UNSAFE_VERSION)
    assert (mark["line"], mark["severity"]) == (line_of(bad, name), "error")
    flagged = [e for e in texts(at.error) if buffer.UNSAFE_VERSION in e]
    assert flagged and all(why in e for e in flagged)
    assert at.button(key="editor_save").disabled

    # nor as a draft
    at.button(key="editor_draft").click().run()
    assert any(e.startswith("Draft not saved:") and why in e for e in texts(at.error))
    assert files_under(tmp_path) == before
    for folder in (policies / XC, policies, tmp_path, Path("/tmp")):
        assert not (folder / "x.policy").exists()
    assert not (tmp_path / "abs.policy").exists()
    assert not list(tmp_path.rglob("*.draft"))


def test_the_plain_text_box_fallback(policies: Path) -> None:
    at = open_app()
    text = editor_on(at, XC, "2024")
    typed = type_in(at, text + "\n# typed in the component\n")["text"]
    at.toggle(key=EDITOR_PLAIN).set_value(True).run()
    assert not at.get("component_instance")
    assert at.text_area(key="editor_text").value == typed
    bad = replaced(typed, "cost_ratio <= low_ratio_grassroots", "cost_ratio <= low_ratio_x")
    at.text_area(key="editor_text").set_value(bad).run()
    assert any("E101" in e for e in texts(at.error))
    listing = [str(h.proto.body) for h in at.get("html") if "drg-listing" in str(h.proto.body)]
    assert len(listing) == 1 and "drg-line error" in listing[0]
    # marked: the unknown name (E101) and the parameter it no longer uses (W101), both in this
    # text; not 2023's W130 (about the notice's text), listed above with its own file and line
    marked = re.findall(r'<div class="drg-line (\w+)" id="L(\d+)">', listing[0])
    assert marked == [
        ("warning", str(line_of(bad, "param low_ratio_grassroots"))),
        ("error", str(line_of(bad, "low_ratio_x"))),
    ]
    assert "W130" not in listing[0]
    assert any(w.startswith("**W130** xuancheng/2023.policy line") for w in texts(at.warning))
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
    labels = labels_of(at.expander)
    # each change under the Chinese label of its clause (2023 has no such parameter: 2024 adds
    # it), as the policy document and its redline name it
    assert (
        "新增 added · 一级及以下医疗机构低倍率判定系数 参数 parameter low_ratio_grassroots"
        in labels
    )
    changes = next(d for d in at.dataframe if "clause" in d.value)
    rows = changes.value.set_index("clause")
    assert rows.loc["param:low_ratio_grassroots", "label"] == "一级及以下医疗机构低倍率判定系数"
    assert rows.loc["param:level_share", "label"] == "级别系数占比"
    assert rows.loc["param:level_share", "kind"] == "修改 changed"
    headers = {k: v["label"] for k, v in json.loads(changes.proto.columns).items() if "label" in v}
    assert headers["label"] == "名称 label" and headers["old"] == "旧 old"
    assert any("source after:** source xc2024" in m for m in markdown)
    assert at.dataframe  # timeline table and the semantic diff


def write_failing_2025(policies: Path) -> None:
    """A 2025 of Xuancheng after 2024, with an unknown name: it does not check."""
    text = (policies / XC / "2024.policy").read_text(encoding="utf-8")
    text = replaced(text, 'version "2024"', 'version "2025"')
    text = replaced(text, "effective 2024-01-01 to 2024-12-31", "effective 2025-01-01")
    text = replaced(text, "cost_ratio <= low_ratio_grassroots", "cost_ratio <= low_ratio_x")
    (policies / XC / "2025.policy").write_text(text, encoding="utf-8")


def test_versions_timeline_marks_a_version_that_does_not_check(policies: Path) -> None:
    write_failing_2025(policies)
    at = open_app("versions")
    at.selectbox(key="versions_city").set_value(XC).run()
    assert not at.exception
    timeline = at.dataframe[0].value
    checks = dict(zip(timeline["version"], timeline["checks"], strict=True))
    assert checks == {"2023": "yes", "2024": "yes", "2025": "no: 1 error(s)"}
    hashes = dict(zip(timeline["version"], timeline["hash"], strict=True))
    assert hashes["2025"] == "—" and len(hashes["2024"]) == 12
    until = dict(zip(timeline["version"], timeline["in force until"], strict=True))
    assert until == {"2023": "2023-12-31", "2024": "2024-12-31", "2025": "open-ended"}
    failing = [e for e in at.expander if shown(e.label).startswith("✗ version 2025 does not check")]
    assert len(failing) == 1
    assert "E101" in failing[0].code[0].value and "low_ratio_x" in failing[0].code[0].value
    assert not at.error  # the others as usual: the diff of 2023 and 2024 still works
    at.selectbox(key="versions_old").set_value("2023").run()
    at.selectbox(key="versions_new").set_value("2024").run()
    assert any("change(s)** from 2023 to 2024" in m for m in texts(at.markdown))


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
    failed = next(d.value for d in at.dataframe if "expected" in d.value)
    assert list(failed.iloc[0][["value", "expected", "got"]]) == [
        "payment",
        "¥1,900.00",
        "¥1,800.00",
    ]


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
    edited = replaced(text, "ratio = 30%", "ratio = 35%")
    type_in(at, edited)
    at.switch_page("pages/whatif.py").run()
    at.selectbox(key="whatif_city").set_value(XC).run()
    at.selectbox(key="whatif_base").set_value("2024").run()
    at.selectbox(key="whatif_new").set_value(BUFFER).run()
    next(b for b in at.button if b.label == "Run what-if").click().run()
    assert not at.exception

    expected = expected_hospitals(policies, edited)
    metrics = {m.label: (m.value, m.help) for m in at.metric}
    paid = round(expected["new"].sum() * 100)
    assert metrics["支付总额 payment"][0] == show.yuan_brief(paid)  # ¥3.33亿: fits the tile
    assert metrics["支付总额 payment"][1].startswith(f"¥{expected['new'].sum():,.2f} (")
    totals = at.dataframe[0].value
    payment = totals[totals["measure"] == "支付总额 payment"].iloc[0]
    assert payment["new"] == f"¥{expected['new'].sum():,.2f}"
    hospitals = every_hospital(at)
    shown = dict(zip(hospitals["hospital_id"], hospitals["delta"], strict=True))
    for row in expected.iter_rows(named=True):
        assert shown[row["hospital_id"]] == pytest.approx(row["delta"], abs=0.005)
    assert any("interaction" in str(d.value.get("part", "")) for d in at.dataframe)
    assert any("low_ratio_grassroots" in str(list(d.value.get("clause", []))) for d in at.dataframe)
    download = at.get("download_button")[0].proto
    assert download.label == "Download the HTML report"
    assert download.deferred_file_id  # made when asked for, not on each run of the page


def test_whatif_slider_sets_the_parameter(policies: Path) -> None:
    at = open_app("whatif")
    at.selectbox(key="whatif_city").set_value(XC).run()
    at.selectbox(key="whatif_base").set_value("2024").run()
    at.selectbox(key="whatif_new").set_value("2024").run()
    at.slider(key="whatif_p_low_ratio_grassroots").set_value(0.35)
    next(b for b in at.button if b.label == "Run what-if").click().run()
    assert not at.exception
    text = (policies / XC / "2024.policy").read_text(encoding="utf-8")
    expected = expected_hospitals(policies, replaced(text, "ratio = 30%", "ratio = 35%"))
    hospitals = every_hospital(at)
    shown = dict(zip(hospitals["hospital_id"], hospitals["delta"], strict=True))
    for row in expected.iter_rows(named=True):
        assert shown[row["hospital_id"]] == pytest.approx(row["delta"], abs=0.005)
    assert any(
        "parameters set: 一级及以下医疗机构低倍率判定系数 35%" in c for c in texts(at.caption)
    )


def sample_with_bad_rows(folder: Path) -> Path:
    """The bundled sample with two bad case rows: a negative cost, an unknown hospital."""
    shutil.copytree(SAMPLE, folder)
    lines = (folder / "cases.csv").read_text(encoding="utf-8").split("\n")
    for row, (column, value) in {3: (3, "-5"), 7: (1, "H9999")}.items():
        cells = lines[row].split(",")
        cells[column] = value
        lines[row] = ",".join(cells)
    (folder / "cases.csv").write_text("\n".join(lines), encoding="utf-8")
    return folder


def run_whatif(at: AppTest, base: str, new: str, **sliders: float) -> None:
    at.selectbox(key="whatif_city").set_value(XC).run()
    at.selectbox(key="whatif_base").set_value(base).run()
    at.selectbox(key="whatif_new").set_value(new).run()
    for name, value in sliders.items():
        at.slider(key=f"whatif_p_{name}").set_value(value)
    next(b for b in at.button if b.label == "Run what-if").click().run()
    assert not at.exception


def exposure_table(at: AppTest) -> pd.DataFrame | None:
    return next((d.value for d in at.dataframe if "threshold" in d.value), None)


def test_whatif_exposure_and_sweep_belong_to_their_run(
    policies: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRGPOLICY_DATA", str(sample_with_bad_rows(tmp_path / "data")))
    at = open_app("whatif")
    run_whatif(at, "2023", "2024", low_ratio_grassroots=0.35)
    rejected = [w for w in texts(at.warning) if "rejected by the data contract" in w]
    assert rejected == [
        "2 input row(s) rejected by the data contract (cases.csv: 2): they are left out of the run."
    ]
    rows = next(t.value for t in at.table if "reason" in t.value)
    assert list(rows["row"]) == [3, 7] and "total_cost is negative" in shown(rows["reason"].iloc[0])

    # the pickers moved but not run: exposure and sweep still measure the run (2024, slider 35%)
    at.selectbox(key="whatif_new").set_value("2023").run()
    at.button(key="whatif_exposure").click().run()
    assert not at.exception
    exposed = exposure_table(at)
    assert exposed is not None
    grassroots = exposed[exposed["threshold"] == "low_ratio_grassroots"].iloc[0]
    assert grassroots["value"] == "35%"
    # out of the form: choosing the parameter draws its own range before the sweep
    at.selectbox(key="whatif_sweep_param").set_value("low_ratio_standard").run()
    next(b for b in at.button if b.label == "Sweep").click().run()
    assert not at.exception
    swept = next(d.value for d in at.dataframe if "low_ratio_standard" in d.value)
    at_written = swept[swept["low_ratio_standard"].round(6) == 0.4].iloc[0]
    assert at_written["delta"] == 0  # against the run: the slider's 35% kept
    levels = next(t.value for t in at.table if "支付额 payment, new" in t.value)
    level_1 = levels[levels["级别 level"] == "level 1 一级"].iloc[0]
    assert f"¥{at_written['payment_level_1']:,.2f}" == level_1["支付额 payment, new"]
    # the rejected rows stay with the run through these reruns
    assert any("2 input row(s) rejected" in w for w in texts(at.warning))

    # a new run starts without the last one's exposure and sweep
    run_whatif(at, "2024", "2023")
    assert exposure_table(at) is None
    assert not any("low_ratio_standard" in d.value for d in at.dataframe)
    assert any("2 input row(s) rejected" in w for w in texts(at.warning))


def text_2024(policies: Path) -> str:
    return (policies / XC / "2024.policy").read_text(encoding="utf-8")


def test_editor_marks_only_what_is_in_its_own_text(policies: Path) -> None:
    """A warning of the base version (here an unused parameter of 2023) is about another file,
    at its lines: the page lists it, the editor does not mark it in the 2024 text."""
    base = policies / XC / "2023.policy"
    unused = 'param unused_k "未使用" : ratio = 1\n  assumption "示例"\n'
    text = base.read_text(encoding="utf-8")
    base.write_text(replaced(text, "param cv_limit", unused + "param cv_limit"), encoding="utf-8")
    at = open_app()
    editor_on(at, XC, "2024")
    assert any(
        w.startswith("**W101** xuancheng/2023.policy line") and "unused_k" in w
        for w in texts(at.warning)
    )
    codes = [m["code"] for m in component(at)["marks"]]
    assert codes == []  # the notice's text missing (W130) is 2023's too: it declares the notice
    assert any(w.startswith("**W130** xuancheng/2023.policy line") for w in texts(at.warning))
    edited = type_in(at, replaced(text_2024(policies), "ratio = 30%", "ratio = 35%"))
    assert [m["code"] for m in edited["marks"]] == ["W131"]  # 2024's own: its quote says 0.3倍
    assert any(
        w.startswith("**W101** xuancheng/2023.policy line") and "unused_k" in w
        for w in texts(at.warning)
    )


def test_a_new_version_lists_its_bases_diagnostics_against_their_files(policies: Path) -> None:
    """A new version (2025, extending 2024, which extends 2023): an error in 2024 and an unused
    parameter in 2023 are each listed against their own file and line; the editor draws none of
    them on the new version's lines, in the component or in the plain box's listing."""
    base = policies / XC / "2024.policy"
    base.write_text(
        replaced(text_2024(policies), "cost_ratio <= low_ratio_grassroots", "cost_ratio <= nope"),
        encoding="utf-8",
    )
    older = policies / XC / "2023.policy"
    unused = 'param unused_k "未使用" : ratio = 1\n  assumption "示例"\n'
    older.write_text(
        replaced(older.read_text(encoding="utf-8"), "param cv_limit", unused + "param cv_limit"),
        encoding="utf-8",
    )
    at = open_app()
    text = editor_on(at, XC, NEW)
    assert 'extends "2024"' in text
    nope = line_of(base.read_text(encoding="utf-8"), "cost_ratio <= nope")
    assert any(
        e.startswith(f"**E101** xuancheng/2024.policy line {nope},") and "nope" in e
        for e in texts(at.error)
    )
    assert any(
        w.startswith("**W101** xuancheng/2023.policy line") and "unused_k" in w
        for w in texts(at.warning)
    )
    assert component(at)["marks"] == []
    at.toggle(key=EDITOR_PLAIN).set_value(True).run()
    listing = [str(h.proto.body) for h in at.get("html") if "drg-listing" in str(h.proto.body)]
    assert len(listing) == 1 and not re.findall(r'class="drg-line (error|warning)"', listing[0])
    assert "E101" not in listing[0] and "W101" not in listing[0]


def test_whatif_sliders_show_what_the_new_version_declares(policies: Path) -> None:
    """Streamlit keeps a keyed slider's value while only its default changes; the page draws a
    slider again at the value the chosen new version declares (here 2023's cost_share 30% and
    2024's 20%, one range), so that a change of version is never sent as a slider value."""
    at = open_app("whatif")
    at.selectbox(key="whatif_city").set_value(XC).run()
    at.selectbox(key="whatif_base").set_value("2024").run()
    at.selectbox(key="whatif_new").set_value("2023").run()
    assert at.slider(key="whatif_p_cost_share").value == pytest.approx(0.3)
    at.selectbox(key="whatif_new").set_value("2024").run()
    assert at.slider(key="whatif_p_cost_share").value == pytest.approx(0.2)
    assert at.slider(key="whatif_p_low_ratio_grassroots").value == pytest.approx(0.3)
    # moved by hand, a slider keeps its value while the version stays
    at.slider(key="whatif_p_cost_share").set_value(0.25)
    next(b for b in at.button if b.label == "Run what-if").click().run()
    assert not at.exception
    assert any("parameters set: 成本系数占比 25%" in c for c in texts(at.caption))
    at.selectbox(key="whatif_base").set_value("2023").run()
    assert at.slider(key="whatif_p_cost_share").value == pytest.approx(0.25)

    # the editor's buffer: its own value, not the one 2024's slider was drawn at
    at.switch_page("pages/editor.py").run()
    text = editor_on(at, XC, "2024")
    type_in(at, replaced(text, "ratio = 30%", "ratio = 35%"))
    at.switch_page("pages/whatif.py").run()
    at.selectbox(key="whatif_new").set_value(BUFFER).run()
    assert at.slider(key="whatif_p_low_ratio_grassroots").value == pytest.approx(0.35)
    # the buffer declares cost_share 20% as 2024 does: the value moved by hand stays
    assert at.slider(key="whatif_p_cost_share").value == pytest.approx(0.25)
    next(b for b in at.button if b.label == "Run what-if").click().run()
    assert not at.exception
    assert any(c.endswith("parameters set: 成本系数占比 25%") for c in texts(at.caption))
