"""No user text becomes an element in the browser (Chromium through Playwright): with markup
planted in a policy's labels and sources, a version name, hospital and case ids and a rejected
value (`tests.studio.planted`), the Editor (its component draws the text, the diagnostics'
messages, the gutter's titles and the tooltip), Versions (the text diff's headings), What-if
and Explain are gone through; no planted image is requested, no `onerror` runs an alert, and
each planted text is on the page as written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio import buffer
from tests.studio import planted
from tests.studio.browser import (
    ARGS,
    CHROMIUM,
    choose,
    editor_frame,
    editor_text,
    go_to,
    idle,
    require_browser,
    studio_server,
    studio_tab,
)

#: Any element a planted text made, in a document (the page or the editor's frame).
MADE = f"""() => Array.from(document.querySelectorAll('img, script, a, iframe, svg image'))
    .filter(e => (e.outerHTML || '').includes('{planted.MARKER}') || /alert\\(/.test(e.outerHTML))
    .map(e => e.outerHTML)"""


def nothing_made(page: Any, frame: Any = None) -> None:
    assert page.evaluate(MADE) == []
    if frame is not None:
        assert frame.locator("body").evaluate(f"b => ({MADE})()") == []


def shown(page: Any, text: str) -> None:
    """`text` is on the page, as written (perhaps in a closed expander)."""
    page.get_by_text(text.strip()).first.wait_for(state="attached", timeout=60_000)


def editor(page: Any) -> None:
    """A saved version named by planted markup: its E140 message quotes the name; the text's
    labels and sources hold markup too."""
    go_to(page, "Editor")
    page.get_by_role("combobox", name="City", exact=True).first.wait_for(timeout=60_000)
    choose(page, "City", planted.CITY)
    page.get_by_text(f"{planted.CITY} / 2024").first.wait_for(timeout=60_000)  # its versions
    choose(page, "Version", planted.VERSION)
    frame = editor_frame(page)
    text = editor_text(page, frame, planted.VERSION)
    assert planted.LABEL in text
    problems = frame.locator("#problems")
    problems.get_by_text(buffer.UNSAFE_VERSION).first.wait_for(timeout=60_000)
    assert planted.VERSION in problems.inner_text()  # the message, as text
    gutter = frame.locator(".numbers .g.error").first
    assert planted.VERSION in (gutter.get_attribute("title") or "")
    where = frame.locator(".colours .mk.error").first.bounding_box()  # the tooltip
    page.mouse.move(where["x"] + where["width"] / 2, where["y"] + where["height"] / 2)
    frame.locator("#tooltip").wait_for(state="visible", timeout=10_000)
    assert planted.VERSION in frame.locator("#tooltip").inner_text()
    assert planted.LABEL.strip() in frame.locator("#colours").inner_text()
    page.mouse.move(5, 5)
    nothing_made(page, frame)
    shown(page, f"version name `{planted.VERSION}` contains a slash")  # listed by the buttons


def versions(page: Any) -> None:
    go_to(page, "Versions")
    choose(page, "City", planted.CITY)
    choose(page, "Old", "2024")
    choose(page, "New", planted.VERSION)
    page.get_by_role("tab", name="Text diff").click()
    idle(page)
    heading = page.locator(".drg-diff th.diff_header").filter(has_text="drgpwn-v").first
    assert heading.inner_text().strip() == f"new · {planted.VERSION}"
    page.get_by_role("tab", name="Semantic diff").click()
    idle(page)
    expander = page.locator('[data-testid="stExpander"] summary')
    expander.filter(has_text="parameter planted_share").first.click()
    shown(page, planted.SOURCE)
    nothing_made(page)


def whatif(page: Any) -> None:
    go_to(page, "What-if")
    choose(page, "City", planted.CITY)
    choose(page, "Base version", "2023")
    choose(page, "New version", "2024")
    page.get_by_role("button", name="Run what-if").click()
    idle(page)
    page.get_by_text("cases moved").wait_for(timeout=180_000)
    page.get_by_text("Rejected rows: file, row, reason").click()
    table = page.locator('[data-testid="stTable"]').filter(has_text="reason").first
    table.wait_for()
    assert planted.REJECTED in table.inner_text()
    page.get_by_text("Parameters of 2024").click()
    shown(page, planted.LABEL)
    nothing_made(page)


def explain(page: Any) -> None:
    go_to(page, "Explain")
    choose(page, "City", planted.CITY)
    choose(page, "Version", "2024")
    page.get_by_role("textbox", name="Case id").fill(planted.CASE)
    page.get_by_role("button", name="Explain").click()
    idle(page)
    shown(page, f"Case {planted.CASE} under xuancheng 2024")
    shown(page, planted.HOSPITAL)
    page.get_by_text("every step, in order").click()  # each step, its label in its heading
    idle(page)
    shown(page, planted.LABEL)
    nothing_made(page)


def test_planted_markup_stays_text_in_the_browser(tmp_path: Path) -> None:
    require_browser()
    from playwright.sync_api import sync_playwright

    policies = planted.plant_policies(tmp_path / "policies")
    data = planted.plant_data(tmp_path / "data")
    requested: list[str] = []
    alerts: list[str] = []
    with (
        studio_server(policies, data, tmp_path / "cache") as url,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = studio_tab(browser)
        page.on("request", lambda r: requested.append(r.url) if planted.MARKER in r.url else None)
        page.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))
        page.goto(url)
        nav = page.locator('[data-testid="stSidebarNav"] a').filter(has_text="What-if")
        nav.first.wait_for(timeout=60_000)  # the studio's own pages, the app has run
        idle(page)
        for step in (editor, versions, whatif, explain):
            step(page)
            assert (requested, alerts) == ([], []), step.__name__
        browser.close()
