"""What-if: settle a dataset under a base and a new version (the editor's buffer included) and
show what the change does — totals, levels, hospitals, winners and losers, category transitions,
the part of each clause, threshold exposure — with sliders for the new version's parameters."""

from __future__ import annotations

import altair as alt
import streamlit as st

from engine.contract import ContractError
from engine.markup import markdown_code as md_code
from engine.markup import markdown_text as md
from engine.rundata import PeriodError
from engine.whatif.exposure import declared_types, exposure
from engine.whatif.report import Report
from engine.whatif.report_html import render_html
from engine.whatif.sweep import sweep
from policy_dsl.errors import PolicyError
from studio import cache, runs, whatif_view, widgets, workspace

RESULT = "whatif_result"
root = workspace.policies_root()
st.title("What-if")

city = widgets.pick_city(root, "whatif_city")
if city is None:
    st.stop()
options = widgets.version_options(root, city)
pick = st.columns(3)
new_label = pick[1].selectbox(
    "New version", options, index=len(options) - 1, key="whatif_new", persist_state="session"
)
base_default = 1 if len(options) > 1 and options[0] != new_label else 0
base_label = pick[0].selectbox(
    "Base version", options, index=base_default, key="whatif_base", persist_state="session"
)
period = pick[2].text_input(
    "Period (2024 or 2024-03)", "2024", key="whatif_period", persist_state="session"
)
base_chosen = widgets.Chosen(base_label, city, widgets.policy_text(root, city, base_label))
new_chosen = widgets.Chosen(new_label, city, widgets.policy_text(root, city, new_label))
base_ir = widgets.compiled(root, base_chosen)
new_ir = widgets.compiled(root, new_chosen)
dataset = widgets.pick_dataset("whatif")
if base_ir is None or new_ir is None or dataset is None:
    st.stop()
folder = dataset.folder

siblings = workspace.siblings(root, city, None)
new_resolved = whatif_view.resolved(siblings, new_chosen.text, f"{city}/{new_label}")
specs = runs.numeric_params(new_resolved)
whatif_view.reset_moved_sliders(st.session_state, specs)

with st.form("whatif_form"):
    chosen: dict[str, float] = {}
    sliders = st.expander(f"Parameters of {md(new_label)}: move a slider for a quick sweep")
    columns = sliders.columns(3)
    for i, spec in enumerate(specs):
        with columns[i % 3]:
            if spec.integral:
                chosen[spec.name] = float(
                    st.slider(
                        f"{md(spec.label)} {md_code(spec.name)}",
                        int(spec.low),
                        int(spec.high),
                        int(spec.value),
                        key=whatif_view.SLIDER_KEY.format(spec.name),
                        persist_state="session",
                    )
                )
            else:
                chosen[spec.name] = st.slider(
                    f"{md(spec.label)} {md_code(spec.name)}",
                    float(spec.low),
                    float(spec.high),
                    float(spec.value),
                    step=float(spec.step),
                    key=whatif_view.SLIDER_KEY.format(spec.name),
                    persist_state="session",
                )
    attribute_on = st.checkbox(
        "Attribute the change to each clause (one more settlement per changed clause)",
        value=True,
        key="whatif_attribute",
        persist_state="session",
    )
    go = st.form_submit_button("Run what-if", type="primary")

if go:
    bar = st.progress(0.0, "loading the data…")
    st.session_state.pop(RESULT, None)  # a new run: nothing of the last one stays
    try:
        params = whatif_view.changed_params(new_ir, chosen)
        both = whatif_view.inputs_policy(base_ir, new_ir)
        kept = cache.runs(folder, period, both)
        key = cache.runs_key(folder, period, both)
        texts = (base_chosen.text, new_chosen.text)
        digest = runs.city_digest(root, city)
        base_resolved = whatif_view.resolved(siblings, base_chosen.text, f"{city}/{base_label}")
        pair = (base_resolved, new_resolved) if attribute_on else None
        result = whatif_view.run(
            kept,
            base_ir,
            new_ir,
            params,
            pair,
            lambda share, text: bar.progress(share, text),
            lambda kept, base, new: cache.attribution(key, texts, digest, kept, base, new),
        )
    except ContractError as exc:
        bar.empty()
        st.error(f"The dataset does not meet the data contract: {md(exc)}")
        st.stop()
    except (PeriodError, PolicyError) as exc:
        bar.empty()
        st.error(md(exc))
        st.stop()
    bar.empty()
    st.session_state[RESULT] = whatif_view.PageRun(
        dataset,
        period,
        (base_label, new_label),
        base_ir,
        new_ir,
        declared_types(new_resolved),
        specs,
        result,
        cache.inputs(folder, both).rejects,
    )

