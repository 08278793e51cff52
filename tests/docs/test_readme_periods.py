"""README's Settling names every form of `--period` that `settle --help` names (the quarter,
`2024-Q2`, settles, and `--help` says so; README said a year or a month)."""

from __future__ import annotations

import re

from engine.cli import build_parser
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_names_every_period_settle_help_names() -> None:
    settle = build_parser()._subparsers._group_actions[0].choices["settle"]  # type: ignore[union-attr]
    (period,) = [a for a in settle._actions if a.dest == "period"]
    forms = re.findall(r"\d{4}(?:-Q\d|-\d\d)?", period.help or "")
    assert {"2024", "2024-Q2", "2024-03"} <= set(forms)
    start = README.index("\n## Settling")
    sentence = README[README.index("`--period` is", start) :].split(". ")[0]
    for form in forms:
        assert f"`{form}`" in sentence, (form, sentence)
