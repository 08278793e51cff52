"""Explain: find a case by id and read its trace as a tree — each step's formula, inputs, value
and the clause's source, with the passage of the document it quotes; with a second version,
where the two traces part."""

from __future__ import annotations

import streamlit as st

from engine.explainer.explain import UnknownCase, payment_trace
from engine.explainer.passages import with_passages
from engine.explainer.report_text import show
from engine.explainer.trace import Step, Trace, provenance
from engine.inputs.rundata import PeriodError
from engine.page.markup import markdown_code as md_code
from engine.page.markup import markdown_text as md
from engine.whatif.trace_diff import trace_diff
from policy_dsl.errors import PolicyError
from studio import cache, explaining, formats, trace_tree, widgets, workspace


def marked(step: Step, parting: str | None, differing: set[str]) -> str:
    """A step's title, marked where two versions part (⚠) or differ (≠)."""
    title = md(explaining.step_title(step, money))
    if step.name == parting:
        return "⚠ first difference · " + title
    return "≠ " + title if step.name in differing else title


def draw_step(step: Step) -> None:
    """A step's formula, where its value comes from, the classes tried, the adjustments, how an
    allocation or a rank falls to the case, and the clause's source."""
    st.code(step.formula, language=None)
    st.caption(md(provenance(step) + (f" · written at {step.origin}" if step.origin else "")))
    for check in step.classes:
        mark = ":material/check_circle:" if check.chosen else ":material/close:"
        st.markdown(
            f"{mark} {md_code(check.name)} {md(check.label)}: {md_code(check.condition)} → "
            f"{md(show(check.result))}"
        )
    for adjustment in step.adjustments:
        mark = ":material/check_circle:" if adjustment.applied else "·"
        written = formats.value(adjustment.value, step.name in money)
        after = f" → {md(written)}" if adjustment.applied else ""
        st.markdown(
            f"{mark} {md_code(adjustment.name)} {md(adjustment.label)} when "
            f"{md_code(adjustment.condition)}: {md_code(adjustment.formula)}{after}"
        )
    for allocation in step.allocations:
        st.markdown(":material/call_split: " + trace_tree.allocation_text(allocation))
    for rank in step.ranks:
        st.markdown(":material/format_list_numbered: " + trace_tree.rank_text(rank))
    for citation in step.citations:
        st.markdown(f":material/description: **source:** {md(citation)}")
        for cited in (p for p in step.passages if p.citation == citation):
            st.html(trace_tree.passage_html(cited))


def draw_node(
    trace: Trace,
    path: tuple[str, ...],
    params: set[str],
    parting: str | None,
    differing: set[str],
    opened: set[tuple[str, ...]],
) -> None:
    """A step of the tree: drawn only when open, with its inputs under it — those that are
    steps as nodes that open in place, the others (parameters, case fields…) as a table."""
    step = trace.step(path[-1])
    with st.expander(
        marked(step, parting, differing),
        expanded=path in opened,
        key=trace_tree.node_key(trace.case_id, parting, path),
        on_change="rerun",
    ) as node:
        if not node.open:
            return
        draw_step(step)
        others = trace_tree.inputs_frame(step, trace, params, steps_too=False, money=money)
        children = trace_tree.step_inputs(trace, step)
        if children:
            st.markdown("**Inputs computed by other steps** (open one to see how)")
        for child in children:
            draw_node(trace, (*path, child), params, parting, differing, opened)
        if others.height:
            st.markdown("**Other inputs**")
            st.dataframe(others, hide_index=True)


root = workspace.policies_root()
st.title("Explain a case")

city = widgets.pick_city(root, "explain_city")
if city is None:
    st.stop()
cols = st.columns(3)
with cols[0]:
    chosen = widgets.pick_version(root, city, "Version", "explain_version")
with cols[1]:
    compare_on = st.checkbox(
        "Compare with another version", key="explain_compare", persist_state="session"
    )
    other = (
        widgets.pick_version(root, city, "Other version", "explain_other", index=1)
        if compare_on
        else None
    )
period = cols[2].text_input(
    "Period (2024 or 2024-03)", "2024", key="explain_period", persist_state="session"
)
dataset = widgets.pick_dataset("explain")

with st.form("explain_form"):
    wanted = st.text_input("Case id", "C000004", key="explain_case", persist_state="session")
    go = st.form_submit_button("Explain", type="primary")
if go:
    st.session_state["explain_run"] = True
if not st.session_state.get("explain_run") or dataset is None:
    st.info("Give a case id and press Explain (the data is settled once, then cached).")
    st.stop()
folder, encoding = dataset.folder, dataset.encoding

