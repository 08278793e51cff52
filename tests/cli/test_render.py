"""`drgpolicy render`: Xuancheng 2024 as a document to sign and against 2023 as a redline — the
pages open in Chromium, every clause of the policy appears with its source words (and its
assumptions, marked), the redline lists exactly the clauses of `drgpolicy diff`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from engine.render.clauses import clauses
from policy_dsl import ast as a
from policy_dsl.diff import checked_versions, diff_files
from tests.conftest import POLICIES, ROOT, shared_sources
from tests.conftest import run_cli as run
from tests.studio.browser import CHROMIUM, offline_page, require_browser

XUANCHENG = POLICIES / "xuancheng"
ARTIFACTS = ROOT / "out" / "artifacts"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Xuancheng 2024 rendered against 2023, with the documents' texts where they are."""
    from engine.cli import main

    out = tmp_path_factory.mktemp("render") / "doc"
    argv = ["render", str(XUANCHENG / "2024.policy"), "--vs", str(XUANCHENG / "2023.policy")]
    argv += ["--out", str(out), "--no-pdf", "--quiet"]
    sources = ROOT.parent / "shared" / "sources"
    if sources.is_dir():
        argv += ["--sources", str(sources)]
    assert main(argv) == 0
    return out


def page_clauses(path: Path, shot: str) -> list[dict[str, Any]]:
    """Each `data-clause` element of a page opened in Chromium: its id, text and kind."""
    requests: list[str] = []
    with offline_page(path, requests) as page:
        found: list[dict[str, Any]] = page.locator("[data-clause]").evaluate_all(
            "els => els.map(e => ({id: e.dataset.clause, kind: e.dataset.kind || null,"
            " text: e.innerText, visible: e.offsetHeight > 0}))"
        )
        os.makedirs(ARTIFACTS, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / shot))
    assert [r for r in requests if not r.startswith("file://")] == []
    return found


def test_every_clause_appears_with_its_source_words(rendered: Path) -> None:
    shown = page_clauses(rendered / "policy.html", "policy-document.png")
    (checked,) = checked_versions(XUANCHENG / "2024.policy")
    expected = [c for clause in clauses(checked.resolved) for c in clause.all()]
    assert [s["id"] for s in shown] == [c.clause for c in expected]
    assert all(s["visible"] for s in shown)
    by_id = {s["id"]: s["text"] for s in shown}
    quoted = assumed = 0
    for clause in expected:
        text = _own_text(by_id, clause.clause, [p.clause for p in clause.parts])
        for citation in clause.citations:
            if isinstance(citation, a.Source) and citation.article:
                assert f"“{citation.article}”" in text, clause.clause
                quoted += 1
            elif isinstance(citation, a.Assumption):
                assert "假设（非文件规定）" in text and citation.reason in text, clause.clause
                assumed += 1
        assert clause.label in text, clause.clause
    assert quoted > 20 and assumed > 30  # the file's 26 quotes and 34 assumptions, and 2023's


def _own_text(texts: dict[str, str], clause: str, parts: list[str]) -> str:
    """A clause's text without its parts' (each part is an element of its own)."""
    text = texts[clause]
    for part in parts:
        text = text.replace(texts[part], "")
    return text


def test_the_passage_of_each_quote_is_beside_it_where_the_text_is_found(rendered: Path) -> None:
    shared_sources()
    html = (rendered / "policy.html").read_text(encoding="utf-8")
    assert html.count('<div class="passage">原文：') >= 20
    assert "<mark>" in html


def test_the_redline_lists_exactly_the_clauses_of_diff(rendered: Path) -> None:
    shown = page_clauses(rendered / "redline.html", "policy-redline.png")
    changes = diff_files(XUANCHENG / "2023.policy", XUANCHENG / "2024.policy")
    grouped = sorted(changes, key=lambda c: _order(c))
    assert [(s["id"], s["kind"]) for s in shown] == [(c.clause, c.kind) for c in grouped]
    texts = {s["id"]: s["text"] for s in shown}
    for change in changes:
        text = texts[change.clause]
        for cited in (*change.old_citations, *change.new_citations):
            words = cited.split('"')[1] if '"' in cited else cited
            assert words.replace('\\"', '"') in text, change.clause


def _order(change: Any) -> int:
    group = "citation only" if change.citation_only else change.kind
    return ["added", "removed", "changed", "citation only"].index(group)


def test_a_changed_clause_shows_its_sources_before_and_after(rendered: Path) -> None:
    html = (rendered / "redline.html").read_text(encoding="utf-8")
    start = html.index('data-clause="param:min_stable_cases"')
    block = html[start : html.index("</article>", start)]
    assert "出处（旧）sources before" in block and "出处（新）sources after" in block
    assert "<del>10</del>" in block and "<ins>5</ins>" in block  # the value, struck and inserted


def test_render_json_lists_the_pages_and_the_clauses(rendered: Path) -> None:
    record = json.loads((rendered / "render.json").read_text(encoding="utf-8"))
    assert record["drgpolicy"] == "render"
    assert set(record["pages"]) == {"policy.html", "redline.html"}
    assert "param:low_ratio_grassroots" in record["clauses"]
    assert record["pdf"] == []


def test_a_pdf_is_printed_where_chromium_is_and_its_absence_is_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = str(XUANCHENG / "2024.policy")
    monkeypatch.setenv("DRGPOLICY_CHROMIUM", str(tmp_path / "no-chromium"))
    code, out, err = run(capsys, "render", policy, "--out", str(tmp_path / "a"), "--quiet")
    assert code == 0
    assert "note: no PDF: Chromium was not found" in err
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["policy.html", "render.json"]
    require_browser()
    monkeypatch.setenv("DRGPOLICY_CHROMIUM", str(CHROMIUM))
    code, out, err = run(capsys, "render", policy, "--out", str(tmp_path / "b"), "--quiet")
    assert code == 0, err
    assert (tmp_path / "b" / "policy.pdf").read_bytes().startswith(b"%PDF")
    assert "PDF: policy.pdf" in out


def test_every_text_of_the_policy_is_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    planted = "<script>alert(1)</script>"
    text = (XUANCHENG / "2023.policy").read_text(encoding="utf-8")
    policy = tmp_path / "city" / "2023.policy"
    policy.parent.mkdir()
    policy.write_text(text.replace('"低倍率判定系数"', f'"{planted}"'), encoding="utf-8")
    out = tmp_path / "doc"
    code, _, err = run(capsys, "render", str(policy), "--out", str(out), "--no-pdf")
    assert code == 0, err
    html = (out / "policy.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_an_out_folder_of_other_files_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    code, _, err = run(capsys, "render", str(XUANCHENG / "2024.policy"), "--out", str(out))
    assert code == 1 and "holds other files" in err
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
