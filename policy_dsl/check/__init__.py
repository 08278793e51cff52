"""The checker: every pass over a resolved policy, all diagnostics collected and reported together.

`check(resolved)` never raises for a problem in the policy; it returns them all in `Checked`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from policy_dsl import ast as a
from policy_dsl.check import (
    cited_numbers,
    declarations,
    documents,
    indicators,
    missing,
    ranges,
    structure,
    supervision,
    tables,
)
from policy_dsl.check.citations import Citations, check_quotes
from policy_dsl.check.infer import Ctx, DefKey, Inference, Info
from policy_dsl.check.scope import Scope
from policy_dsl.diagnostics import Diagnostic, PolicyErrors, has_errors, sort_diagnostics
from policy_dsl.grains import CASE
from policy_dsl.loader import Entry, Folder, Resolved, read_policy_file, resolve
from policy_dsl.ranges import default_range
from policy_dsl.references import dependency_first, references
from policy_dsl.sources import SourceFolders
from policy_dsl.types import TYPE_NAMES


@dataclass
class Checked:
    """A resolved policy with what the checker learned of it."""

    resolved: Resolved
    scope: Scope
    inference: Inference
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: the quotes checked against their documents' texts (None when they were not)
    citations: Citations | None = None

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)

    def info(self, name: str, stage: str | None) -> Info | None:
        symbol = self.scope.lookup(name, stage)
        if symbol is None or symbol.entry is None:
            return None
        return self.inference.definition(symbol)

    def is_money(self, entry: Entry) -> bool:
        """Whether a definition is an amount in 元."""
        info = self.info(entry.decl.name, entry.stage)
        return info is not None and info.type.same(TYPE_NAMES["money"])

    def raise_for_errors(self) -> None:
        if not self.ok:
            raise PolicyErrors([d for d in self.diagnostics if d.severity == "error"])


def check(resolved: Resolved, sources: SourceFolders | None = None) -> Checked:
    """Run every pass; collect every diagnostic. With `sources` (the search path of documents'
    texts), every quote is also looked up in its document (E137, W130): `drgpolicy check` and
    the studio do, compiling for a settlement does not."""
    found: list[Diagnostic] = list(resolved.diagnostics)
    report = found.append
    scope = Scope(resolved)
    inference = Inference(scope, report)
    declarations.check_header(resolved.top, report)
    declarations.check_names(scope, report)
    declarations.check_citations(scope, report)
    documents.check_documents(resolved.entries, report)
    cited_numbers.check_cited_numbers(resolved.entries, report)
    citations = check_quotes(resolved, sources, report) if sources is not None else None
    declarations.check_inputs(scope, report)
    supervision.check_supervision_inputs(scope, report)
    declarations.check_stages(scope, report)
    order = _dependencies_first(resolved, scope)
    for stage, name in order:
        symbol = scope.lookup(name, stage)
        assert symbol is not None
        inference.definition(symbol)
    for entry in resolved.entries:
        _check_entry(entry, scope, inference, report)
    indicators.check_indicators(scope, inference, report)
    structure.check_cycles(inference, scope, report)
    structure.check_unused(inference, scope, report)
    missing.check_classifications(scope, inference, order, found, report)
    checked = Checked(resolved, scope, inference, citations=citations)
    if not resolved.header.library:  # a module settles nothing: the policies including it do
        structure.check_outputs(scope, resolved.header.method, checked.info, report)
    supervision.check_deduction_signs(scope, inference.edges, order, checked.is_money, report)
    kept = _without_module_texts(resolved, _without_base_noise(resolved, found))
    checked.diagnostics = sort_diagnostics(set(kept))
    return checked


def _without_module_texts(resolved: Resolved, found: list[Diagnostic]) -> list[Diagnostic]:
    """`found` without W130 for the documents of the library modules a policy includes: that
    their texts are not at hand is the module's to say (`drgpolicy check` of the module), not
    every including policy's. (A quote that is not in its text, E137, stays.)"""
    modules = {str(m.path) for m in resolved.modules}
    return [d for d in found if not (d.code == "W130" and d.file in modules)]


#: What a missing base version causes by itself, so reported only once the base is found: names,
#: documents and stages the base would declare, overrides of its declarations, the settlement
#: outputs it would define and parameters its definitions would use.
NEEDS_THE_BASE = frozenset({"E101", "E106", "E111", "E702", "E801", "W101"})


def _without_base_noise(resolved: Resolved, found: list[Diagnostic]) -> list[Diagnostic]:
    """`found` without the follow-on diagnostics of a missing base (E701 or E705 says why)."""
    if not resolved.base_missing:
        return found
    return [d for d in found if d.code not in NEEDS_THE_BASE]