stored: whatif_view.PageRun | None = st.session_state.get(RESULT)
if stored is None:
    st.info("Choose the versions and a dataset, then press **Run what-if**.")
    st.stop()
data_folder, data_period, comparison, labels = (
    stored.dataset.folder,
    stored.period,
    stored.comparison,
    stored.labels,
)
impact = comparison.impact
base_v, new_v = impact.base.policy.version, impact.new.policy.version
took = sum(comparison.timings.values())
st.caption(
    f"{md(widgets.shown_label(labels[0], base_v))} → {md(widgets.shown_label(labels[1], new_v))} "
    f"on {md(stored.dataset.label)} ({impact.base.totals.cases:,} cases, "
    f"{md(data_period)}) · computed in {took:.2f} s"
    + (f" · parameters set: {md(comparison.params)}" if comparison.params else "")
)
if stored.dataset.borrowed:
    st.warning(widgets.borrowed_text(stored.dataset), icon=":material/merge_type:")
widgets.show_rejects(stored.rejects)

if comparison.attribution is not None:
    report = Report(
        stored.dataset.label,
        data_period,
        comparison.attribution,
        stored.exposure,
        stored.sweep,
    )
    st.download_button(
        "Download the HTML report",
        render_html(report).encode("utf-8"),
        file_name=f"whatif-{impact.new.policy.city}-{base_v}-{new_v}.html",
        mime="text/html",
        key="whatif_download",
        on_click="ignore",
    )
else:
    st.caption("The HTML report needs the attribution per clause (tick it and run again).")

st.subheader("Totals")
tables = whatif_view.whatif_tables(comparison)
totals = {r["measure"]: r for r in tables["totals"].iter_rows(named=True)}
metrics = st.columns(4)
metrics[0].metric("cases", f"{int(totals['cases']['new']):,}")
payment = totals["payment"]
metrics[1].metric(
    "payment (元)", f"{payment['new']:,.2f}", f"{payment['change']:+,.2f}", delta_color="off"
)
price = totals["price"]
if price["new"] is not None:
    metrics[2].metric(
        "point value" if impact.new.policy.method == "points" else "rate",
        f"{price['new']:,.4f}",
        None if price["change"] is None else f"{price['change']:+,.4f}",
        delta_color="off",
    )
moved = int(tables["moved"]["cases"].sum()) if tables["moved"].height else 0
metrics[3].metric("cases changing category", f"{moved:,}")
st.dataframe(tables["totals"], hide_index=True)

levels_tab, hospitals_tab, transitions_tab, parts_tab, exposure_tab, sweep_tab = st.tabs(
    ["Levels", "Hospitals", "Category transitions", "Per clause", "Threshold exposure", "Sweep"]
)
with levels_tab:
    levels = tables["levels"]
    st.altair_chart(
        alt.Chart(levels.to_pandas())
        .mark_bar()
        .encode(
            x=alt.X("level:O", title="hospital level"),
            y=alt.Y("delta:Q", title="change of payment (元)"),
            color=alt.condition("datum.delta >= 0", alt.value("#2e7d32"), alt.value("#c62828")),
            tooltip=["level", "hospitals", "cases", "payment_base", "payment_new", "delta", "pct"],
        ),
        width="stretch",
    )
    st.table(levels.to_pandas(), hide_index=True)
    st.markdown("**By category**")
    st.dataframe(tables["categories"], hide_index=True)
with hospitals_tab:
    hospitals = tables["hospitals"]
    st.altair_chart(
        alt.Chart(hospitals.to_pandas())
        .mark_bar()
        .encode(
            x=alt.X("hospital_id:N", sort="-y", title=None),
            y=alt.Y("delta:Q", title="change of payment (元)"),
            color=alt.Color("level:N"),
            tooltip=["hospital_id", "level", "cases", "payment_base", "payment_new", "delta"],
        ),
        width="stretch",
    )
    win, lose = st.columns(2)
    win.markdown("**Winners**")
    win.dataframe(tables["winners"], hide_index=True)
    lose.markdown("**Losers**")
    lose.dataframe(tables["losers"], hide_index=True)
    st.markdown("**Every hospital**")
    st.dataframe(hospitals, hide_index=True)
    if tables["supervision"].width > 2:
        st.markdown(
            "**Deductions (违规扣款, 拒付; 元) and assessment scores of the hospitals that move**"
        )
        st.dataframe(tables["supervision"], hide_index=True)