policy = widgets.compiled(root, chosen)
other_policy = widgets.compiled(root, other) if other else None
if policy is None or (other and other_policy is None):
    st.stop()
inputs = widgets.loaded_inputs(dataset, policy)
if inputs is None:
    st.stop()
try:
    with st.spinner("Settling…"):
        result = cache.settlement(policy, folder, period, encoding=encoding)
        other_result = (
            cache.settlement(other_policy, folder, period, encoding=encoding)
            if other_policy
            else None
        )
except (PeriodError, PolicyError) as exc:
    st.error(md(exc))
    st.stop()

found = explaining.find_cases(result, wanted)
if not found:
    st.error(f"No settled case id contains {md_code(wanted)} in {md(result.period.label)}.")
    st.stop()
case_id = found[0]
if len(found) > 1:
    case_id = st.selectbox(
        f"{len(found)} cases match {md_code(wanted)}",
        found,
        key="explain_pick",
        persist_state="session",
    )

try:
    trace = with_passages(payment_trace(result, case_id), policy, workspace.sources(root, city))
except UnknownCase as exc:
    st.error(md(exc))
    st.stop()

st.subheader(
    f"Case {md(trace.case_id)} under {md(trace.city)} "
    f"{md(widgets.shown_label(chosen.label, trace.version))}"
)
money = formats.money_names(policy)
st.caption(
    f"policy {trace.policy_hash[:12]} · stage {trace.stage} · period {md(trace.period)} · "
    + ", ".join(
        f"{md(formats.COLUMNS.get(k, (k, None))[0])} {md(formats.value(v, k in money))}"
        for k, v in trace.facts.items()
        if k != "case_id"
    )
)

parting: str | None = None
differing: set[str] = set()
if other_result is not None:
    try:
        other_trace = payment_trace(other_result, case_id)
    except UnknownCase as exc:
        st.error(md(exc))
        st.stop()
    diff = trace_diff(other_trace, trace)
    first = diff.first
    parting = first.name if first else None
    differing = {p.name for p in diff.pairs if p.differs}
    assert other is not None
    st.markdown(
        f"#### {md(widgets.shown_label(other.label, other_trace.version))} → "
        f"{md(widgets.shown_label(chosen.label, trace.version))}"
    )
    anywhere = diff.first_anywhere
    if anywhere is None:
        st.success("The two versions decide this case the same way, step by step.")
    elif first is None:
        st.info(
            f"The payment is the same under both versions: the first step that differs, "
            f"**{md(anywhere.name)}** ({md(anywhere.label)}), does not reach it."
        )
    else:
        old_value = formats.value(first.old.value, first.name in money) if first.old else "—"
        new_value = formats.value(first.new.value, first.name in money) if first.new else "—"
        st.warning(
            f"The versions part first, on the payment's path, at **{md(first.name)}** "
            f"({md(first.label)}): {md(old_value)} → {md(new_value)}  \n"
            + " ← ".join(md(name) for name in diff.payment_path)
        )
    if anywhere is not None:
        formats.table(
            explaining.diff_frame(diff, money),
            {
                "step": "步骤 step",
                "label": "名称 label",
                "old": widgets.shown_label(other.label, other_trace.version),
                "new": widgets.shown_label(chosen.label, trace.version),
                "status": "比较 status",
                "rule changed": "规则改变 rule changed",
            },
            width="stretch",
        )

metrics = st.columns(4)
for column, name in zip(
    metrics, ("category", "case_points", "settled_points", "payment"), strict=False
):
    if any(s.name == name for s in trace.steps):
        step = trace.step(name)
        column.metric(f"{md(step.label)} {md(name)}", md(formats.value(step.value, name in money)))

params = {p.name for p in policy.params}
view = st.radio(
    "Show the trace",
    [trace_tree.TREE, trace_tree.FLAT],
    horizontal=True,
    key="explain_view",
    persist_state="session",
    help="The tree starts from the payment: open an input that is a step to see how it was "
    "computed. The list shows every step in the order it was evaluated.",
)
if view == trace_tree.TREE:
    opened = trace_tree.opened_at_first(trace, parting)
    for i, name in enumerate(trace_tree.roots(trace)):
        if i == 1:
            st.caption("Also in the trace, not read by the payment:")
        draw_node(trace, (name,), params, parting, differing, opened)
else:
    for step in trace.steps:
        with st.expander(
            marked(step, parting, differing),
            expanded=step.name in explaining.OUTPUTS or step.name == parting,
        ):
            draw_step(step)
            if step.inputs:
                st.dataframe(
                    trace_tree.inputs_frame(step, trace, params, money=money), hide_index=True
                )
