"""The what-if report is written to disk and opened by people: no text a user controls becomes
an element in `report.html` or, rendered by a Markdown viewer, in `summary.md`. Markup is planted
in the policy's labels and sources, in hospital ids (`tests.studio.planted`), in the data's name,
and — past the checker, which keeps names plain — in the city and version names of the compiled
versions; the two files are parsed by independent parsers (Python's HTML parser; markdown-it
with raw HTML on), which must find no image, script, link or event handler, and each planted
text as written."""

from __future__ import annotations

import dataclasses
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from engine.inputs.rundata import Period
from engine.run.settle import load_data, load_policy
from engine.whatif import Runs
from engine.whatif.attribution import Attribution, attribute
from engine.whatif.exposure import declared_types, exposure
from engine.whatif.report import Report
from engine.whatif.report_html import render_html
from engine.whatif.report_md import render_markdown
from engine.whatif.runs import Outcome
from policy_dsl.loader import read_policy_file, resolve
from tests.studio import planted
from tests.studio.test_escaping import problems

CITY = f"<img src=/{planted.MARKER}-c.png onerror=alert(8)>"
DATA = f"{planted.SCRIPT} uploads"


class Text(HTMLParser):
    """The text of an HTML document, outside <style> and <title>."""

    def __init__(self, document: str) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.feed(document)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.skip += tag in ("style", "title")

    def handle_endtag(self, tag: str) -> None:
        self.skip -= tag in ("style", "title")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.parts).split())


def renamed(attribution: Attribution) -> Attribution:
    """The attribution with planted city and version names in both compiled versions."""
    impact = attribution.impact

    def named(outcome: Outcome, version: str) -> Outcome:
        policy = outcome.policy.model_copy(update={"city": CITY, "version": version})
        settlement = dataclasses.replace(outcome.settlement, policy=policy)
        return dataclasses.replace(outcome, settlement=settlement)

    impact = dataclasses.replace(
        impact, base=named(impact.base, "2023"), new=named(impact.new, planted.VERSION)
    )
    return dataclasses.replace(attribution, impact=impact)


@pytest.fixture(scope="module")
def planted_report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    folder = tmp_path_factory.mktemp("planted")
    policies = planted.plant_policies(folder / "policies")
    data = planted.plant_data(folder / "data")
    city = policies / planted.CITY
    old, new = (resolve(read_policy_file(city / f"{v}.policy")) for v in ("2023", "2024"))
    new_ir = load_policy(city / "2024.policy")
    runs = Runs(load_data(data, new_ir), Period.parse("2024"))
    exposed = exposure(runs, new_ir, None, declared_types(new))
    return Report(DATA, "2024", renamed(attribute(runs, old, new)), exposed, None)


def test_report_html_shows_planted_markup_as_text(planted_report: Report) -> None:
    html = render_html(planted_report)
    assert problems(html) == []
    text = Text(html).text
    for shown in (CITY, planted.VERSION, DATA, planted.HOSPITAL, planted.LABEL.strip()):
        assert shown in text, shown


def test_summary_md_shows_planted_markup_as_text(planted_report: Report) -> None:
    rendered = MarkdownIt("commonmark").enable("table").render(render_markdown(planted_report))
    assert problems(rendered) == []
    text = Text(rendered).text
    for shown in (CITY, planted.VERSION, DATA, planted.HOSPITAL, planted.LABEL.strip()):
        assert shown in text, shown