with transitions_tab:
    matrix = tables["matrix_long"]
    heat = alt.Chart(matrix.to_pandas()).encode(
        x=alt.X("to:N", title=f"category under {new_v}", sort=None),
        y=alt.Y("from:N", title=f"category under {base_v}", sort=None),
    )
    st.altair_chart(
        heat.mark_rect().encode(
            color=alt.Color("cases:Q", scale=alt.Scale(type="symlog")),
            tooltip=["from", "to", "cases"],
        )
        + heat.mark_text().encode(text="cases:Q"),
        width="stretch",
    )
    st.dataframe(tables["matrix"], hide_index=True)
    st.markdown("**Cases that change category, by level**")
    st.dataframe(tables["moved"], hide_index=True)
    moved_cases = tables["moved_cases"]
    if moved_cases.height:
        st.markdown(
            f"**Cases that change category** ({moved:,}; the first {moved_cases.height:,} by "
            "change of payment): give one to the Explain page, with the two versions, to see "
            "the step where they part"
        )
        st.dataframe(moved_cases, hide_index=True)
with parts_tab:
    if comparison.attribution is None:
        st.info(
            md(comparison.note)
            if comparison.note
            else "Tick *Attribute the change to each clause* and run again."
        )
    else:
        if comparison.note:
            st.caption(md(comparison.note))
        parts = tables["parts"]
        st.dataframe(parts, hide_index=True)
        st.altair_chart(
            alt.Chart(whatif_view.parts_by_level(parts).to_pandas())
            .mark_bar()
            .encode(
                y=alt.Y("part:N", sort=None, title=None),
                yOffset=alt.YOffset("level:N"),
                x=alt.X("change:Q", title="change of payment by hospital level (元)"),
                color=alt.Color("level:N"),
                tooltip=["part", "level", "change"],
            ),
            width="stretch",
        )
        st.markdown("**Per hospital (元)**")
        st.dataframe(tables["parts_by_hospital"], hide_index=True)
with exposure_tab:
    st.caption(
        f"For each threshold of {md(widgets.shown_label(labels[1], new_v))} as this run set it "
        "(the slider values included): the cases within ±5% of it, and what moving it one step "
        "down or up does (two settlements per threshold)."
    )
    if st.button("Measure threshold exposure", key="whatif_exposure"):
        kept = cache.runs(data_folder, data_period, stored.inputs)
        with st.spinner("Moving each threshold one step each way…"):
            stored.exposure = exposure(kept, stored.new, stored.settings, stored.declared)
    if stored.exposure is not None:
        st.dataframe(whatif_view.exposure_frame(stored.exposure), hide_index=True)
with sweep_tab:
    names = [spec.name for spec in stored.specs]
    if not names:
        st.info(f"{md(new_v)} has no numeric parameter to sweep.")
    else:
        with st.form("whatif_sweep_form"):
            name = st.selectbox(
                "Parameter", names, key="whatif_sweep_param", persist_state="session"
            )
            spec = next(s for s in stored.specs if s.name == name)
            span = st.slider(
                "From / to", float(spec.low), float(spec.high), (float(spec.low), float(spec.high))
            )
            count = st.number_input(
                "Values", 2, 21, 6, key="whatif_sweep_count", persist_state="session"
            )
            swept = st.form_submit_button("Sweep")
        if swept:
            grid = whatif_view.grid(span[0], span[1], int(count), spec.integral)
            kept = cache.runs(data_folder, data_period, stored.inputs)
            with st.spinner(f"Settling {len(grid)} values of {md(name)}…"):
                stored.sweep = sweep(kept, stored.new, {name: grid}, stored.settings)
        swept_result = stored.sweep
        if swept_result is not None:
            if comparison.params:
                st.caption(f"The other parameters as this run set them: {md(comparison.params)}")
            long = whatif_view.sweep_long(swept_result)
            st.altair_chart(
                alt.Chart(long.to_pandas())
                .mark_line(point=True)
                .encode(
                    x=alt.X("value:Q", title=swept_result.params[0]),
                    y=alt.Y("delta:Q", title="change of payment against this run (元)"),
                    color=alt.Color("level:N"),
                    tooltip=["value", "level", "delta"],
                ),
                width="stretch",
            )
            st.dataframe(whatif_view.yuan(swept_result.table), hide_index=True)