def _dependencies_first(resolved: Resolved, scope: Scope) -> list[DefKey]:
    """Every definition after the definitions it reads (a circle, E401, cut where it closes).
    Inferring them in this order, inferring one never has to infer another first, and a long
    chain of definitions, however ordered in the file, does not nest Python calls as deep as it
    is long; the passes that work each definition out from those it reads (W610, W150) warm
    their memos in the same order."""
    definitions = {(e.stage, e.decl.name): e for e in resolved.entries if _is_definition(e.decl)}

    def reads(key: DefKey) -> list[DefKey]:
        found = (
            scope.lookup(name, stage)
            for stage, name in sorted(references(definitions[key]), key=str)
        )
        keys = [(s.entry.stage, s.name) for s in found if s is not None and s.entry is not None]
        return [k for k in keys if k in definitions]

    return dependency_first(definitions, reads)


def _is_definition(decl: a.Declaration) -> bool:
    return isinstance(decl, a.Let | a.Classify | a.Formula | a.Adjust)


def _check_entry(
    entry: Entry, scope: Scope, inference: Inference, report: structure.Report
) -> None:
    decl = entry.decl
    symbol = scope.lookup(decl.name, entry.stage)
    if _is_definition(decl) and symbol is not None:
        inference.definition(symbol)
    if isinstance(decl, a.Classify):
        structure.check_classify(entry, report)
    elif isinstance(decl, a.Formula):
        structure.check_formula(entry, scope, report)
    elif isinstance(decl, a.Param):
        declarations.check_literal(
            decl.value,
            inference.named_type(decl.type, decl, entry),
            entry,
            f"`{decl.name}`",
            report,
        )
        _check_range_units(entry, decl, inference, report)
        ranges.check_param_range(entry, report)
    elif isinstance(decl, a.Table):
        _check_table(entry, decl, inference, report)
    elif isinstance(decl, a.Invariant):
        _check_invariant(entry, decl, scope, inference, report)


def _check_range_units(
    entry: Entry, decl: a.Param, inference: Inference, report: structure.Report
) -> None:
    """A declared range's bounds are in the parameter's unit (E302/E303, as its value)."""
    if decl.range is None or default_range(decl.type) is None:
        return  # no range, or E311 (a type without one)
    expected = inference.named_type(decl.type, decl, entry)
    for bound in (decl.range.low, decl.range.high):
        if bound is not None:
            declarations.check_literal(
                bound, expected, entry, f"the range of `{decl.name}`", report
            )


def _check_table(
    entry: Entry, decl: a.Table, inference: Inference, report: structure.Report
) -> None:
    tables.check_table(entry, report)
    key_type = inference.named_type(decl.key_type, decl, entry)
    value_type = inference.named_type(decl.value_type, decl, entry)
    for row in decl.rows:
        keys = (
            [row.key]
            if isinstance(row, a.KeyRow)
            else ([row.low, row.high] if isinstance(row, a.RangeRow) else [])
        )
        for key in keys:
            if key is not None:
                declarations.check_literal(
                    key, key_type, entry, f"the keys of `{decl.name}`", report
                )
        declarations.check_literal(
            row.value, value_type, entry, f"the values of `{decl.name}`", report
        )


def _check_invariant(
    entry: Entry, decl: a.Invariant, scope: Scope, inference: Inference, report: structure.Report
) -> None:
    def lookup(name: str) -> Info | None:
        symbol = scope.lookup(name, entry.stage)
        if symbol is None or symbol.entry is None:
            return None
        return inference.definition(symbol)

    if isinstance(decl.rule, a.Always):
        info = inference.expression(decl.rule.condition, Ctx(entry, CASE))
        if info is not None and info.type.kind != "bool":
            report(
                entry.file.source.diagnostic(
                    "E901",
                    f"invariant `{decl.name}`: `always` needs a condition, not {info.type}",
                    decl.rule.span,
                    declarations.INVARIANT_HINTS[a.Always],
                )
            )
    declarations.check_invariant(entry, lookup, report)


def check_path(
    path: Path | str, sources: SourceFolders | None = None, folder: Folder | None = None
) -> Checked:
    """Read, resolve and check one file (its quotes too, given `sources`; its base versions
    looked up in `folder`, read once for all its files, or else in its own folder, read now);
    a syntax error raises `PolicyErrors`."""
    return check(resolve(read_policy_file(path), folder), sources)


__all__ = ["Checked", "check", "check_path"]
