"""The studio's non-UI helpers: the marked listing, versions, datasets, parameters, traces."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from engine.commands.studio import StudioError, command, environment
from engine.explainer.explain import explain
from engine.inputs.rundata import Period
from engine.run.settle import load_data, load_policy, settle
from engine.whatif import attribution
from engine.whatif.trace_diff import trace_diff
from policy_dsl.diff import Change, diff_versions
from policy_dsl.loader import Resolved, read_policy_file, resolve
from policy_dsl.versions import load_city
from studio import (
    buffer,
    cache,
    compare,
    explaining,
    highlight,
    runs,
    timeline,
    trace_tree,
    whatif_view,
    workspace,
)
from tests.conftest import SAMPLE
from tests.studio.apptest import replaced, shown

XC = "xuancheng"


def test_listing_colours_the_language() -> None:
    line = 'param low "低" : ratio = 30% # 注'
    classes = highlight.token_classes(line)
    assert classes[0] == "keyword" and classes[6] == "name"
    assert classes[line.index('"')] == "string"
    assert classes[line.index("30%")] == classes[line.index("%")] == "literal"
    assert classes[line.index("#")] == "comment"


def test_listing_marks_each_diagnostic_where_it_points(policies: Path) -> None:
    text = (policies / XC / "2024.policy").read_text(encoding="utf-8")
    bad = replaced(text, "cost_ratio <= low_ratio_grassroots", "cost_ratio <= <b>")
    line = bad[: bad.index("<b>")].count("\n") + 1
    found = buffer.analyse(bad, policies, XC)
    html = highlight.listing_html(bad, found.diagnostics)
    assert f'<div class="drg-line error" id="L{line}">' in html
    assert "&lt;" in html and "<b>" not in html  # the text is escaped
    assert 'class="drg-note error"' in html and "E001" in html
    assert html.count('class="drg-line') == len(bad.split("\n"))


def test_timeline_and_semantic_diff(policies: Path) -> None:
    city = load_city(policies / XC)
    rows = compare.timeline_rows(city)
    assert [(r["version"], r["from"], r["extends"]) for r in rows] == [
        ("2023", "2023-01-01", ""),
        ("2024", "2024-01-01", "2023"),
    ]
    assert all(len(r["hash"]) == compare.SHORT_HASH for r in rows)
    changes = compare.semantic_diff(
        compare.resolved_in(city, "2023"), compare.resolved_in(city, "2024")
    )
    grassroots = next(c for c in changes if c.clause == "param:low_ratio_grassroots")
    assert grassroots.kind == "新增 added" and "xc2024" in grassroots.new_citations
    assert grassroots.label == "一级及以下医疗机构低倍率判定系数"
    assert grassroots.subject == "参数 parameter low_ratio_grassroots"


def test_semantic_diff_of_an_unsaved_buffer(policies: Path) -> None:
    city = load_city(policies / XC)
    text = (policies / XC / "2024.policy").read_text(encoding="utf-8")
    edited = replaced(text, "ratio = 30%", "ratio = 35%")
    from policy_dsl.loader import policy_from_text

    buffer_file = policy_from_text(edited, "buffer")
    changes = compare.semantic_diff(
        compare.resolved_in(city, "2024"),
        compare.resolved_in(city, "2024", override=buffer_file),
    )
    assert [(c.clause, c.old, c.new) for c in changes] == [
        ("param:low_ratio_grassroots", "30%", "35%")
    ]


def test_text_diff_side_by_side() -> None:
    html = compare.text_diff_html("a\nb\n", "a\nc\n", "2023", "2024 (editor buffer)")
    assert "diff_chg" in html or "diff_sub" in html
    # two sides named, four columns at fixed widths (no navigation column, no `nowrap`)
    headings = re.findall(r'<th colspan="2" class="diff_header">([^<]*)</th>', html)
    assert headings == ["old · 2023", "new · 2024 (editor buffer)"]
    assert "diff_next" not in html.split("</style>")[1] and "nowrap" not in html
    assert html.count("<col") == 5 and "table-layout:fixed" in html
    assert compare.text_diff_stats("a\nb\n", "a\nc\nd\n") == (1, 2)


def test_numeric_params_for_sliders(policies: Path) -> None:
    resolved = resolve(read_policy_file(policies / XC / "2024.policy"))
    specs = {s.name: s for s in runs.numeric_params(resolved)}
    grassroots = specs["low_ratio_grassroots"]
    assert (grassroots.type, grassroots.value, grassroots.low, grassroots.high) == (
        "ratio",
        0.3,
        0.0,
        1.0,
    )
    assert specs["large_number_cases"].integral and specs["large_number_cases"].high == 200


def test_compile_buffer_refuses_errors(policies: Path) -> None:
    from policy_dsl.diagnostics import PolicyErrors

    text = (policies / XC / "2024.policy").read_text(encoding="utf-8")
    assert runs.compile_buffer(policies, XC, text).version == "2024"
    with pytest.raises(PolicyErrors, match="E101"):
        runs.compile_buffer(policies, XC, replaced(text, "* level_share +", "* level_shar +"))


def test_data_fingerprint_follows_the_files(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    shutil.copytree(SAMPLE, folder)
    first = runs.data_fingerprint(folder)
    assert runs.data_fingerprint(folder) == first
    with (folder / "budget.yaml").open("a") as out:
        out.write("# changed\n")
    assert runs.data_fingerprint(folder) != first


def test_trace_diff_table() -> None:
    period = Period.parse("2024")
    new = load_policy("policies/xuancheng/2024.policy")
    old = load_policy("policies/xuancheng/2023.policy")
    inputs = load_data(SAMPLE, new)
    diff = trace_diff(
        explain(settle(old, inputs, period), "C000004"),
        explain(settle(new, inputs, period), "C000004"),
    )
    frame = explaining.diff_frame(diff)
    assert frame.columns == ["step", "label", "old", "new", "status", "rule changed"]
    assert frame.height == len(diff.pairs)
    rows = {row["step"]: row for row in frame.iter_rows(named=True)}
    # 2024 restates 2023's formula of stable_group to cite the notice: not a changed rule
    assert not rows["stable_group"]["rule changed"] and rows["stable_group"]["status"] == "same"
    # case_points became 2024's incentive step over group_case_points (bilateral, multi-site),
    # none of which applies to this case: a changed rule, the same value
    assert rows["case_points"]["rule changed"] and rows["case_points"]["status"] == "same"
    # the coefficient of its hospital (H0011, level 1, level coefficient 0.850154, cost
    # coefficient 0.719102 from its history): 70/30 in 2023, 80/20 in 2024
    coefficient = rows["hospital_coefficient"]
    assert coefficient["rule changed"] and coefficient["status"] == "differs"
    assert (coefficient["old"], coefficient["new"]) == ("0.810838", "0.823943")


def test_trace_tree_from_the_payment() -> None:
    policy = load_policy("policies/xuancheng/2024.policy")
    trace = explain(settle(policy, load_data(SAMPLE, policy), Period.parse("2024")), "C000004")
    # payable_total reads point_value in batch; grouped and died are the case's own monitoring
    # values (the standard indicators' library), which the payment does not read
    assert trace_tree.roots(trace) == ["payment", "grouped", "died", "point_value"]
    assert trace_tree.step_inputs(trace, trace.step("payment")) == [
        "payable_total",
        "settled_points",
    ]
    reached = trace_tree.reached(trace, "payment") | {"point_value", "grouped", "died"}
    assert reached == {s.name for s in trace.steps}
    # the shortest way down: the coefficient reads the category (case_points reads it only
    # through group_case_points and class_points)
    chain = ["payment", "settled_points", "coefficient", "category", "stable_group"]
    assert trace_tree.path_to(trace, "payment", "stable_group") == chain
    assert trace_tree.path_to(trace, "payment", "point_value") is None
    opened = trace_tree.opened_at_first(trace, "stable_group")
    assert opened == {tuple(chain[: i + 1]) for i in range(len(chain))}
    kinds = trace_tree.inputs_frame(trace.step("category"), trace, {p.name for p in policy.params})
    kind = dict(kinds.select("input", "kind").iter_rows())
    assert kind["cost_ratio"] == "step" and kind["low_ratio_grassroots"] == "parameter"
    assert kind["high_ratio_k[52]"] == "table row" and kind["level"] == "case field"
    text = trace_tree.allocation_text(trace.step("payment").allocations[0])
    # 52 points × coefficient 0.823943 (H0011's 80/20 of its history) = 42.8451 settled points
    assert "its weight 42.8451" in text
    assert "507,558 whole fen = ¥5,075.58" in text  # no fen left over comes to this case
    other = explain(settle(policy, load_data(SAMPLE, policy), Period.parse("2024")), "C000010")
    left_over = trace_tree.allocation_text(other.step("payment").allocations[0])
    assert "659,402 whole fen + 1 left-over fen = ¥6,594.03" in left_over
    rank = shown(trace_tree.rank_text(trace.step("incentive_rank").ranks[0]))
    assert rank.startswith("rank within hospital_id by 16.123") and "does not take part" in rank


def test_timeline_keeps_the_versions_that_check(tmp_path: Path) -> None:
    folder = tmp_path / XC
    shutil.copytree(Path("policies") / XC, folder)
    clean = timeline.load_timeline(folder)
    assert not clean.failing and not clean.unplaced
    assert clean.city.versions == load_city(folder).versions  # as the language loads them
    text = (folder / "2024.policy").read_text(encoding="utf-8")
    (folder / "2024.policy").write_text(replaced(text, "method points", "method pointz"))
    (folder / "broken.policy").write_text("policy xuancheng version\n", encoding="utf-8")
    found = timeline.load_timeline(folder)
    assert [v.version for v in found.city.versions] == ["2023", "2024"]
    assert found.checks("2023") and not found.checks("2024")
    assert found.city.versions[0].hash == clean.city.versions[0].hash
    assert found.city.versions[1].hash == ""
    assert list(found.unplaced) == ["broken.policy"]
    rows = compare.timeline_rows(found.city, found.failing)
    assert [(r["shown"], r["checks"][:2], r["hash"]) for r in rows][1] == ("2024 ✗", "no", "—")


def test_studio_command_serves_on_localhost(tmp_path: Path) -> None:
    argv = command(8600)
    assert argv[1:4] == ["-m", "streamlit", "run"] and argv[4].endswith("studio/app.py")
    assert "--server.address=localhost" in argv and "--server.port=8600" in argv
    env = environment(Path("policies"), SAMPLE)
    assert env["DRGPOLICY_POLICIES"] == str(Path("policies").resolve())
    with pytest.raises(StudioError, match="not found"):
        environment(tmp_path / "nowhere", SAMPLE)


def test_studio_sources_come_before_those_of_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRGPOLICY_SOURCES", "/already/there")
    env = environment(Path("policies"), SAMPLE, [tmp_path])
    assert env["DRGPOLICY_SOURCES"] == os.pathsep.join([str(tmp_path.resolve()), "/already/there"])
    with pytest.raises(StudioError, match=r"--sources .*nowhere: no such folder"):
        environment(Path("policies"), SAMPLE, [tmp_path / "nowhere"])


def test_a_clause_that_moves_money_between_levels_is_charted_by_level() -> None:
    parts = pl.DataFrame(
        {
            "part": ["threshold", "interaction (交互项)"],
            "change": [0.0, 0.0],
            "level 1": [-77.5, None],
            "level 3": [77.5, None],
        }
    )
    long = whatif_view.parts_by_level(parts)
    assert long.rows() == [
        ("threshold", "level 1 一级", -77.5),
        ("threshold", "level 3 三级", 77.5),
    ]


def test_a_slider_is_drawn_again_when_its_declared_value_moves() -> None:
    def spec(value: float) -> runs.ParamSpec:
        return runs.ParamSpec("cost_share", "成本系数占比", "ratio", value, 0.0, 1.0, 0.01)

    key = whatif_view.SLIDER_KEY.format("cost_share")
    state: dict[str, object] = {}
    whatif_view.reset_moved_sliders(state, [spec(0.3)])  # first drawn: nothing to forget
    state[key] = 0.25  # moved by hand
    whatif_view.reset_moved_sliders(state, [spec(0.3)])
    assert state[key] == 0.25  # the same declared value: the hand's value stays
    whatif_view.reset_moved_sliders(state, [spec(0.2)])
    assert key not in state  # another declared value (another version): drawn again at it
    state[key] = 0.2
    whatif_view.reset_moved_sliders(state, [])  # a city without it: its slider is not drawn
    whatif_view.reset_moved_sliders(state, [spec(0.2)])
    assert state[key] == 0.2


def test_a_text_edit_diffs_the_two_versions_once(
    policies: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The What-if page's run of an edited text (as the page calls it: the attribution kept by
    `cache.attribution`) diffs the two versions once (30–40 ms at the sample): the diff that
    tells whether there is a clause to attribute is the one the attribution splits."""
    diffs: list[tuple[str, str]] = []

    def counted(old: Resolved, new: Resolved) -> list[Change]:
        diffs.append((old.header.version, new.header.version))
        return diff_versions(old, new)

    monkeypatch.setattr(whatif_view, "diff_versions", counted)
    monkeypatch.setattr(attribution, "diff_versions", counted)
    base_text = (policies / XC / "2024.policy").read_text(encoding="utf-8")
    new_text = re.sub(r"(param low_ratio_grassroots .*? = )30%", r"\g<1>35%", base_text)
    assert new_text != base_text
    siblings = workspace.siblings(policies, XC, None)
    pair = (
        whatif_view.resolved(siblings, base_text, f"{XC}/2024"),
        whatif_view.resolved(siblings, new_text, f"{XC}/buffer"),
    )
    base_ir, new_ir = cache.policy(policies, XC, base_text), cache.policy(policies, XC, new_text)
    both = whatif_view.inputs_policy(base_ir, new_ir)
    key, texts = cache.runs_key(SAMPLE, "2024", both), (base_text, new_text)
    digest = f"{runs.city_digest(policies, XC)} {policies}"  # not kept from another test
    comparison = whatif_view.run(
        cache.runs(SAMPLE, "2024", both),
        base_ir,
        new_ir,
        {},
        pair,
        lambda share, text: None,
        lambda kept, base, new, impact, changes: cache.attribution(
            key, texts, digest, kept, base, new, impact, changes
        ),
    )
    assert diffs == [("2024", "2024")]
    assert comparison.attribution is not None
    assert [p.key for p in comparison.attribution.parts] == ["param:low_ratio_grassroots"]
