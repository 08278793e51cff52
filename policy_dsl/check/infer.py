"""Type, unit and grain inference for every definition, with name resolution.

Reports unknown names (E101), misplaced tables and classes (E109, E605), grain errors (E201–E205),
unit and type errors (E301–E304), function misuse (E107, E108) and stage references (E111, E112).
`Inference` gathers the passes by concept: leaves and names (`infer_names`), calls and
aggregates (`infer_calls`), operators (`infer_operators`), on the shared judgements of
`infer_base`; this module infers the declarations themselves.
"""

from __future__ import annotations

from policy_dsl import ast as a
from policy_dsl.check.infer_base import Ctx, DefKey, Info
from policy_dsl.check.infer_calls import CallInference
from policy_dsl.check.infer_names import NameInference
from policy_dsl.check.infer_operators import OperatorInference
from policy_dsl.check.module_memo import MEMO
from policy_dsl.check.scope import Symbol
from policy_dsl.grains import CASE
from policy_dsl.loader import Entry
from policy_dsl.types import Type


class Inference(NameInference, CallInference, OperatorInference):
    """Infers and checks every definition once (memoized); records what the lowering needs."""

    def definition(self, symbol: Symbol) -> Info | None:
        """The type and grain of a definition (inferred once; None if it cannot be known)."""
        assert symbol.entry is not None
        key = (symbol.entry.stage, symbol.name)
        if key in self.infos:
            return self.infos[key]
        if key in self.visiting:
            return None  # a cycle: reported by the cycle pass
        self.visiting.add(key)
        entry = symbol.entry
        info = MEMO.check(entry, self, lambda report: self._declaration(entry))
        self.visiting.discard(key)
        self.infos[key] = info
        return info

    def _declaration(self, entry: Entry) -> Info | None:
        decl = entry.decl
        if isinstance(decl, a.Let):
            return self._let(decl, entry)
        if isinstance(decl, a.Classify):
            return self._classify(decl, entry)
        if isinstance(decl, a.Formula):
            return self._formula(decl, entry)
        if isinstance(decl, a.Adjust):
            return self._adjust(decl, entry)
        return None

    def _let(self, decl: a.Let, entry: Entry) -> Info | None:
        grain = self.grain_of(decl.grain, entry)
        declared = self.named_type(decl.type, decl, entry)
        info = self.expression(decl.expr, Ctx(entry, grain))
        if info is not None and declared is not None:
            self._expect(
                info, declared, decl.expr, entry, f"`{decl.name}` is declared as {declared}"
            )
        typ = declared or (info.type if info else None)
        return Info(typ, grain) if typ else None

    def _classify(self, decl: a.Classify, entry: Entry) -> Info:
        ctx = Ctx(entry, CASE)
        for arm in decl.classes:
            if arm.when is not None:
                self._condition(arm.when, ctx, f"the condition of class `{arm.name}`")
        return Info(Type("class", classes_of=decl.name), CASE)

    def _formula(self, decl: a.Formula, entry: Entry) -> Info | None:
        ctx = Ctx(entry, CASE)
        by = self.scope.lookup(decl.by, entry.stage)
        classes = self._classes_of(by, decl.by, decl, entry)
        if by is not None and classes is not None:  # a value per class reads the class
            self.edges.setdefault((entry.stage, decl.name), set()).add((by.stage, by.name))
        infos = []
        for arm in decl.arms:
            if classes is not None and arm.class_name is not None and arm.class_name not in classes:
                self._unknown_class(arm.class_name, decl.by, classes, arm, entry)
            infos.append(self.expression(arm.expr, ctx))
        return self._declared_or_unified(decl, infos, [arm.expr for arm in decl.arms], entry)

    def _adjust(self, decl: a.Adjust, entry: Entry) -> Info | None:
        start = self.expression(decl.start, Ctx(entry, CASE))
        current = Info(start.type, CASE) if start else None
        ctx = Ctx(entry, CASE, in_step=True, current=current)
        infos = [start]
        for step in decl.steps:
            self._condition(step.when, ctx, f"the condition of step `{step.name}`")
            infos.append(self.expression(step.expr, ctx))
        return self._declared_or_unified(
            decl, infos, [decl.start] + [s.expr for s in decl.steps], entry
        )

    def _declared_or_unified(
        self,
        decl: a.Formula | a.Adjust,
        infos: list[Info | None],
        exprs: list[a.Expr],
        entry: Entry,
    ) -> Info | None:
        declared = self.named_type(decl.type, decl, entry)
        unified = self._unify(infos, exprs, entry, f"the values of `{decl.name}`")
        if declared is not None:
            for info, expr in zip(infos, exprs, strict=True):
                if info is not None:
                    self._expect(
                        info, declared, expr, entry, f"`{decl.name}` is declared as {declared}"
                    )
            return Info(declared, CASE)
        return Info(unified.type, CASE) if unified else None


__all__ = ["CASE", "Ctx", "DefKey", "Inference", "Info"]
