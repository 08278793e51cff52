"""`drgpolicy render`: the city's fidelity ledger (条文对照表) in policy.html — after the clauses,
each row with the document's words, its rules linked to their clauses on the page and how; a
ledger that does not check still shown, under its problems; no section without a ledger (or for
a version the ledger does not cover)."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from policy_dsl.check.ledger import read_ledger
from tests.cli.test_render import ARTIFACTS
from tests.conftest import POLICIES, SHARED_SOURCES, shared_sources
from tests.conftest import run_cli as run
from tests.studio.browser import offline_page

WUXI = POLICIES / "wuxi"
XUANCHENG = POLICIES / "xuancheng"
ROW_18 = "未达到70%的，直接按实际发生的全年住院医疗费用总额作为年度实际支付总额"


class Page(HTMLParser):
    """The ids of a page, and for the ledger's rows (`tr[data-row]`) their cells' texts and the
    links of their rules (`a[data-rule]`: name → href)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.rows: dict[int, list[str]] = {}
        self.links: dict[int, list[tuple[str, str]]] = {}
        self._row: int | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if attr.get("id"):
            self.ids.add(str(attr["id"]))
        if tag == "tr" and attr.get("data-row"):
            self._row = int(str(attr["data-row"]))
            self.rows[self._row], self.links[self._row] = [], []
        elif tag == "td" and self._row is not None:
            self.rows[self._row].append("")
        elif tag == "a" and self._row is not None and attr.get("data-rule"):
            self.links[self._row].append((str(attr["data-rule"]), str(attr["href"])))

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._row is not None and self.rows[self._row]:
            self.rows[self._row][-1] += data


def render(capsys: pytest.CaptureFixture[str], policy: Path, out: Path) -> tuple[str, str, str]:
    """policy.html of `policy` (the documents' texts given where they are), stdout and stderr."""
    given = ["--sources", str(SHARED_SOURCES)] if SHARED_SOURCES.is_dir() else []
    code, stdout, err = run(capsys, "render", str(policy), "--out", str(out), "--no-pdf", *given)
    assert code == 0, err
    return (out / "policy.html").read_text(encoding="utf-8"), stdout, err


@pytest.fixture(scope="module")
def wuxi(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from engine.cli import main

    out = tmp_path_factory.mktemp("render") / "wuxi"
    given = ["--sources", str(SHARED_SOURCES)] if SHARED_SOURCES.is_dir() else []
    assert main(["render", str(WUXI / "2024.policy"), "--out", str(out), "--no-pdf", *given]) == 0
    return out / "policy.html"


def test_the_ledger_follows_the_clauses_row_by_row_with_its_rules_linked(wuxi: Path) -> None:
    html = wuxi.read_text(encoding="utf-8")
    page = Page(html)
    assert html.index("<h2>条款 Clauses</h2>") < html.index('<section id="ledger">')
    assert html.index('<section id="ledger">') < html.index("<h2>审核签字 Sign-off</h2>")
    assert "46 rows: 4 as written, 29 reading, 13 not encoded" in html
    ledger = read_ledger(WUXI / "fidelity.md")
    assert sorted(page.rows) == [row.number for row in ledger.rows] == list(range(1, 47))
    number, words, rules, how = page.rows[18]
    assert (number, words, how) == ("18", ROW_18, "照原文 as written")
    assert rules == "retain_full_below, year_end.year_actual_payment"
    assert page.links[18] == [
        ("retain_full_below", "#param:retain_full_below"),
        ("year_end.year_actual_payment", "#definition:year_end.year_actual_payment"),
    ]
    assert "param:retain_full_below" in page.ids
    assert "definition:year_end.year_actual_payment" in page.ids
    # every rule of every row is a link to a clause of the page (Wuxi's ledger covers 2024 only)
    for row in ledger.rows:
        linked = [name for name, _ in page.links[row.number]]
        assert linked == [name for name, _ in row.names], row.number
        assert all(href[1:] in page.ids for _, href in page.links[row.number]), row.number
    assert page.rows[1][2:] == [
        "—",
        "未编码 not encoded — a past milestone of the reform (the first 24 pilot hospitals); "
        "the file pays every hospital of the data, in the tier the hospitals table gives",
    ]


def test_a_clean_ledger_lists_no_problems(wuxi: Path) -> None:
    shared_sources()
    html = wuxi.read_text(encoding="utf-8")
    assert "sentences: 46 verified, 0 not found, 0 unverifiable" in html
    assert 'class="problems"' not in html


def test_the_ledger_links_lead_to_their_clauses_in_chromium(wuxi: Path) -> None:
    requests: list[str] = []
    with offline_page(wuxi, requests) as page:
        page.click('#ledger-18 a[data-rule="retain_full_below"]')
        assert page.evaluate("location.hash") == "#param:retain_full_below"
        target = page.locator('[id="param:retain_full_below"]')
        assert target.is_visible() and "retain_full_below" in target.inner_text()
        page.locator("#ledger").scroll_into_view_if_needed()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "policy-ledger.png"))
    assert [r for r in requests if not r.startswith("file://")] == []


