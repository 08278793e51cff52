"""The library of policy modules (库模块): declarations written once in the policy language — the
standard run-monitoring indicators (`indicators`) — that a policy takes in with a header clause
`include "<name>"`.

A module is a file `policy_dsl/library/<name>.policy` that starts `library <name> version "…"`
and holds declarations only (no dates, payment method, stages or base version). It ships with
the package, as the grammar does: a module is named, never a path, so a policy cannot make the
checker read a file of its choosing. Its declarations come before the policy's own (and before
those of every version it `extends`): a policy may `override` any of them and add its own.
"""

from __future__ import annotations

from pathlib import Path

from policy_dsl.loader import SUFFIX

FOLDER = Path(__file__).resolve().parent / "library"


def module_path(name: str) -> Path | None:
    """The file of module `name`, or None when the library has no such module (a name that is
    not a plain word — `../x`, `a/b` — is never one)."""
    if not name.isidentifier():
        return None
    path = FOLDER / f"{name}{SUFFIX}"
    return path if path.is_file() else None


def module_names() -> list[str]:
    """Every module of the library, by name."""
    return sorted(p.stem for p in FOLDER.glob(f"*{SUFFIX}"))
