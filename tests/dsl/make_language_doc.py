"""Build the language reference, `docs/language.md` and `docs/language.zh-CN.md`.

    .venv/bin/python -m tests.dsl.make_language_doc     # rewrite both

The prose is `tests/dsl/language_doc/en.md` and `zh.md`; every list is generated from the code
and described in `tests/dsl/language_doc/` (see its docstring). `test_language_doc.py` fails
when the committed files differ from what this builds, or when the language has a term they do
not describe.
"""

from __future__ import annotations

from tests.dsl.language_doc import write

if __name__ == "__main__":
    write()
