"""What-if: settle a dataset under a base and a new version (the editor's buffer included) and
show what the change does — totals, levels, hospitals, winners and losers, category transitions,
the part of each clause, threshold exposure — with sliders for the new version's parameters."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from engine.inputs.contract import ContractError
from engine.inputs.rundata import PeriodError
from engine.page import show
from engine.page.markup import markdown_code as md_code
from engine.page.markup import markdown_text as md
from engine.whatif.exposure import declared_types, exposure
from engine.whatif.report import Report
from engine.whatif.sweep import sweep
from policy_dsl.errors import PolicyError
from studio import (
    cache,
    explain_link,
    formats,
    measure_view,
    runs,
    whatif_view,
    widgets,
    workspace,
)

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
folder, encoding = dataset.folder, dataset.encoding

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
        kept = cache.runs(folder, period, both, encoding)
        key = cache.runs_key(folder, period, both, encoding)
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
            lambda kept, base, new, impact, changes: cache.attribution(
                key, texts, digest, kept, base, new, impact, changes
            ),
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
        cache.inputs(folder, both, encoding).rejects,
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
    + (
        f" · parameters set: {md(whatif_view.params_text(comparison.params, stored.specs))}"
        if comparison.params
        else ""
    )
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
        whatif_view.report_download(report),
        file_name=f"whatif-{impact.new.policy.city}-{base_v}-{new_v}.html",
        mime="text/html",
        key="whatif_download",
        on_click="ignore",
    )
else:
    st.caption("The HTML report needs the attribution per clause (tick it and run again).")

st.subheader("Totals")
tables = whatif_view.whatif_tables(comparison)
names = whatif_view.measure_names(impact.new.policy)
metrics = st.columns(4)
metrics[0].metric(md(names["cases"]), f"{impact.new.totals.cases:,}")
paid = impact.new.totals.payment - impact.base.totals.payment
metrics[1].metric(
    md(names["payment"]),
    formats.money_brief(impact.new.totals.payment),
    formats.money_brief(paid, signed=True),
    delta_color="off",
    help=f"{formats.money(impact.new.totals.payment)} ({formats.money(paid, signed=True)})",
)
price = impact.new.totals.price
if price is not None:
    before = impact.base.totals.price
    metrics[2].metric(
        md(names["price"]),
        show.number(price, 6),
        None if before is None else f"{price - before:+,.6f}",
        delta_color="off",
    )
moved = int(tables["moved"]["cases"].sum()) if tables["moved"].height else 0
metrics[3].metric(
    "类型改变 cases moved",
    f"{moved:,}",
    help="病例类型（高倍率、低倍率、正常…）改变的病例数 cases whose category changes",
)
formats.table(
    tables["totals"],
    {
        "measure": "项目 item",
        "base": widgets.shown_label(labels[0], base_v),
        "new": widgets.shown_label(labels[1], new_v),
        "change": "变化 change",
        "change %": "变化率 change %",
    },
)

levels_tab, hospitals_tab, transitions_tab, parts_tab, exposure_tab, sweep_tab = st.tabs(
    ["Levels", "Hospitals", "Category transitions", "Per clause", "Threshold exposure", "Sweep"],
    key="whatif_tab",  # the tab shown is kept across reruns: a measurement stays in its tab
    on_change="rerun",
)
classes = whatif_view.class_names(impact.new.policy, impact.base.policy)
with levels_tab:
    levels = tables["levels"].with_columns(
        pl.col("level").map_elements(formats.level_name, return_dtype=pl.String)
    )
    st.altair_chart(
        alt.Chart(levels.to_pandas())
        .mark_bar()
        .encode(
            x=alt.X("level:N", title="hospital level 医院级别", sort=None),
            y=alt.Y("delta:Q", title="change of payment 支付变化 (¥)"),
            color=formats.gain_loss("delta"),
            tooltip=formats.tooltips(levels),
        ),
        width="stretch",
    )
    st.table(formats.written(levels).to_pandas(), hide_index=True)
    st.markdown("**By category 按病例类型**")
    formats.table(whatif_view.named_classes(tables["categories"], classes))
with hospitals_tab:
    hospitals = tables["hospitals"]
    st.altair_chart(
        alt.Chart(hospitals.to_pandas())
        .mark_bar()
        .encode(
            x=alt.X("hospital_id:N", sort="-y", title=None),
            y=alt.Y("delta:Q", title="change of payment 支付变化 (¥)"),
            color=formats.gain_loss("delta"),
            tooltip=formats.tooltips(hospitals),
        ),
        width="stretch",
    )
    win, lose = st.columns(2)
    win.markdown("**Winners 增加最多**")
    with win:
        formats.table(tables["winners"])
    lose.markdown("**Losers 减少最多**")
    with lose:
        formats.table(tables["losers"])
    st.markdown("**Every hospital 全部医院**")
    formats.table(hospitals)
    if tables["supervision"].width > 2:
        st.markdown(
            "**Deductions (违规扣款, 拒付) and assessment scores of the hospitals that move**"
        )
        formats.table(tables["supervision"], whatif_view.input_labels(impact.new.policy))
with transitions_tab:
    matrix = whatif_view.named_classes(tables["matrix_long"], classes)
    heat = alt.Chart(matrix.to_pandas()).encode(
        x=alt.X("to:N", title=f"category under {new_v}", sort=None),
        y=alt.Y("from:N", title=f"category under {base_v}", sort=None),
    )
    st.altair_chart(
        heat.mark_rect().encode(
            color=alt.Color("cases:Q", scale=alt.Scale(type="symlog"), title="cases 病例数"),
            tooltip=formats.tooltips(matrix),
        )
        + heat.mark_text().encode(text="cases:Q"),
        width="stretch",
    )
    formats.table(
        whatif_view.named_classes(tables["matrix"], classes),
        {name: classes.get(name, name) for name in tables["matrix"].columns},
    )
    st.markdown("**Cases that change category, by level**")
    formats.table(whatif_view.named_classes(tables["moved"], classes))
    moved_cases = tables["moved_cases"]
    if moved_cases.height:
        st.markdown(
            f"**Cases that change category** ({moved:,}; the first {moved_cases.height:,} by "
            "change of payment): pick one to read on the Explain page, with the two versions, "
            "the step where they part"
        )
        picked = formats.table(
            whatif_view.named_classes(moved_cases, classes),
            key="whatif_moved_pick",
            on_select="rerun",
            selection_mode="single-row",
        )
        rows = picked.selection.rows if picked is not None else []
        if rows:
            explain_link.open_case(
                st.session_state,
                str(moved_cases["case_id"][rows[0]]),
                impact.new.policy.city,
                stored.labels,
                data_period,
                stored.dataset,
            )
            st.switch_page(explain_link.PAGE)
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
        formats.table(parts, {"part": "条款 part", "clause": "clause", "change": "变化 change"})
        by_level = whatif_view.parts_by_level(parts)
        st.altair_chart(
            formats.level_bars(by_level, "part", "change of payment by hospital level 按级别 (¥)"),
            width="stretch",
        )
        st.markdown("**Per hospital 按医院**")
        formats.table(
            tables["parts_by_hospital"],
            whatif_view.part_labels(comparison.attribution),
            {name: formats.MONEY for name in tables["parts_by_hospital"].columns[2:]},
        )
with exposure_tab:
    st.caption(
        f"For each threshold of {md(widgets.shown_label(labels[1], new_v))} as this run set it "
        "(the slider values included): the cases within ±5% of it, and what moving it one step "
        "down or up does to the total and to each hospital level (two settlements per "
        "threshold). "
        + (
            "Under the point method the budget is shared whatever the threshold: the total "
            "does not move, the money moves between the levels."
            if impact.new.policy.method == "points"
            else ""
        )
    )
    if st.button("Measure threshold exposure", key="whatif_exposure"):
        kept = cache.runs(data_folder, data_period, stored.inputs, stored.dataset.encoding)
        with st.spinner("Moving each threshold one step each way…"):
            stored.exposure = exposure(kept, stored.new, stored.settings, stored.declared)
    if stored.exposure is not None:
        st.caption(
            f"{len(stored.exposure.thresholds)} thresholds measured, the most exposed first."
        )
        exposed = measure_view.exposure_frame(stored.exposure, stored.declared)
        formats.table(
            exposed,
            measure_view.exposure_labels(exposed),
            {name: formats.MONEY for name in exposed.columns if ": " in name},
        )
        per_level = measure_view.exposure_levels(stored.exposure)
        if per_level.height:
            st.altair_chart(
                formats.level_bars(
                    per_level,
                    "threshold",
                    "money moved per level by one step (¥)",
                    column=alt.Column("shift:N", title=None),
                )
            )
with sweep_tab:
    sweepable = {spec.name: spec for spec in stored.specs}
    if not sweepable:
        st.info(f"{md(new_v)} has no numeric parameter to sweep.")
    else:
        name = st.selectbox(
            "Parameter",
            list(sweepable),
            key="whatif_sweep_param",
            persist_state="session",
            format_func=lambda n: f"{sweepable[n].label} · {n}",
        )
        spec = sweepable[name]
        current = comparison.params.get(name, spec.value)
        with st.form("whatif_sweep_form"):
            span = st.slider(
                "From / to",
                float(spec.low),
                float(spec.high),
                (float(spec.low), float(spec.high)),
                step=float(spec.step),
                key=f"whatif_sweep_span_{name}",
            )
            count = st.number_input(
                "Values", 2, 21, 5, key="whatif_sweep_count", persist_state="session"
            )
            swept = st.form_submit_button("Sweep")
        st.caption(
            "The values run evenly from the lower end to the upper and include this run's "
            f"value of {md(spec.label)}, {md(formats.param_value(current, spec.type))}, where "
            "it lies between them: there the change is zero."
        )
        if swept:
            grid = measure_view.grid(span[0], span[1], int(count), spec.integral, current)
            kept = cache.runs(data_folder, data_period, stored.inputs, stored.dataset.encoding)
            with st.spinner(f"Settling {len(grid)} values of {md(spec.label)}…"):
                stored.sweep = sweep(kept, stored.new, {name: grid}, stored.settings)
        swept_result = stored.sweep
        if swept_result is not None:
            swept_spec = sweepable.get(swept_result.params[0])
            swept_label = swept_spec.label if swept_spec else swept_result.params[0]
            st.caption(
                f"{swept_result.table.height} values of {md(swept_label)} settled, each "
                "against this run."
            )
            if comparison.params:
                st.caption(
                    "The other parameters as this run set them: "
                    + md(whatif_view.params_text(comparison.params, stored.specs))
                )
            long = measure_view.sweep_long(swept_result)
            st.altair_chart(
                alt.Chart(long.to_pandas())
                .mark_line(point=True)
                .encode(
                    x=alt.X("value:Q", title=swept_label),
                    y=alt.Y("delta:Q", title="change of payment against this run (¥)"),
                    color=formats.level_colour("level", long["level"]),
                    tooltip=formats.tooltips(long),
                ),
                width="stretch",
            )
            table = whatif_view.yuan(swept_result.table)
            formats.table(
                table,
                measure_view.sweep_labels(table, stored.specs, impact.new.policy, classes),
                measure_view.sweep_kinds(table, stored.specs),
            )
