"""Build the table of the standard indicators in README.md from the library itself
(`policy_dsl/library/indicators.policy`): name, Chinese name, formula, grains, unit and what the
definition rests on.

    .venv/bin/python -m tests.dsl.make_indicator_table     # rewrite the table in README.md

`test_indicator_table.py` fails when the README's table differs from what this builds.
"""

from __future__ import annotations

from pathlib import Path

from policy_dsl import ast as a
from policy_dsl.library import module_path
from policy_dsl.loader import read_policy_file
from policy_dsl.lower_indicators import DEFAULT_UNITS
from policy_dsl.unparse import expr_text

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
START, END = "<!-- indicators:start -->", "<!-- indicators:end -->"


def render_table() -> str:
    tree = read_policy_file(module_path("indicators") or "").tree
    rows = ["| indicator | 中文名 | formula | for | unit | rests on |", "|---|---|---|---|---|---|"]
    for decl in tree.items:
        if isinstance(decl, a.Indicator):
            formula = expr_text(decl.expr) + (
                f" — listed when {expr_text(decl.listing)}" if decl.listing else ""
            )
            unit = decl.unit or DEFAULT_UNITS.get(decl.type, decl.type)
            cells = [
                f"`{decl.name}`",
                decl.label,
                f"`{formula}`",
                ", ".join(decl.grains),
                unit,
                _rests_on(decl.citations),
            ]
            rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"


def _rests_on(citations: tuple[a.Citation, ...]) -> str:
    parts = [
        f"{c.document} “{c.article}”" if isinstance(c, a.Source) else f"assumption: {c.reason}"
        for c in citations
    ]
    return "; ".join(parts)


def with_table(readme: str) -> str:
    before, _, rest = readme.partition(START)
    _, _, after = rest.partition(END)
    return f"{before}{START}\n{render_table()}{END}{after}"


if __name__ == "__main__":
    README.write_text(with_table(README.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote the indicator table of {README}")
