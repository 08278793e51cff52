"""The passages of the documents a trace cites (原文): beside each step's quote, the sentences of
its document that hold it, for `explain`, the studio and `--json`.

A document's text is looked up as `drgpolicy check` does (`policy_dsl.sources`): in the `sources/`
folder next to the policy file that declares it, then in the folders given (`--sources`,
`DRGPOLICY_SOURCES`). A quote whose document's text is not there, or that is not in it, has no
passage: the trace shows the citation alone (`drgpolicy check --sources` says why).
"""

from __future__ import annotations

from dataclasses import replace

from engine.explainer.explain import citation_text
from engine.explainer.trace import CitedPassage, Trace
from policy_dsl import ir, quotes
from policy_dsl.sources import DocumentText, SourceFolders, UnreadableText, find_text, read_text


def with_passages(trace: Trace, policy: ir.Policy, folders: SourceFolders) -> Trace:
    """`trace` with the passage of each quote its steps cite, where it is found."""
    definitions = {d.name: d for d in policy.stage(trace.stage).definitions}
    texts = DocumentTexts(policy, folders)
    steps = [
        replace(step, passages=texts.passages(definitions[step.name].citations))
        if step.name in definitions
        else step
        for step in trace.steps
    ]
    return replace(trace, steps=steps)


class DocumentTexts:
    """The texts of a compiled policy's documents, each looked up once."""

    def __init__(self, policy: ir.Policy, folders: SourceFolders) -> None:
        self.documents = {d.name: d for d in policy.documents}
        self.folders = folders
        self._texts: dict[str, DocumentText | None] = {}

    def text(self, name: str) -> DocumentText | None:
        """The text of document `name`, or None where it is not available."""
        if name not in self._texts:
            self._texts[name] = self._read(self.documents.get(name))
        return self._texts[name]

    def _read(self, document: ir.Document | None) -> DocumentText | None:
        if document is None or document.text is None or document.origin is None:
            return None
        path = find_text(document.text, self.folders.for_policy(document.origin.file))
        try:
            return read_text(path) if path is not None else None
        except UnreadableText:
            return None

    def passages(self, citations: list[ir.Citation]) -> list[CitedPassage]:
        """The passage of each quote among `citations` that is found in its document."""
        found = []
        for citation in citations:
            if citation.document is None or citation.article is None:
                continue
            text = self.text(citation.document)
            spans = quotes.find(citation.article, text) if text is not None else None
            if text is not None and spans is not None:
                title = self.documents[citation.document].title
                passage = quotes.passage(text, spans)
                found.append(CitedPassage(citation_text(citation), title, passage))
        return found


__all__ = ["DocumentTexts", "with_passages"]
