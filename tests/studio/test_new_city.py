"""The Editor's *＋ new city* makes the city as `drgpolicy init` does and opens its version."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.studio.apptest import component, open_app, texts


def test_new_city_makes_the_folder_and_opens_its_version(policies: Path) -> None:
    at = open_app()
    at.text_input(key="new_city_name").set_value("hefei")
    at.radio(key="new_city_method").set_value("rate")
    at.button(key="new_city").click().run()
    assert not at.exception
    year = str(dt.date.today().year)
    made = policies / "hefei"
    files = sorted(str(p.relative_to(made)) for p in made.rglob("*") if p.is_file())
    assert files == [f"{year}.policy", "examples/starter.yaml", "sources/README.md"]
    assert any(f"Made hefei/: {year}.policy, examples/starter.yaml" in s for s in texts(at.success))
    assert at.selectbox(key="editor_city").value == "hefei"
    assert at.selectbox(key="editor_choice").value == year
    drawn = component(at)
    assert drawn["text"] == (made / f"{year}.policy").read_text(encoding="utf-8")
    assert "method rate\n" in drawn["text"]
    assert drawn["marks"] == [], "it checks clean as made"
    assert not at.button(key="editor_save").disabled


def test_new_city_refuses_an_existing_city_and_a_bad_name(policies: Path) -> None:
    before = sorted(p.name for p in policies.iterdir())
    at = open_app()
    for name, words in (
        ("suzhou", "already exists: init never writes into an existing city"),
        ("合肥", "write it in Latin letters, digits and _"),
    ):
        at.text_input(key="new_city_name").set_value(name)
        at.button(key="new_city").click().run()
        assert not at.exception
        assert any(words in e for e in texts(at.error)), texts(at.error)
    assert sorted(p.name for p in policies.iterdir()) == before
