"""The policy as a document to sign (政策文本): one self-contained, printable HTML page — the
version's identity and dates, its source documents and their status, then every clause with
its formula in words and as the policy writes it, and beside it the words of its source (with
the passage of the document's text where it is found) or, marked as such, the assumption it
rests on; a block for the sign-off at the end.

Every text a policy or a document holds is escaped (`engine.page.markup.html_text`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from engine.explainer.passages import DocumentTexts
from engine.page.markup import html_text
from engine.render.clauses import Clause, clauses
from engine.render.formula import in_words
from engine.render.ledger import ledger_html
from policy_dsl import ast as a
from policy_dsl import ir
from policy_dsl.builtins import CORE_FIELDS
from policy_dsl.check.ledger import LedgerCheck
from policy_dsl.citation_counts import citation_counts
from policy_dsl.loader import Resolved

STATUS = {
    "in_force": "现行有效",
    "draft": "征求意见稿（未生效）",
    "report": "报道或材料（非规范性文件）",
}
METHODS = {"points": "点数法 points", "rate": "费率法 rate"}

STYLE = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
  "Microsoft YaHei", "PingFang SC", sans-serif; margin: 2em auto; max-width: 1100px;
  color: #222; line-height: 1.5; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #999; }
h3 { font-size: 1.05em; margin: 0 0 0.3em; } table { border-collapse: collapse; margin: 0.6em 0; }
th, td { padding: 3px 8px; border-bottom: 1px solid #e5e5e5; text-align: left;
  vertical-align: top; }
th { background: #f4f4f4; } code, pre { background: #f4f4f4; font-size: 0.85em; }
pre { white-space: pre-wrap; padding: 0.3em 0.5em; margin: 0.2em 0; }
.clause { border-top: 1px solid #ddd; padding: 0.6em 0; break-inside: avoid; }
.part { margin-left: 1.5em; border-top: 1px dotted #ddd; padding: 0.4em 0; break-inside: avoid; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
.kind { color: #555; font-weight: normal; font-size: 0.85em; }
.id { color: #777; font-size: 0.8em; }
.words { margin: 0.2em 0; } .inherited { color: #777; font-size: 0.85em; }
.source { border-left: 3px solid #2e7d32; padding-left: 0.6em; margin-bottom: 0.5em; }
.assumption { border-left: 3px solid #c9b458; background: #fbf8ea; padding: 0.3em 0.6em;
  margin-bottom: 0.5em; } .assumption b, .none b { color: #8a6d00; }
.none { border-left: 3px solid #bbb; padding-left: 0.6em; color: #666; }
.passage { color: #444; font-size: 0.9em; } mark { background: #fff1a8; }
.signoff td { height: 2.5em; min-width: 12em; }
ins { background: #e6f4ea; text-decoration: none; } del { background: #fdecea; }
.badge { display: inline-block; padding: 0 0.4em; border-radius: 3px; font-size: 0.8em;
  color: #fff; } .added { background: #2e7d32; } .removed { background: #c62828; }
.changed { background: #1f77b4; } .cited { background: #777; }
.ledger td:first-child { text-align: right; color: #555; } .ledger td:nth-child(2) { width: 34%; }
.ledger .how { white-space: nowrap; }
.as-written { color: #2e7d32; } .reading { color: #8a6d00; } .not-encoded { color: #666; }
.problems { border-left: 3px solid #c62828; background: #fdecea; padding: 0.3em 0.6em; }
.problems b { color: #c62828; } .problems .hint { color: #555; font-size: 0.9em; }
@media print { body { margin: 0; max-width: none; } nav { display: none; } }
"""


@dataclass(frozen=True)
class Sources:
    """What shows a clause's sources: the compiled version (its documents) and where their
    texts are looked up."""

    texts: DocumentTexts
    documents: Mapping[str, ir.Document]

    def html(self, citations: Iterable[a.Citation]) -> str:
        """Each citation: the quoted words and the document, with the passage where found; an
        assumption marked as one; a clause citing nothing said to."""
        shown = [self._one(c) for c in citations]
        return "".join(shown) or '<div class="none"><b>未注明出处</b>（计算式，不引用文件）</div>'

    def _one(self, citation: a.Citation) -> str:
        if isinstance(citation, a.Assumption):
            return (
                '<div class="assumption"><b>假设（非文件规定）Assumption</b>：'
                f"{html_text(citation.reason)}</div>"
            )
        document = self.documents.get(citation.document)
        title = document.title if document is not None else citation.document
        quote = f"“{html_text(citation.article)}”" if citation.article else "（未引原文）"
        cited = ir.Citation(document=citation.document, article=citation.article)
        found = [p.passage for p in self.texts.passages([cited])]
        passage = (
            f'<div class="passage">原文：{_marked(found[0].text, found[0].marks)}</div>'
            if found
            else ""
        )
        return (
            f'<div class="source"><b>来源 Source</b>：{quote}<br>'
            f"<cite>《{html_text(title)}》</cite> <code>{html_text(citation.document)}</code>"
            f"{passage}</div>"
        )


def _marked(text: str, marks: Iterable[tuple[int, int]]) -> str:
    out, at = [], 0
    for start, end in marks:
        out += [html_text(text[at:start]), "<mark>", html_text(text[start:end]), "</mark>"]
        at = end
    return "".join([*out, html_text(text[at:])])


