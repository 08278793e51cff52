"""A page printed to PDF by headless Chromium (`--print-to-pdf`), where Chromium is installed:
`DRGPOLICY_CHROMIUM`, else `chromium`, `chromium-browser` or `google-chrome` on the PATH, else
/usr/bin/chromium. Without one, no PDF is written and the command says so (the HTML page prints
from any browser). The PDF is not byte-reproducible: Chromium stamps the time it was made."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

NAMES = ("chromium", "chromium-browser", "google-chrome")
FALLBACK = Path("/usr/bin/chromium")
#: Seconds a conversion may take.
TIMEOUT = 120


def chromium() -> Path | None:
    """The Chromium to print with, or None."""
    given = os.environ.get("DRGPOLICY_CHROMIUM")
    if given:
        return Path(given) if Path(given).is_file() else None
    found = next((shutil.which(name) for name in NAMES if shutil.which(name)), None)
    if found:
        return Path(found)
    return FALLBACK if FALLBACK.is_file() else None


def print_pdf(html: Path, pdf: Path, browser: Path) -> str | None:
    """Print `html` to `pdf`; None when done, else why not."""
    argv = [
        str(browser),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf}",
        html.resolve().as_uri(),
    ]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{browser} could not print: {exc}"
    if done.returncode != 0 or not pdf.is_file():
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        return f"{browser} exited {done.returncode}: {why[0]}"
    return None


__all__ = ["chromium", "print_pdf"]
