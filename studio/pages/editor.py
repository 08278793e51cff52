"""Editor: edit a version (or start one that extends the version in force) in the policy editor
component, its diagnostics marked in the text as you type; format it, and save it when it checks
clean (or as a draft). A plain text box with the marked listing beside it is the fallback."""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from engine.new_city import METHODS
from engine.page.markup import markdown_text as md
from engine.render.ledger import shown_path
from policy_dsl.errors import PolicyError
from studio import buffer, cache, editing, highlight, policy_editor, workspace
from studio.state import (
    CONFIRM,
    EDITOR_CHOICE,
    EDITOR_CITY,
    EDITOR_COMPONENT,
    EDITOR_FLASH,
    EDITOR_PLAIN,
    EDITOR_TEXT,
    NEW_CITY_METHOD,
    NEW_CITY_NAME,
)

root = workspace.policies_root()
st.title("Editor")
missing = policy_editor.unavailable()
if EDITOR_PLAIN not in st.session_state:
    st.session_state[EDITOR_PLAIN] = missing is not None or policy_editor.plain_by_default()
plain = bool(st.session_state[EDITOR_PLAIN]) or missing is not None
st.html(
    "<style>.stTextArea textarea{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"
    "monospace;font-size:13px;line-height:1.45;white-space:pre;overflow-wrap:normal;"
    "overflow-x:auto}</style>"
)

cities = workspace.cities(root)
if not cities:
    st.warning(f"No city folders with .policy files under {md(root)}.")
    st.stop()

editing.restore(st.session_state)
if not plain:
    editing.take_sent(st.session_state)  # what the editor component sent since the last run
top = st.columns([2, 2, 6])
city = top[0].selectbox("City", cities, key=EDITOR_CITY, persist_state="session")
with top[0].popover("＋ new city"):
    st.text_input("City name (Latin letters, e.g. hefei)", key=NEW_CITY_NAME)
    st.radio("Payment method", METHODS, key=NEW_CITY_METHOD, horizontal=True)
    st.button("Create", key="new_city", on_click=editing.new_city, args=(st.session_state, root))
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
    f"**{md(city)} / {md(version)}**"
    + (" · *unsaved changes*" if modified else " · saved")
    + (f" · :red[{errors} error(s)]" if errors else " · :green[checks clean]")
    + (f" · :orange[{warnings} warning(s)]" if warnings else "")
)

flash = st.session_state.pop(EDITOR_FLASH, None)
if flash:
    getattr(st, flash[0])(md(flash[1]))

if missing:
    st.info(f"The plain text box is shown: {md(missing)}.")
with st.expander(
    f"Diagnostics: {errors} error(s), {warnings} warning(s)"
    + ("" if plain else " — marked in the editor and listed under it"),
    expanded=plain and bool(analysis.diagnostics),
):
    if not analysis.diagnostics:
        st.success("No diagnostics: the version checks clean.")
    for d in analysis.diagnostics:
        show = st.error if d.severity == "error" else st.warning
        hint = f"  \nhint: {md(d.hint)}" if d.hint else ""
        other = analysis.elsewhere(d)  # a base version's: its line is in that file
        where = f"{md(other)} line" if other else "line"
        show(f"**{d.code}** {where} {d.line}, column {d.column}: {md(d.message)}{hint}")


def _ledger() -> None:
    """The city's fidelity ledger checked (against the saved versions), beside the
    diagnostics: ok with its counts, or each of its diagnostics at its line."""
    try:
        found = workspace.ledger(root, city)
    except PolicyError as exc:
        st.error(md(exc))
        return
    if found is None:
        return
    name = shown_path(found)
    problems = len(found.diagnostics)
    status = f"{found.errors} error(s), {problems - found.errors} warning(s)" if problems else "ok"
    with st.expander(f"Ledger {name}: {status}"):  # closed: the text edited stays in view
        st.caption(
            f"条文对照表 — {md(found.tally())}. Checked against the saved versions of "
            f"{md(city)}: save to check it against the text edited here."
        )
        if not problems:
            st.success(f"{md(name)} checks clean.")
        for d in found.diagnostics:
            show = st.error if d.severity == "error" else st.warning
            hint = f"  \nhint: {md(d.hint)}" if d.hint else ""
            show(f"**{d.code}** {md(name)} line {d.line}, column {d.column}: {md(d.message)}{hint}")


_ledger()


def _buttons(area: DeltaGenerator) -> None:
    """Format, Save version (with its confirmation), Save as draft, and the plain-box switch."""
    buttons = area.columns([1, 1, 1, 2])
    buttons[0].button(
        "Format", key="editor_format", on_click=editing.format_buffer, args=(st.session_state,)
    )
    for unsafe in (d for d in analysis.diagnostics if d.code == buffer.UNSAFE_VERSION):
        area.error(
            f"**{unsafe.code}** line {unsafe.line}, column {unsafe.column}: "
            f"{md(unsafe.message)}  \nhint: {md(unsafe.hint)}",
            icon=":material/block:",
        )
    warning = None
    if analysis.ok and analysis.version:
        try:
            warning = workspace.overwrite_warning(root, city, analysis.version, opened)
        except workspace.UnsafeName as exc:
            area.error(md(exc))
    if warning:
        area.warning(md(warning))
        area.checkbox(
            f"Yes, overwrite version {md(analysis.version)}",
            key=CONFIRM,
            persist_state="session",
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
    buttons[3].toggle(
        "Plain text box",
        key=EDITOR_PLAIN,
        persist_state="session",
        disabled=missing is not None,
        on_change=editing.new_revision,
        args=(st.session_state,),
        help="Edit in a plain box instead (no colours; diagnostics update when you leave the "
        "box or press Ctrl+Enter), e.g. where the browser or a proxy blocks the editor.",
    )


if plain:
    left, right = st.columns(2)
    with left:
        st.text_area(
            "Policy text (diagnostics update when you leave the box or press Ctrl+Enter)",
            key=EDITOR_TEXT,
            persist_state="session",
            height=620,
        )
        _buttons(left)
    with right:
        st.markdown("**Marked listing**")
        st.html(highlight.listing_html(text, analysis.own_diagnostics()))
else:
    policy_editor.policy_editor(
        text,
        editing.revision(st.session_state),
        analysis.own_diagnostics(),
        policy_editor.notes(analysis.passages(), analysis.document_title),
        key=EDITOR_COMPONENT,
    )
    _buttons(st.container())
