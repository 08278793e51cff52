"""The Versions page shows the policy document of the new version and its redline against the
old one — the pages `drgpolicy render` writes — and offers both for download."""

from __future__ import annotations

from pathlib import Path

from engine.render.ledger import covering_ledger
from engine.render.pages import checked, document_html, redline_html
from policy_dsl.loader import read_policy_file, resolve
from policy_dsl.sources import SourceFolders
from tests.studio.apptest import XC, open_app


def test_the_versions_page_shows_and_offers_the_policy_document(policies: Path) -> None:
    at = open_app("versions")
    at.selectbox(key="versions_city").set_value(XC).run()
    at.selectbox(key="versions_old").set_value("2023").run()
    at.selectbox(key="versions_new").set_value("2024").run()
    assert not at.exception
    folder = policies / XC
    new = checked(resolve(read_policy_file(folder / "2024.policy")))
    old = checked(resolve(read_policy_file(folder / "2023.policy")))
    folders = SourceFolders()  # the copy's own sources/ folder only, as the page looks
    frames = [e.proto.srcdoc for e in at.get("iframe")]
    ledger = covering_ledger(folder / "2024.policy", folders)  # the city's, which covers 2024
    assert ledger is not None and len(ledger.ledger.rows) == 31
    assert frames == [document_html(new, folders, ledger)]  # the same page as `render` writes
    assert '<section id="ledger">' in frames[0]
    buttons = {b.proto.label: b for b in at.get("download_button")}
    assert set(buttons) == {
        "Download the policy document (HTML)",
        "Download the redline against 2023 (HTML)",
    }
    at.radio(key="versions_document_shown").set_value("redline").run()
    assert [e.proto.srcdoc for e in at.get("iframe")] == [redline_html(old, new, folders)]
