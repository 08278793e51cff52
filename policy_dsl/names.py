"""Plain names (名称规则): a city or version name becomes part of a file or folder name —
`policies/<city>/<version>.policy`, `<out>/<city>-<version>/` — so it must stay one name.

The one rule, used by the checker (E140, E141), by the engine before it writes and by the studio
before it saves: letters (Chinese too), digits, `_`, `-` and `.`; not empty, not starting with
`.`, no `..`, no slash, no control character; at most `MAX_BYTES` bytes in UTF-8. The longest
name of the shipped policies has 4 characters (`2024`); 64 bytes takes a version such as
`2024年第二次调整征求意见稿` (40 bytes) and keeps every folder the engine makes beside an
output folder (`.<city>-<version>.<pid>.<random>.new.previous`) under the 255 bytes a file
system allows for one name.
"""

from __future__ import annotations

import re
import unicodedata

MAX_BYTES = 64

#: A letter or digit of any script (\w also takes `_`), `.` and `-`.
_ALLOWED = re.compile(r"[\w.\-]")
_DRIVE = re.compile(r"[A-Za-z]:[\\/]")


def name_problem(name: str, what: str = "version") -> str | None:
    """Why `name` is not a plain name (a sentence naming the `what`: version, city), or None."""
    shown = f"{what} name `{_printable(name)}`"
    if not name:
        return f"the {what} name is empty"
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return f"{shown} is an absolute path"
    if "/" in name or "\\" in name:
        return f"{shown} contains a slash: a {what} name cannot name a folder"
    if ".." in name:
        return f"{shown} contains `..`: a {what} name cannot leave its folder"
    if name.startswith("."):
        return f"{shown} starts with `.`: it would be a hidden file"
    odd = next((c for c in name if not _ALLOWED.fullmatch(c)), None)
    if odd is not None:
        return f"{shown} has characters a file name should not have: {_character(odd)}"
    size = len(name.encode("utf-8"))
    if size > MAX_BYTES:
        return (
            f"{shown} is {size} bytes long in UTF-8; at most {MAX_BYTES} "
            f"({MAX_BYTES} letters or digits, {MAX_BYTES // 3} Chinese characters)"
        )
    return None


#: What a plain name may hold, for hints.
RULE = (
    "letters (Chinese too), digits, `_`, `-` and `.`, not starting with `.`, "
    f"at most {MAX_BYTES} bytes"
)


def _character(char: str) -> str:
    if char.isprintable() and not char.isspace():
        return f"`{char}`"
    name = unicodedata.name(char, "a control character")
    return f"U+{ord(char):04X} ({name.lower()})"


def _printable(name: str) -> str:
    """The name as shown in a message: control characters escaped, long names cut."""
    shown = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in name)
    return shown if len(shown) <= 80 else shown[:77] + "…"


__all__ = ["MAX_BYTES", "RULE", "name_problem"]
