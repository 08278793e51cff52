"""The Explain page through AppTest: the trace as a tree from the payment, an input opened in
place, the allocation, the rank and the sources; the flat order; the trace diff."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from engine.explainer.explain import payment_trace
from engine.inputs.rundata import Period
from engine.run.settle import load_data, load_policy, settle
from studio import trace_tree
from tests.conftest import SAMPLE
from tests.studio.apptest import XC, labels_of, open_app, shown, texts


def explain_case(at: AppTest, case_id: str, compare: bool = False) -> None:
    at.selectbox(key="explain_city").set_value(XC).run()
    if compare:
        at.checkbox(key="explain_compare").check().run()
    at.text_input(key="explain_case").set_value(case_id)
    next(b for b in at.button if b.label == "Explain").click().run()
    assert not at.exception


def test_explain_page_tree_and_trace_diff(policies: Path) -> None:
    at = open_app("explain")
    explain_case(at, "C000004", compare=True)
    policy = load_policy(policies / XC / "2024.policy")
    trace = payment_trace(
        settle(policy, load_data(SAMPLE, policy), Period.parse("2024")), "C000004"
    )
    assert any("part first, on the payment's path, at" in w for w in texts(at.warning))
    # the tree: the payment at the root, opened down to the step where the versions part
    labels = labels_of(at.expander)
    assert labels[0].startswith("≠ payment = ")
    first = next(label for label in labels if "first difference" in label)
    # not incentive_candidate (2024's incentive rule, false for this case: it changes nothing)
    # but H0011's coefficient, 80/20 of level and cost in 2024 against 70/30 in 2023
    assert first.startswith("⚠ first difference · hospital_coefficient = 0.823943")
    assert (
        "if filed_coefficient > 0 then (if no_history then max(filed_coefficient,"
        " level_min_coefficient) else filed_coefficient) else measured_coefficient"
    ) in texts(at.code)  # its formula, drawn open
    assert any(
        "payment ← settled_points ← coefficient ← hospital_coefficient" in w
        for w in texts(at.warning)
    )
    assert not any(label.startswith("⚠") and "incentive" in label for label in labels)

    # the flat order: every step that leads to the payment, the first difference marked — not
    # the indicator library's `grouped` and `died`, which nothing of the payment reads
    at.radio(key="explain_view").set_value(trace_tree.FLAT).run()
    labels = labels_of(at.expander)
    shown = {label.split(" · ")[-1].lstrip("≠ ").split(" = ")[0] for label in labels}
    assert "grouped" not in shown and "died" not in shown and "stable_group" in shown
    for step in trace.steps:
        assert any(
            label.split(" · ")[-1].lstrip("≠ ").startswith(f"{step.name} = ") for label in labels
        )
    assert any("first difference" in label for label in labels)


def test_explain_tree_opens_an_input_in_place(policies: Path) -> None:
    at = open_app("explain")
    explain_case(at, "C000004")
    labels = labels_of(at.expander)
    # 52 points × H0011's coefficient 0.823943 = 42.8451 settled points of 2,809,063.79 in all,
    # a share of the budget of 332,771,895 元 (test_helpers.py checks the allocation's figures)
    assert labels[0].startswith("payment = ¥5,075.58")
    # the outputs under the policy's labels, the money as ¥ to the fen, no Python value
    metrics = {shown(m.label): shown(m.value) for m in at.metric}
    assert metrics["病例支付额 payment"] == "¥5,075.58"
    assert metrics["结算点数 settled_points"] == "42.8451"
    facts = texts(at.caption)[0]
    assert "住院总费用 total cost ¥2,875.53" in facts and "级别 level 1" in facts
    assert "None" not in " ".join(texts(at.caption) + texts(at.markdown))
    assert any(label.startswith("settled_points = ") for label in labels)
    assert any(label.startswith("payable_total = ") for label in labels)
    assert any(label.startswith("point_value = ") for label in labels)  # a root of its own
    code, markdown = texts(at.code), texts(at.markdown)
    assert "allocate(payable_total, settled_points)" in code
    assert "case_points * coefficient" not in code  # settled_points is closed
    assert any("**source:** assumption: 按结算点数分配本期应付总额" in m for m in markdown)
    assert any(
        "allocation: the total ¥332,771,895.00" in m and "= ¥5,075.58" in m for m in markdown
    )

    # open `settled_points`, an input of `payment`: its own formula, inputs and value
    path: tuple[str, ...] = ("payment", "settled_points")
    at.session_state[trace_tree.node_key("C000004", None, path)] = True
    at.run()
    assert not at.exception
    assert "case_points * coefficient" in texts(at.code)
    # level coefficient 0.850154 × 80% + its cost coefficient 0.719102 × 20%, from its history
    assert any(label.startswith("coefficient = 0.823943") for label in labels_of(at.expander))

    # down to the rank of the incentive: how it falls to the case
    for step in ("case_points", "incentive_kept", "incentive_rank"):
        path = (*path, step)
        at.session_state[trace_tree.node_key("C000004", None, path)] = True
        at.run()
    assert any(c.startswith("rank(incentive_points desc within hospital") for c in texts(at.code))
    assert any(
        "rank within hospital_id" in m and "does not take part" in m for m in texts(at.markdown)
    )
    sources = [m for m in texts(at.markdown) if "**source:**" in m]
    assert any("评审确定、能得到激励的病例超出上限时，按激励点数从高到低保留" in m for m in sources)
    # and beside it the candidate, which reads a field of the case (incentive_approved)
    candidate = ("payment", "settled_points", "case_points", "incentive_kept")
    at.session_state[trace_tree.node_key("C000004", None, (*candidate, "incentive_candidate"))] = (
        True
    )
    at.run()
    others = [d.value for d in at.dataframe if "kind" in d.value]
    assert any("case field" in list(frame["kind"]) for frame in others)


def test_explain_finds_cases_by_part_of_their_id(policies: Path) -> None:
    at = open_app("explain")
    at.selectbox(key="explain_city").set_value(XC).run()
    at.text_input(key="explain_case").set_value("00000")
    next(b for b in at.button if b.label == "Explain").click().run()
    assert at.selectbox(key="explain_pick").options[:2] == ["C000001", "C000002"]
