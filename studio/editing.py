"""The Editor page's actions on the session state (load, format, save, save as draft, take the
text the editor component sent), written against a plain mapping so that they are tested
without a browser.

Each action leaves a one-off message in `state[EDITOR_FLASH]` as (kind, text), kind being
`success`, `warning` or `error`. Each first takes the component's latest text (`take_sent`):
Streamlit runs widget callbacks in no set order, and a button pressed right after typing must
act on what was typed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

from engine.new_city import create_city
from policy_dsl.diagnostics import PolicyErrors
from policy_dsl.errors import PolicyError
from studio import buffer, workspace
from studio.state import (
    CONFIRM,
    EDITOR_CHOICE,
    EDITOR_CITY,
    EDITOR_COMPONENT,
    EDITOR_FLASH,
    EDITOR_LOADED,
    EDITOR_OPENED,
    EDITOR_REVISION,
    EDITOR_TEXT,
    KEPT,
    NEW_CITY_METHOD,
    NEW_CITY_NAME,
)

NEW = "＋ new version"
DRAFT = "draft: "

State = MutableMapping[Any, Any]  # st.session_state, or a dict in tests


def choices(root: Path, city: str) -> list[str]:
    """What the version picker offers: saved versions (newest first), drafts, a new version."""
    saved = sorted((v.version for v in workspace.version_files(root, city)), reverse=True)
    return [*saved, *(DRAFT + d for d in workspace.drafts(root, city)), NEW]


def load_choice(state: State, root: Path, today: dt.date | None = None) -> None:
    """Put the chosen version, draft or new-version template into the buffer."""
    city, choice = state[EDITOR_CITY], state[EDITOR_CHOICE]
    if choice == NEW:
        files = [v.file for v in workspace.version_files(root, city) if v.file is not None]
        taken = {v.version for v in workspace.version_files(root, city)}
        if files:
            base = buffer.base_in_force(files, today or dt.date.today())
            _, text = buffer.new_version_text(base, taken)
        else:
            text = f'policy {city} version "1"\n  effective {dt.date.today()}\n  method points\n'
        opened = ""
    elif choice.startswith(DRAFT):
        text = workspace.read_draft(root, city, choice.removeprefix(DRAFT))
        opened = ""
    else:
        path = workspace.saved_path(root, city, choice)
        text, opened = path.read_text(encoding="utf-8"), str(path)
    replace_text(state, text)
    state[EDITOR_OPENED] = opened
    state[EDITOR_LOADED] = (city, choice)
    state[CONFIRM] = False


# ---- the buffer and the editor component ------------------------------------------------------


def revision(state: State) -> int:
    return int(state.get(EDITOR_REVISION, 0))


def replace_text(state: State, text: str) -> None:
    """Put `text` in the buffer as a new revision: the component shows it in place of its own."""
    state[EDITOR_TEXT] = text
    state[EDITOR_REVISION] = revision(state) + 1


def new_revision(state: State) -> None:
    """Drop whatever the component sent before now (its text is then sent again with the new
    revision): used when switching between the component and the plain text box."""
    state[EDITOR_REVISION] = revision(state) + 1


def receive(state: State, value: object) -> bool:
    """Take the text the editor component sent (`{"text": …, "revision": …}`) into the buffer.

    Dropped (False) when it is not such a value, when it was sent for another revision of the
    buffer (typed before a version was loaded or the text formatted), or when it is the text
    already there."""
    if not isinstance(value, Mapping):
        return False
    text, sent_for = value.get("text"), value.get("revision")
    if not isinstance(text, str) or isinstance(sent_for, bool) or not isinstance(sent_for, int):
        return False
    if sent_for != revision(state) or text == state.get(EDITOR_TEXT):
        return False
    state[EDITOR_TEXT] = text
    return True


def take_sent(state: State) -> bool:
    """Take the component's latest value (its `on_change`, and the first step of each action)."""
    return receive(state, state.get(EDITOR_COMPONENT))


def restore(state: State) -> None:
    """Give the editor's widgets back their values after a visit to another page."""
    for widget, kept in KEPT.items():
        if widget not in state and kept in state:
            state[widget] = state[kept]


