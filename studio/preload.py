"""The modules the studio's pages import, imported once under a lock before a page runs (预加载).

Streamlit runs each session's script in a thread of its own. Two threads importing one package
by different paths at once (the What-if page `engine.whatif.exposure`, which imports the package
and so `engine.whatif.report`, while another run imports `engine.whatif.report` itself) can make
Python hand one of them a module still being initialised: the page then fails with `cannot
import name 'Report' from partially initialized module`. Importing everything the pages import
here, one thread at a time, leaves the pages' own imports nothing to do but look them up.
"""

from __future__ import annotations

import ast
import importlib
import threading
from functools import cache
from pathlib import Path

PAGES = Path(__file__).parent / "pages"
_LOCK = threading.Lock()


@cache
def page_modules() -> tuple[str, ...]:
    """Every module a page imports (`from studio import cache` counts `studio.cache`), sorted."""
    names: set[str] = set()
    for page in sorted(PAGES.glob("*.py")):
        for node in ast.walk(ast.parse(page.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                if node.module == "studio":
                    names.update(f"studio.{alias.name}" for alias in node.names)
    names.discard("__future__")
    return tuple(sorted(names))


def preload() -> None:
    """Import every module of `page_modules`, one thread at a time (a no-op once done)."""
    with _LOCK:
        for name in page_modules():
            importlib.import_module(name)
