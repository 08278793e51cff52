"""Editor: edit a version (or start one that extends the version in force), see its diagnostics
marked in the text, format it, and save it when it checks clean (or as a draft)."""

from __future__ import annotations

import streamlit as st

from studio import cache, editing, highlight, workspace
from studio.state import (
    CONFIRM,
    EDITOR_CHOICE,
    EDITOR_CITY,
    EDITOR_FLASH,
    EDITOR_TEXT,
)

root = workspace.policies_root()
st.title("Editor")
st.html(
    "<style>.stTextArea textarea{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"
    "monospace;font-size:13px;line-height:1.45;white-space:pre;overflow-wrap:normal;"
    "overflow-x:auto}</style>"
)

cities = workspace.cities(root)
if not cities:
    st.warning(f"No city folders with .policy files under {root}.")
    st.stop()

editing.restore(st.session_state)
top = st.columns([2, 2, 6])
city = top[0].selectbox("City", cities, key=EDITOR_CITY, persist_state="session")
options = editing.choices(root, city)
if st.session_state.get(EDITOR_CHOICE) not in options:
    st.session_state[EDITOR_CHOICE] = options[0]
top[1].selectbox("Version", options, key=EDITOR_CHOICE, persist_state="session")
if editing.needs_loading(st.session_state):
    editing.load_choice(st.session_state, root)

editing.keep(st.session_state)
text = st.session_state[EDITOR_TEXT]
analysis = cache.analysis(root, city, text)
errors, warnings = analysis.counts()
version = analysis.version or "?"
opened = editing.opened_path(st.session_state)
modified = opened is None or not opened.exists() or opened.read_text(encoding="utf-8") != text
top[2].markdown(
    f"**{city} / {version}**"
    + (" · *unsaved changes*" if modified else " · saved")
    + (f" · :red[{errors} error(s)]" if errors else " · :green[checks clean]")
    + (f" · :orange[{warnings} warning(s)]" if warnings else "")
)

flash = st.session_state.pop(EDITOR_FLASH, None)
if flash:
    getattr(st, flash[0])(flash[1])

with st.expander(
    f"Diagnostics: {errors} error(s), {warnings} warning(s)", expanded=bool(analysis.diagnostics)
):
    if not analysis.diagnostics:
        st.success("No diagnostics: the version checks clean.")
    for d in analysis.diagnostics:
        show = st.error if d.severity == "error" else st.warning
        hint = f"  \nhint: {d.hint}" if d.hint else ""
        show(f"**{d.code}** line {d.line}, column {d.column}: {d.message}{hint}")

left, right = st.columns(2)
with left:
    st.text_area(
        "Policy text (diagnostics update when you leave the box or press Ctrl+Enter)",
        key=EDITOR_TEXT,
        persist_state="session",
        height=620,
    )
    buttons = st.columns(3)
    buttons[0].button(
        "Format", key="editor_format", on_click=editing.format_buffer, args=(st.session_state,)
    )
    warning = None
    if analysis.ok and analysis.version:
        try:
            warning = workspace.overwrite_warning(root, city, analysis.version, opened)
        except workspace.UnsafeName as exc:
            st.error(str(exc))
    if warning:
        st.warning(warning)
        st.checkbox(
            f"Yes, overwrite version {analysis.version}", key=CONFIRM, persist_state="session"
        )
    buttons[1].button(
        "Save version",
        key="editor_save",
        type="primary",
        disabled=not analysis.ok,
        help=None if analysis.ok else "fix the errors first, or save a draft",
        on_click=editing.save,
        args=(st.session_state, root),
    )
    buttons[2].button(
        "Save as draft",
        key="editor_draft",
        on_click=editing.save_draft,
        args=(st.session_state, root),
        help="kept in .drafts/, never read as a version",
    )

with right:
    st.markdown("**Marked listing**")
    st.html(highlight.listing_html(text, analysis.diagnostics))
