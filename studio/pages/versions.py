"""Versions: each city's versions on a timeline with dates and hashes; the semantic diff of any
two (parameters, tables, clauses, with their sources), the text diff side by side, and the new
version as the policy document to sign with its redline (`drgpolicy render`), to download."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st
import streamlit.components.v1 as components

from engine.page.markup import markdown_code as md_code
from engine.page.markup import markdown_text as md
from engine.render.ledger import covering_ledger
from engine.render.pages import checked, document_html, redline_html
from policy_dsl.errors import PolicyError
from policy_dsl.loader import policy_from_text
from studio import buffer, cache, compare, formats, widgets, workspace

root = workspace.policies_root()
st.title("Versions")

city = widgets.pick_city(root, "versions_city")
if city is None:
    st.stop()
try:
    timeline = cache.city_timeline(root, city)
except PolicyError as exc:
    st.error(f"The versions of {md(city)} cannot be put on a timeline: {md(exc)}")
    st.stop()
versions = timeline.city

rows = compare.timeline_rows(versions, timeline.failing)
if rows:
    frame = pl.DataFrame(rows)
    chart = (
        alt.Chart(frame.to_pandas())
        .mark_bar(cornerRadius=3, height=22)
        .encode(
            x=alt.X("start:T", title="in force"),
            x2="end:T",
            y=alt.Y("shown:N", sort=None, title=None),
            color=alt.Color("version:N", legend=None),
            opacity=alt.condition("datum.checks == 'yes'", alt.value(1.0), alt.value(0.35)),
            stroke=alt.condition("datum.checks == 'yes'", alt.value(None), alt.value("#c62828")),
            strokeDash=alt.value([4, 3]),
            tooltip=["version", "checks", "from", "in force until", "extends", "hash"],
        )
        .properties(height=60 + 34 * len(rows))
    )
    st.altair_chart(chart, width="stretch")
    formats.table(
        frame.select(
            "version", "checks", "from", "to", "in force until", "extends", "hash", "file"
        ),
        compare.TIMELINE_LABELS,
    )
for problem in compare.timeline_problems(versions):
    st.warning(md(problem))
for version, errors in timeline.failing.items():
    with st.expander(
        f"✗ version {md(version)} does not check: {len(errors)} error(s) — fix it in the Editor",
        expanded=True,
    ):
        st.code("\n\n".join(errors), language=None)
for name, errors in timeline.unplaced.items():
    with st.expander(
        f"✗ {md(name)} is not on the timeline: it does not parse, or has no effective date",
        expanded=True,
    ):
        st.code("\n\n".join(errors), language=None)

st.subheader("Compare two versions")
options = widgets.version_options(root, city)
if len(options) < 2:
    st.info("Only one version: nothing to compare yet.")
    st.stop()
pick = st.columns(2)
old_label = pick[0].selectbox(
    "Old", options, index=min(1, len(options) - 1), key="versions_old", persist_state="session"
)
new_label = pick[1].selectbox("New", options, index=0, key="versions_new", persist_state="session")
old_text = widgets.policy_text(root, city, old_label)
new_text = widgets.policy_text(root, city, new_label)


def _resolved(label: str, text: str) -> compare.Resolved:
    if label == widgets.BUFFER:
        file = policy_from_text(text, f"{city}/{label}")
        return compare.resolved_in(versions, file.header.version, override=file)
    return compare.resolved_in(versions, label)


semantic, text_tab, document_tab = st.tabs(["Semantic diff", "Text diff", "Document 政策文本"])
with semantic:
    try:
        changes = compare.semantic_diff(
            _resolved(old_label, old_text), _resolved(new_label, new_text)
        )
    except (PolicyError, StopIteration) as exc:
        st.error(f"Cannot compare: {md(exc or 'the buffer does not parse')}")
        changes = []
    counts = {
        k: sum(c.kind == compare.GROUP_WORDS[k] for c in changes)
        for k in ("added", "changed", "removed")
    }
    st.markdown(
        f"**{len(changes)} change(s)** from {md(old_label)} to {md(new_label)}: "
        + ", ".join(f"{n} {k}" for k, n in counts.items())
    )
    if changes:
        table = pl.DataFrame([c.__dict__ for c in changes]).drop("description")
        formats.table(table, compare.CHANGE_LABELS, width="stretch")
        for change in changes:
            with st.expander(f"{md(change.kind)} · {md(change.label)} {md(change.subject)}"):
                st.code(change.description, language=None)
                st.caption(f"clause {md_code(change.clause)}")
                if change.old_citations:
                    st.markdown(f"**source before:** {md(change.old_citations)}")
                if change.new_citations:
                    st.markdown(f"**source after:** {md(change.new_citations)}")
with text_tab:
    removed, added = compare.text_diff_stats(old_text, new_text)
    whole = st.toggle("Show whole files", key="versions_whole", persist_state="session")
    st.caption(f"{removed} line(s) removed, {added} added")
    old_name = widgets.shown_label(old_label, buffer.header_version(old_text) or "?")
    new_name = widgets.shown_label(new_label, buffer.header_version(new_text) or "?")
    st.html(compare.text_diff_html(old_text, new_text, old_name, new_name, context=not whole))
with document_tab:
    folders = workspace.sources(root, city)
    try:
        new_version = checked(_resolved(new_label, new_text))
        version = new_version.resolved.header.version
        ledger = covering_ledger(workspace.version_path(root, city, version), folders)
        document = document_html(new_version, folders, ledger)
        redline = redline_html(checked(_resolved(old_label, old_text)), new_version, folders)
    except (PolicyError, StopIteration) as exc:
        st.error(f"Cannot write the document: {md(exc or 'the buffer does not parse')}")
    else:
        name = f"{city}-{new_version.resolved.header.version}"
        buttons = st.columns(2)
        buttons[0].download_button(
            "Download the policy document (HTML)",
            document,
            file_name=f"{name}.html",
            mime="text/html",
            key="versions_document_download",
        )
        buttons[1].download_button(
            f"Download the redline against {old_label} (HTML)",
            redline,
            file_name=f"{name}-redline.html",
            mime="text/html",
            key="versions_redline_download",
        )
        st.caption("Print either page from the browser for a PDF (or `drgpolicy render`).")
        shown = st.radio(
            "Show", ["policy document", "redline"], horizontal=True, key="versions_document_shown"
        )
        components.html(
            document if shown == "policy document" else redline, height=900, scrolling=True
        )
