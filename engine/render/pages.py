"""The two pages of `render` from versions in memory — for the command and for the studio's
Versions page, which shows the same page and offers it for download."""

from __future__ import annotations

from engine.explainer.passages import DocumentTexts
from engine.render.document import Sources, render_document
from engine.render.redline import render_redline
from policy_dsl.check import Checked, check
from policy_dsl.check.ledger import LedgerCheck
from policy_dsl.loader import Resolved
from policy_dsl.lower import lower
from policy_dsl.sources import SourceFolders


def checked(resolved: Resolved) -> Checked:
    """A resolved version checked (raises `PolicyErrors` when it does not check)."""
    found = check(resolved)
    found.raise_for_errors()
    return found


def sources(version: Checked, folders: SourceFolders) -> Sources:
    """What shows a version's sources: its documents, their texts looked up in `folders`."""
    policy = lower(version)
    return Sources(DocumentTexts(policy, folders), {d.name: d for d in policy.documents})


def document_html(
    version: Checked, folders: SourceFolders, ledger: LedgerCheck | None = None
) -> str:
    """The policy document of a version (`policy.html`), with the city's `ledger` (checked:
    `engine.render.ledger.covering_ledger`) after its clauses."""
    return render_document(version.resolved, lower(version), sources(version, folders), ledger)


def redline_html(old: Checked, new: Checked, folders: SourceFolders) -> str:
    """The redline of `old` → `new` (`redline.html`)."""
    return render_redline(old.resolved, new.resolved, sources(old, folders), sources(new, folders))


__all__ = ["checked", "document_html", "redline_html", "sources"]
