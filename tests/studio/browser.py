"""Driving the studio in a real browser (Playwright with the system Chromium): start the server
on a free localhost port, and small helpers for Streamlit's widgets."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]


def require_browser() -> None:
    """Skip where Chromium or Playwright is missing, unless in CI (DRGPOLICY_CI=1): fail."""
    missing = []
    if not CHROMIUM.is_file():
        missing.append(f"{CHROMIUM} not found (apt-get install -y chromium)")
    try:
        import playwright  # noqa: F401
    except ModuleNotFoundError:
        missing.append("the playwright package is not installed (pip install -e '.[dev]')")
    if missing:
        reason = "; ".join(missing)
        if os.environ.get("DRGPOLICY_CI") == "1":
            pytest.fail(f"browser test cannot run in CI: {reason}")
        pytest.skip(reason)


@contextmanager
def offline_page(path: Path, requests: list[str]) -> Iterator[Any]:
    """A Chromium page (1200 × 900) open on the file `path`; every URL it requests is put in
    `requests` (a self-contained page requests none but its own file)."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            page.goto(path.as_uri())
            yield page
        finally:
            browser.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def studio_server(policies: Path, data: Path, cache: Path) -> Iterator[str]:
    """`drgpolicy studio` on a free localhost port; yields its URL, stops it afterwards."""
    port = free_port()
    env = {**os.environ, "DRGPOLICY_STUDIO_CACHE": str(cache)}
    argv = [sys.executable, "-m", "engine.cli", "studio", "--port", str(port)]
    argv += ["--policies", str(policies), "--data", str(data)]
    log = (cache.parent / "studio-server.log").open("w")
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the studio did not start: see {log.name}")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def studio_tab(browser: Any) -> Any:
    """A new 1440 × 1000 page whose every wait lasts up to two minutes, not Playwright's 30 s: a
    run the studio starts (the examples, a what-if) takes that long on a machine shared with
    other jobs."""
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.set_default_timeout(120_000)
    return page


@contextmanager
def studio_page(policies: Path, data: Path, cache: Path) -> Iterator[Any]:
    """A Chromium page (1440 × 1000) open on a studio serving `policies` and `data`."""
    from playwright.sync_api import sync_playwright

    with studio_server(policies, data, cache) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = studio_tab(browser)
        page.goto(url)
        try:
            yield page
        except Exception as error:
            raise AssertionError(f"{error}\n{what_was_shown(page, cache)}") from error
        finally:
            browser.close()


def what_was_shown(page: Any, cache: Path) -> str:
    """The page's URL and text and the server log's last lines: what a failed step saw."""
    try:
        text = str(page.locator("body").inner_text(timeout=5_000))
    except Exception as error:  # the page itself is gone: say so, keep the log
        text = f"(the page could not be read: {error})"
    log = cache.parent / "studio-server.log"
    tail = log.read_text(errors="replace").splitlines()[-40:] if log.is_file() else []
    return (
        f"--- the page ({page.url}) ---\n{text[:4000]}\n"
        f"--- {log.name}, last lines ---\n" + "\n".join(tail)
    )


#: The app's script is not running (`stApp`'s `data-test-script-state`, set as soon as the server
#: says a run started) and no status is shown (the connection's, or the running icon).
SETTLED = (
    "() => document.querySelector('[data-testid=\"stApp\"]')?.dataset.testScriptState"
    " === 'notRunning' && !document.querySelector('[data-testid=\"stStatusWidget\"]')"
)


def idle(page: Any, timeout: float = 120_000) -> None:
    """Wait until the app has finished its rerun. The running icon alone does not tell: it is
    drawn only after half a second of a run, so a run younger than that passed for idle. A rerun
    the server has not started yet (a loaded machine) still passes for idle: a step that reads
    what a rerun draws waits for it (a text of the new run), not for `idle` alone."""
    page.wait_for_timeout(300)
    page.wait_for_function(SETTLED, timeout=timeout)
    page.wait_for_timeout(200)


def choose(page: Any, label: str, option: str, attempts: int = 5) -> None:
    """Pick `option` in the select box labelled `label`. A rerun that ends after `idle` saw the
    page quiet (a slow page: the Versions page checks every version of the city) redraws the
    box and closes its list as it opens: the box is then clicked again."""
    from playwright.sync_api import TimeoutError as Timeout

    box = page.get_by_role("combobox", name=label, exact=True).first
    wanted = page.get_by_role("option", name=option, exact=True).first
    box.wait_for(timeout=240_000)  # a page's first run on a loaded machine: minutes, not seconds
    for attempt in range(attempts):
        box.click()
        try:
            wanted.wait_for(timeout=5_000)
            break
        except Timeout:
            if attempt == attempts - 1:
                raise
            idle(page)
    wanted.click()
    idle(page)


def upload(page: Any, files: list[Path]) -> None:
    """Put `files` in the page's file uploader, as a drop of several files would."""
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        [str(f) for f in files]
    )
    idle(page)
    for file in files:
        page.get_by_text(file.name, exact=True).first.wait_for()


def table_rows(table: Any) -> list[dict[str, str]]:
    """The rows of an `st.table` (a `[data-testid="stTable"]` element) as header → text."""
    headers, *body = table.locator("table").first.evaluate(
        "t => Array.from(t.rows).map(r => Array.from(r.cells).map(c => c.innerText.trim()))"
    )
    return [dict(zip(headers, row, strict=True)) for row in body]


def go_to(page: Any, title: str, attempts: int = 3) -> None:
    """Open the page `title` from the sidebar and wait until the browser is on it: a click that
    lands while the first page is still starting can be lost, and is then made again."""
    from playwright.sync_api import TimeoutError as Timeout

    link = page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title).first
    href = str(link.get_attribute("href", timeout=120_000))
    for attempt in range(attempts):
        link.click()
        try:
            page.wait_for_url(href, timeout=60_000)
            break
        except Timeout:
            if attempt == attempts - 1:
                raise
    idle(page)


# ---- the policy editor component --------------------------------------------------------------

EDITOR_FRAME = 'iframe[title="studio.policy_editor.policy_editor"]'


def editor_frame(page: Any) -> Any:
    """The policy editor component's frame (a FrameLocator), once its script has rendered."""
    page.wait_for_selector(EDITOR_FRAME, state="attached", timeout=60_000)
    frame = page.frame_locator(EDITOR_FRAME)
    frame.locator('#editor[data-ready="true"]').wait_for(timeout=60_000)
    return frame


def editor_text(page: Any, frame: Any, containing: str, timeout: float = 30_000) -> str:
    """The editor's text, once it contains `containing` (a version just loaded)."""
    box = frame.locator("#text")
    deadline = time.monotonic() + timeout / 1000
    while True:
        value = str(box.input_value())
        if containing in value or time.monotonic() > deadline:
            assert containing in value, f"the editor never showed {containing!r}"
            return value
        page.wait_for_timeout(100)


def select(frame: Any, start: int, end: int) -> None:
    """Put the caret (or a selection) in the editor's text, by character offsets (BMP text)."""
    frame.locator("#text").evaluate(
        "(t, [start, end]) => { t.focus(); t.setSelectionRange(start, end); }", [start, end]
    )


def sent(frame: Any) -> int:
    """How many values the editor has sent to Streamlit."""
    return int(frame.locator("#editor").get_attribute("data-sent") or 0)


def checked(page: Any, frame: Any, timeout: float = 60_000) -> None:
    """Wait until the diagnostics shown are those of the text in the editor (sent and back)."""
    frame.locator('#editor[data-checked="true"]').wait_for(timeout=timeout)
    idle(page)
