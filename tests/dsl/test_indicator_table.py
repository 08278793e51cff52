"""README.md's table of the standard indicators is the library's (`make_indicator_table`)."""

from __future__ import annotations

from tests.dsl.make_indicator_table import END, README, START, render_table, with_table


def test_the_readme_lists_every_indicator_of_the_library_as_written() -> None:
    readme = README.read_text(encoding="utf-8")
    assert START in readme and END in readme
    assert readme == with_table(readme), (
        "README.md's indicator table is stale: run `.venv/bin/python -m "
        "tests.dsl.make_indicator_table`"
    )
    assert render_table().count("\n| `") >= 40
