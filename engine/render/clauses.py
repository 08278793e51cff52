"""The clauses of a version as the policy document shows them (条款): every declaration and every
part of one (table row, class, formula arm, adjustment step), each under the clause id that
`drgpolicy diff` gives it (`policy_dsl.diff.clause_id`), with its Chinese label, its formula as
the policy writes it and its citations — the same items the semantic diff compares
(`policy_dsl.facets`), so the document and the redline name the same clauses.
"""

from __future__ import annotations

from dataclasses import dataclass

from policy_dsl import ast as a
from policy_dsl.diff import clause_id
from policy_dsl.facets import Item, declaration_item, part_items, stage_item
from policy_dsl.loader import Resolved
from policy_dsl.patch import part_name

#: What each kind of item is called in the document.
KINDS = {
    "stage": "结算阶段",
    "document": "来源文件",
    "input": "输入数据",
    "parameter": "参数",
    "table": "参数表",
    "definition": "定义",
    "report": "报告值",
    "classification": "病例分类",
    "formula": "分类公式",
    "adjustment": "调整",
    "invariant": "约束",
    "row": "表行",
    "class": "类别",
    "arm": "公式分支",
    "step": "调整步骤",
}


@dataclass(frozen=True)
class Clause:
    """One clause: its id, kind, label, formula text, citations, the file it was written in,
    and its parts (for a declaration)."""

    clause: str
    item: Item
    label: str
    file: str
    parts: tuple[Clause, ...] = ()

    @property
    def kind(self) -> str:
        return KINDS.get(self.item.what, self.item.what)

    @property
    def citations(self) -> tuple[a.Citation, ...]:
        return self.item.citations

    def all(self) -> list[Clause]:
        """This clause and its parts."""
        return [self, *self.parts]


def clauses(resolved: Resolved) -> list[Clause]:
    """Every stage and declaration of a resolved version, in the order of its files (a base
    version's clauses first), each with its parts."""
    found = []
    for info in resolved.stages:
        item = stage_item(info)
        found.append(Clause(clause_id("stage", info.name), item, info.label, str(info.file.path)))
    for entry in resolved.entries:
        found.append(declaration_clause(entry.decl, entry.stage, str(entry.file.path)))
    return found


def declaration_clause(decl: a.Declaration, stage: str | None, file: str) -> Clause:
    """A declaration's clause, with one clause per part."""
    item = declaration_item(decl, stage)
    labels = _part_labels(decl)
    parts = tuple(
        Clause(clause_id(p.what, p.name, p.stage, p.part), p, labels.get(p.part or "", ""), file)
        for p in part_items(decl, stage)
    )
    label = str(getattr(decl, "label", None) or getattr(decl, "title", ""))
    return Clause(clause_id(item.what, item.name, stage), item, label, file, parts)


def _part_labels(decl: a.Declaration) -> dict[str, str]:
    """The label of each class and step, by its part name."""
    parts = [*getattr(decl, "classes", ()), *getattr(decl, "steps", ())]
    return {part_name(p): p.label for p in parts if isinstance(p, a.ClassArm | a.Step)}


def by_clause(found: list[Clause]) -> dict[str, Clause]:
    """Every clause and part by its id."""
    return {c.clause: c for clause in found for c in clause.all()}


__all__ = ["KINDS", "Clause", "by_clause", "clauses", "declaration_clause"]