def city(tmp_path: Path, folder: Path, *names: str) -> Path:
    """A copy of some files of a shipped city's folder."""
    copy = tmp_path / folder.name
    copy.mkdir(parents=True)
    for name in names:
        shutil.copy(folder / name, copy / name)
    return copy


def test_a_ledger_with_a_problem_is_still_shown_under_its_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = city(tmp_path, WUXI, "2024.policy", "fidelity.md")
    ledger = folder / "fidelity.md"
    text = ledger.read_text(encoding="utf-8")
    assert text.count("`retain_full_below`, `year_end.year_actual_payment` | as written") == 1
    ledger.write_text(
        text.replace("`retain_full_below`, `year_end", "`retain_full_belw`, `year_end")
    )
    html, out, err = render(capsys, folder / "2024.policy", tmp_path / "doc")
    line = text[: text.index(ROW_18)].count("\n") + 1
    problems = html[html.index('class="problems"') : html.index('<table class="ledger">')]
    counted = (
        "1 problem (1 error, 0 warnings)" if SHARED_SOURCES.is_dir() else "2 problems (1 error"
    )
    assert f"the ledger has {counted}" in problems  # without the texts, W710 too
    assert f"wuxi/fidelity.md:{line}:" in problems  # the same bytes wherever it is rendered from
    assert str(tmp_path) not in html
    assert "E715 row 18 names `retain_full_belw`, which no version it covers declares" in problems
    assert "`retain_full_below`" in problems  # the hint: did you mean
    assert f"note: {ledger} has " in err and "1 error(s)" in err
    assert "ledger: 46 rows" in out
    page = Page(html)
    assert page.rows[18][1] == ROW_18  # the rows are still there
    assert page.links[18] == [
        ("year_end.year_actual_payment", "#definition:year_end.year_actual_payment")
    ]  # the misspelt name is shown, not linked
    assert page.rows[18][2] == "retain_full_belw, year_end.year_actual_payment"


def test_no_section_without_a_ledger_or_for_a_version_it_does_not_cover(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = city(tmp_path / "a", XUANCHENG, "2023.policy", "2024.policy")
    html, out, _ = render(capsys, bare / "2024.policy", tmp_path / "doc-a")
    assert 'id="ledger"' not in html and "条文对照表" not in html and "ledger" not in out
    folder = city(tmp_path / "b", XUANCHENG, "2023.policy", "2024.policy", "fidelity.md")
    ledger = folder / "fidelity.md"
    text = ledger.read_text(encoding="utf-8")
    ledger.write_text(text.replace("Policy: `policies/xuancheng/2023.policy`\n", ""))
    html, out, _ = render(capsys, folder / "2023.policy", tmp_path / "doc-b")
    assert 'id="ledger"' not in html and "ledger" not in out
    html, out, _ = render(capsys, folder / "2024.policy", tmp_path / "doc-c")
    assert 'id="ledger"' in html and "ledger: 31 rows" in out
