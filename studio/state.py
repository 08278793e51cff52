"""Session-state keys the pages share (the editor's buffer is read by Versions, What-if and
Explain)."""

EDITOR_CITY = "editor_city"
EDITOR_CHOICE = "editor_choice"
EDITOR_TEXT = "editor_text"
EDITOR_OPENED = "editor_opened"  # path of the version file loaded into the buffer, or ""
EDITOR_LOADED = "editor_loaded"  # (city, choice) whose text is in the buffer
EDITOR_FLASH = "editor_flash"  # (kind, message) shown once after a button's action
CONFIRM = "editor_confirm"
#: Bumped whenever the page replaces the buffer's text itself (a version loaded, the text
#: formatted): the editor component takes a new revision's text, and a value it sent for an
#: older revision is dropped.
EDITOR_REVISION = "editor_revision"
EDITOR_COMPONENT = "editor_component"  # the editor component's value: {"text", "revision"}
EDITOR_PLAIN = "editor_plain"  # the plain text box instead of the component
NEW_CITY_NAME = "new_city_name"  # ＋ new city: the name typed
NEW_CITY_METHOD = "new_city_method"  # ＋ new city: points or rate

#: Copies of the editor's widgets that outlive a page change (Streamlit forgets the state of a
#: widget that a run does not draw, so the other pages read these).
KEPT = {
    EDITOR_CITY: "buffer_city",
    EDITOR_CHOICE: "buffer_choice",
    EDITOR_TEXT: "buffer_text",
}
BUFFER_CITY = KEPT[EDITOR_CITY]
BUFFER_TEXT = KEPT[EDITOR_TEXT]
