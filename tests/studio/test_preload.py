"""The studio's pages import their modules through `studio.preload` first: every module a page
imports is found, and threads that start a page at once each see them whole."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from studio.preload import page_modules
from tests.conftest import ROOT


def test_the_pages_modules_are_listed() -> None:
    found = page_modules()
    for name in ("engine.whatif.report", "engine.whatif.exposure", "studio.cache", "polars"):
        assert name in found
    assert "studio" in found and "__future__" not in found


def test_threads_starting_pages_at_once_each_see_whole_modules() -> None:
    # a fresh interpreter, nothing imported yet: eight threads start pages at once, each taking
    # what-if's modules in its own order (without `preload` first, most runs of this script end
    # with "cannot import name 'Report' from partially initialized module" or a deadlock error)
    script = textwrap.dedent(
        """
        import importlib
        import threading
        from studio.preload import preload

        ORDERS = [
            ["engine.whatif.exposure", "engine.whatif.report"],
            ["engine.whatif.report", "engine.whatif.exposure"],
            ["engine.whatif.report_html", "engine.whatif.sweep"],
            ["engine.whatif.trace_diff", "engine.whatif.report"],
        ]
        errors = []

        def start_page(order):
            try:
                preload()
                for name in order:
                    importlib.import_module(name)
                from engine.whatif.report import Report
                from engine.whatif.report_html import render_html
            except Exception as error:
                errors.append(repr(error))

        threads = [threading.Thread(target=start_page, args=(o,)) for o in ORDERS * 2]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(errors)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