def labels_of(resolved: Resolved) -> dict[str, str]:
    """Every name a formula may read, with its Chinese label: the core fields, the classes,
    then the version's own declarations."""
    labels = {name: field.label for name, field in CORE_FIELDS.items()}
    for entry in resolved.entries:
        for part in getattr(entry.decl, "classes", ()):
            labels[part.name] = part.label
    for entry in resolved.entries:
        label = getattr(entry.decl, "label", None)
        if label:
            labels[entry.decl.name] = label
    return labels


def render_document(
    resolved: Resolved, policy: ir.Policy, sources: Sources, ledger: LedgerCheck | None = None
) -> str:
    """The page of one version; with `ledger` (the city's, checked) its rows after the
    clauses."""
    header = resolved.header
    versions = {str(f.path): f.header.version for f in resolved.chain}
    labels = labels_of(resolved)
    found = clauses(resolved)
    body = "".join(
        clause_html(c, labels, sources, _inherited(c, versions, header.version)) for c in found
    )
    title = header.title or f"{header.city} {header.version}"
    return page(
        f"{title}（{header.city} {header.version}）",
        _identity(resolved, policy)
        + _documents(policy)
        + f"<h2>条款 Clauses</h2>{body}"
        + (ledger_html(ledger, found) if ledger is not None else "")
        + SIGN_OFF,
    )


def page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html_text(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{html_text(title)}</h1>{body}</body></html>\n"
    )


def _identity(resolved: Resolved, policy: ir.Policy) -> str:
    header = resolved.header
    counts = citation_counts(resolved.top.tree)
    rows = [
        ("城市 city", header.city),
        ("版本 version", header.version),
        ("施行日期 effective", _dates(policy)),
        ("继承版本 extends", header.extends or "—"),
        ("付费方法 method", METHODS.get(policy.method, policy.method)),
        ("内容哈希 policy hash", policy.hash),
        (
            "本文件的规则",
            f"{counts.sourced} 条引用来源文件，{counts.assumed} 条仅基于假设，"
            f"{counts.uncited} 条为计算式；引用 {counts.sources} 处，假设 {counts.assumptions} 处",
        ),
    ]
    cells = "".join(f"<tr><th>{k}</th><td>{html_text(v)}</td></tr>" for k, v in rows)
    return f"<table>{cells}</table>"


def _dates(policy: ir.Policy) -> str:
    return f"{policy.effective_from or '—'} 至 {policy.effective_to or '下一版本施行'}"


def _documents(policy: ir.Policy) -> str:
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html_text(v)}</td>"
            for v in (
                d.name,
                d.title,
                d.issuer,
                d.number or "无文号",
                d.date,
                STATUS.get(d.status, d.status),
                d.text or "—",
            )
        )
        + "</tr>"
        for d in policy.documents
    )
    head = "".join(
        f"<th>{h}</th>" for h in ("名称", "标题", "发文机关", "文号", "日期", "状态", "原文文件")
    )
    return f"<h2>来源文件 Documents</h2><table><tr>{head}</tr>{rows}</table>"


def _inherited(clause: Clause, versions: Mapping[str, str], version: str) -> str:
    written = versions.get(clause.file, version)
    return "" if written == version else f"（继承自 {written} 版 inherited）"


#: The aspects of a clause shown under its formula, in words.
ASPECTS = {
    "type": "类型",
    "grain": "粒度",
    "range": "取值范围",
    "table": "数据表",
    "key type": "键类型",
    "value type": "值类型",
    "by": "按",
    "start": "起始值",
    "period": "周期",
    "issuer": "发文机关",
    "number": "文号",
    "date": "日期",
    "status": "状态",
}


def clause_html(
    clause: Clause, labels: Mapping[str, str], sources: Sources, note: str = "", css: str = "clause"
) -> str:
    """One clause (and its parts, each a clause of its own), with `data-clause` its id."""
    item = clause.item
    words = in_words(item.summary, labels)
    details = [
        f"{ASPECTS[name]}：{text}"
        for name, (_, text) in item.facets.items()
        if text and name in ASPECTS
    ]
    rule = f'<p class="words">{html_text(words)}</p><pre>{html_text(item.summary)}</pre>' + (
        f"<pre>{html_text('; '.join(details))}</pre>" if details and css == "clause" else ""
    )
    head = (
        f"<h3>{html_text(clause.label or item.part or item.name)} "
        f'<span class="kind">{clause.kind}</span> '
        f'<span class="id">{html_text(clause.clause)}</span> '
        f'<span class="inherited">{html_text(note)}</span></h3>'
    )
    parts = "".join(clause_html(p, labels, sources, css="part") for p in clause.parts)
    cited = "" if item.what == "document" else sources.html(clause.citations)
    return (
        f'<article class="{css}" id="{html_text(clause.clause)}" '
        f'data-clause="{html_text(clause.clause)}">{head}<div class="grid"><div>{rule}</div>'
        f"<div>{cited}</div></div>{parts}</article>"
    )


SIGN_OFF = (
    '<h2>审核签字 Sign-off</h2><table class="signoff">'
    "<tr><th>审核意见</th><td></td></tr><tr><th>审核人</th><td></td></tr>"
    "<tr><th>日期</th><td></td></tr></table>"
)


__all__ = ["STATUS", "Sources", "clause_html", "labels_of", "page", "render_document"]