def keep(state: State) -> None:
    """Copy the editor's widgets where other pages (and a later visit) find them."""
    for widget, kept in KEPT.items():
        if widget in state:
            state[kept] = state[widget]


def needs_loading(state: State) -> bool:
    return state.get(EDITOR_LOADED) != (state.get(EDITOR_CITY), state.get(EDITOR_CHOICE))


def format_buffer(state: State) -> None:
    take_sent(state)
    try:
        formatted = buffer.format_text(state[EDITOR_TEXT])
    except PolicyErrors as exc:
        first = exc.diagnostics[0]
        state[EDITOR_FLASH] = (
            "error",
            f"Cannot format: line {first.line}: {first.code} {first.message}",
        )
        return
    changed = formatted != state[EDITOR_TEXT]
    if changed:
        replace_text(state, formatted)
    state[EDITOR_FLASH] = ("success", "Formatted." if changed else "Already in canonical layout.")


def opened_path(state: State) -> Path | None:
    opened = state.get(EDITOR_OPENED) or ""
    return Path(opened) if opened else None


def save(state: State, root: Path) -> None:
    """Save the buffer as its header's version, if it checks clean (and, where it replaces a
    version another extends, only with the confirmation ticked)."""
    take_sent(state)
    city, text = state[EDITOR_CITY], state[EDITOR_TEXT]
    analysis = buffer.analyse(text, root, city)
    version = analysis.version or buffer.header_version(text) or ""
    try:
        path = workspace.save_version(
            root,
            city,
            version,
            text,
            clean=analysis.ok,
            opened=opened_path(state),
            confirm=bool(state.get(CONFIRM)),
        )
    except PolicyError as exc:
        state[EDITOR_FLASH] = ("error", f"Not saved: {exc}")
        return
    state[EDITOR_OPENED] = str(path)
    state[EDITOR_CHOICE] = version
    state[EDITOR_LOADED] = (city, version)
    state[CONFIRM] = False
    state[EDITOR_FLASH] = ("success", f"Saved {path.parent.name}/{path.name}.")


def save_draft(state: State, root: Path) -> None:
    """Save the buffer as a draft (no check), kept apart from the city's versions."""
    take_sent(state)
    city, text = state[EDITOR_CITY], state[EDITOR_TEXT]
    choice = str(state.get(EDITOR_CHOICE, ""))
    fallback = choice.removeprefix(DRAFT) if choice not in ("", NEW) else "draft"
    version = buffer.header_version(text) or fallback
    try:
        path = workspace.save_draft(root, city, version, text)
    except PolicyError as exc:
        state[EDITOR_FLASH] = ("error", f"Draft not saved: {exc}")
        return
    state[EDITOR_CHOICE] = DRAFT + version
    state[EDITOR_LOADED] = (city, DRAFT + version)
    state[EDITOR_OPENED] = ""
    state[EDITOR_FLASH] = (
        "success",
        f"Draft saved as {path.relative_to(root)} (never read as a version).",
    )


def new_city(state: State, root: Path) -> None:
    """＋ new city: make the city folder as `drgpolicy init` does (a starting policy for the
    payment method chosen, this year, an example, a sources folder) and open its version."""
    name = str(state.get(NEW_CITY_NAME, "")).strip()
    try:
        made = create_city(root, name, str(state.get(NEW_CITY_METHOD, "points")))
    except PolicyError as exc:
        state[EDITOR_FLASH] = ("error", f"No new city: {exc}")
        return
    state[EDITOR_CITY] = name
    state[EDITOR_CHOICE] = made.policy.removesuffix(".policy")
    state[EDITOR_FLASH] = (
        "success",
        f"Made {name}/: {', '.join(made.files)}. The policy checks and settles as it is; "
        "rewrite it from the city's document.",
    )


__all__ = [
    "DRAFT",
    "NEW",
    "choices",
    "format_buffer",
    "keep",
    "load_choice",
    "needs_loading",
    "new_city",
    "new_revision",
    "opened_path",
    "receive",
    "replace_text",
    "restore",
    "revision",
    "save",
    "save_draft",
    "take_sent",
]
