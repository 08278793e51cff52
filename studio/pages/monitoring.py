"""Monitoring: the months of a year of the chosen dataset, settled one by one under a version,
their indicators side by side — targets met or not, the city's indicators, tiers and levels,
hospitals, outliers, group lists, what is not available — as `drgpolicy monitor` shows them,
with the same report to download."""

from __future__ import annotations

import json

import altair as alt
import polars as pl
import streamlit as st

from engine.inputs.contract import ContractError
from engine.monitor import Monitoring, render_html
from engine.page.markup import markdown_text as md
from policy_dsl.errors import PolicyError
from studio import cache, formats, monitoring_view, widgets, workspace

RESULT = "monitoring_result"
root = workspace.policies_root()
st.title("Monitoring")

city = widgets.pick_city(root, "monitoring_city")
if city is None:
    st.stop()
pick = st.columns(2)
with pick[0]:
    chosen = widgets.pick_version(root, city, "Version", "monitoring_version")
year = pick[1].number_input(
    "Year", 2000, 2100, 2024, key="monitoring_year", persist_state="session"
)
policy = widgets.compiled(root, chosen)
dataset = widgets.pick_dataset("monitoring")
if policy is None or dataset is None:
    st.stop()

if st.button("Settle the months and compare", type="primary", key="monitoring_run"):
    bar = st.progress(0.0, "loading the data…")
    st.session_state.pop(RESULT, None)
    try:
        found = cache.monitoring(
            policy,
            dataset.folder,
            int(year),
            lambda share, text: bar.progress(share, text),
            dataset.encoding,
        )
    except ContractError as exc:
        bar.empty()
        st.error(f"The dataset does not meet the data contract: {md(exc)}")
        st.stop()
    except PolicyError as exc:
        bar.empty()
        st.error(md(exc))
        st.stop()
    bar.empty()
    st.session_state[RESULT] = (dataset.label, found)

stored: tuple[str, Monitoring] | None = st.session_state.get(RESULT)
if stored is None:
    st.info("Choose a version, a year and a dataset, then press **Settle the months and compare**.")
    st.stop()
label, monitoring = stored
st.caption(f"{md(monitoring.title())} on {md(label)}")
views = monitoring_view.views(monitoring)
downloads = st.columns(2)
downloads[0].download_button(
    "Download the HTML report",
    render_html(monitoring).encode("utf-8"),
    file_name=f"monitor-{monitoring.runs.city}.html",
    mime="text/html",
    key="monitoring_html",
    on_click="ignore",
)
downloads[1].download_button(
    "Download monitor.json",
    json.dumps(monitoring.to_json(), ensure_ascii=False, indent=2).encode("utf-8"),
    file_name=f"monitor-{monitoring.runs.city}.json",
    mime="application/json",
    key="monitoring_json",
    on_click="ignore",
)
metrics = st.columns(3)
metrics[0].metric("结算次数 runs", len(monitoring.runs.runs))
metrics[1].metric("未达目标 values missing a target", views.missed)
metrics[2].metric("偏离历史 hospital values far from their history", views.history)


def line_chart(frame: pl.DataFrame, title: str, grain: str = "") -> None:
    """One line per key over the periods (a hospital level in its colour)."""
    if frame.is_empty():
        st.caption("No value.")
        return
    chart = (
        alt.Chart(frame.to_pandas(), title=title)
        .mark_line(point=True)
        .encode(
            x=alt.X("period:N", title="period"),
            y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
            color=formats.level_colour("key", frame["key"], title=None)
            if grain == "level"
            else alt.Color("key:N", title=None),
            tooltip=["key", "period", "value"],
        )
    )
    st.altair_chart(chart, width="stretch")


tabs = st.tabs(["Targets", "City", "Tiers and levels", "Hospitals", "Outliers", "Lists", "N/A"])
with tabs[0]:
    if views.targets.is_empty():
        st.caption(f"{md(city)} sets no target.")
    else:
        formats.table(views.targets, monitoring_view.LABELS, width="stretch")
with tabs[1]:
    formats.table(views.city, monitoring_view.LABELS, width="stretch")
    picked = st.selectbox("Indicator", views.labels, key="monitoring_city_indicator")
    line_chart(views.lines("city", picked), md(picked))
with tabs[2]:
    picked = st.selectbox("Indicator", views.headline, key="monitoring_group_indicator")
    for grain in ("tier", "level"):
        line_chart(views.lines(grain, picked), f"{md(picked)} by {grain}", grain)
with tabs[3]:
    picked = st.selectbox("Indicator", views.headline, key="monitoring_hospital_indicator")
    formats.table(views.wide("hospital", picked), monitoring_view.LABELS, width="stretch")
    line_chart(views.lines("hospital", picked), f"{md(picked)} by hospital")
with tabs[4]:
    formats.table(views.outliers, monitoring_view.LABELS, width="stretch")
with tabs[5]:
    formats.table(views.lists, monitoring_view.LABELS, width="stretch")
with tabs[6]:
    formats.table(views.not_available, monitoring_view.LABELS, width="stretch")
