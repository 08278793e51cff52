"""Inference of the leaves of an expression: literals, names (fields, parameters, inputs,
definitions), stage references, table lookups and re-keyed reads — name resolution (E101, E109,
E111, E112) and the grain a leaf can be read at (E201, E203)."""

from __future__ import annotations

from dataclasses import replace

from policy_dsl import ast as a
from policy_dsl import grains as g
from policy_dsl.builtins import INPUT_TABLES
from policy_dsl.check.infer_base import Ctx, InferenceBase, Info
from policy_dsl.check.scope import Symbol, did_you_mean
from policy_dsl.grains import CASE
from policy_dsl.loader import Entry
from policy_dsl.types import BOOL, DATE, LITERAL_UNITS, NUMBER, TEXT, Type

KEY_TYPES = {
    "case": TEXT,
    "hospital": TEXT,
    "group": TEXT,
    "level": NUMBER,
    "tier": TEXT,
    "month": TEXT,
}
HOSPITAL = frozenset({"hospital"})
INPUT_GRAINS = {
    "case": CASE,
    "hospital": HOSPITAL,
    "group": frozenset({"group"}),
    "deduction": HOSPITAL,
    "assessment": HOSPITAL,
}


class NameInference(InferenceBase):
    """Literals, names and reads of other values."""

    def _Number(self, node: a.Number, ctx: Ctx) -> Info:
        zero = node.kind == "number" and node.value == 0
        return Info(Type("number", LITERAL_UNITS[node.kind]), g.ALL, zero)

    def _Bool(self, node: a.Bool, ctx: Ctx) -> Info:
        return Info(BOOL, g.ALL)

    def _Text(self, node: a.Text, ctx: Ctx) -> Info:
        return Info(TEXT, g.ALL)

    def _Date(self, node: a.Date, ctx: Ctx) -> Info:
        return Info(DATE, g.ALL)

    def _Current(self, node: a.Current, ctx: Ctx) -> Info | None:
        if not ctx.in_step:
            self._error(
                ctx.entry,
                "E112",
                "`current` is only meaningful inside an adjustment step",
                node.span,
                "inside `adjust … step …`, `current` is the value so far",
            )
        return ctx.current

    def _Name(self, node: a.Name, ctx: Ctx) -> Info | None:
        symbol = self.scope.lookup(node.name, ctx.stage)
        if symbol is None:
            self._unknown_name(node, ctx)
            return None
        info = self._symbol_info(symbol, node, ctx)
        return self._leaf(node.name, info, node, ctx) if info else None

    def _symbol_info(self, symbol: Symbol, node: a.Node, ctx: Ctx) -> Info | None:
        if symbol.field is not None:
            return Info(symbol.field.type, symbol.field.grain)
        assert symbol.entry is not None
        decl = symbol.entry.decl
        self.used.add((symbol.stage, symbol.name))
        if isinstance(decl, a.Param):
            typ = self.named_type(decl.type, decl, symbol.entry)
            return Info(typ, g.ALL) if typ else None
        if isinstance(decl, a.Input):
            return self._input_info(decl, symbol.entry)
        if isinstance(decl, a.Table):
            self._error(
                ctx.entry,
                "E109",
                f"`{decl.name}` is a table: give it a key",
                node.span,
                f"write `{decl.name}[<key>]`",
            )
            return None
        if isinstance(decl, a.Invariant | a.Document | a.Target):
            self._error(
                ctx.entry,
                "E109",
                f"`{decl.name}` is not a value",
                node.span,
                "documents, invariants and targets cannot be used in a formula",
            )
            return None
        if isinstance(decl, a.Indicator):
            from policy_dsl.check.indicators import reads_indicator

            return reads_indicator(ctx, decl, node, self)  # type: ignore[arg-type]
        self.edges.setdefault((ctx.stage, ctx.entry.decl.name), set()).add(
            (symbol.stage, symbol.name)
        )
        return self.definition(symbol)

    def definition_in(self, name: str, stage: str | None) -> Info | None:
        """The type and grain of the definition `name` in force in `stage` (None if it is not
        a definition there)."""
        symbol = self.scope.lookup(name, stage)
        if symbol is None or symbol.kind != "definition":
            return None
        return self.definition(symbol)

    def _input_info(self, decl: a.Input, entry: Entry) -> Info | None:
        typ = self.named_type(decl.type, decl, entry)
        if decl.table not in INPUT_TABLES:
            return None  # reported by the declaration pass
        grain = (
            self.grain_of(decl.grain, entry) if decl.grain else INPUT_GRAINS.get(decl.table, g.ALL)
        )
        return Info(typ, grain) if typ else None

    def _unknown_name(self, node: a.Name, ctx: Ctx) -> None:
        hint = did_you_mean(node.name, self.scope.visible(ctx.stage))
        if hint is None and self._is_class_name(node.name, ctx):
            hint = f"to test a case's class write `category is {node.name}`"
        if hint is None:
            hint = self._stage_hint(node.name, ctx) or "declare it with `param` or `let` first"
        self._error(ctx.entry, "E101", f"unknown name `{node.name}`", node.span, hint)

    def _is_class_name(self, name: str, ctx: Ctx) -> bool:
        return any(
            isinstance(e.decl, a.Classify) and name in [c.name for c in e.decl.classes]
            for e in self.scope.resolved.entries
        )

    def _stage_hint(self, name: str, ctx: Ctx) -> str | None:
        for stage, table in self.scope.by_stage.items():
            if stage is not None and stage != ctx.stage and name in table:
                return f"`{name}` belongs to stage `{stage}`: write `{stage}.{name}`"
        return None

    def _leaf(self, what: str, info: Info, node: a.Node, ctx: Ctx) -> Info:
        if ctx.target is None or g.readable_at(info.grain, ctx.target):
            return info
        defined = ctx.entry.decl.name
        at = g.show(ctx.target)
        if g.finer(info.grain, ctx.target):
            hint = f"wrap it in an aggregate, e.g. {_aggregate_hint(what, info)}"
        else:
            missing = g.show(info.grain - g.closure(ctx.target))
            hint = f"compute `{defined}` at a grain that includes {missing}, or aggregate `{what}`"
        self._error(
            ctx.entry,
            "E201",
            f"`{what}` is a {g.show(info.grain)} value, but `{defined}` is computed at {at}",
            node.span,
            hint,
        )
        return Info(info.type, ctx.target)

    def _StageRef(self, node: a.StageRef, ctx: Ctx) -> Info | None:
        info = self.scope.stage_info(node.stage)
        from policy_dsl.check import indicators  # it infers with this module

        if info is None and node.stage in (indicators.SETTLED, indicators.PREVIOUS):
            settled = node.stage == indicators.SETTLED
            read = indicators.settled_value if settled else indicators.previous_value
            return read(node, ctx, self)  # type: ignore[arg-type]
        later = ctx.stage is not None and (
            self.scope.stage_index(node.stage) >= self.scope.stage_index(ctx.stage)
        )
        if info is None or later:
            message, hint = self._stage_order_problem(node, ctx)
            self._error(ctx.entry, "E111", message, node.span, hint)
            return None
        symbol = self.scope.lookup(node.name, node.stage)
        if symbol is None or symbol.entry is None:
            self._error(
                ctx.entry,
                "E101",
                f"stage `{node.stage}` has no `{node.name}`",
                node.span,
                did_you_mean(node.name, self.scope.visible(node.stage))
                or f"declare `{node.name}` in stage `{node.stage}`",
            )
            return None
        found = self._symbol_info(symbol, node, ctx)
        if found is None:
            return None
        period = frozenset({"month"}) if info.period == "month" else g.ALL
        return self._leaf(
            f"{node.stage}.{node.name}",
            replace(found, grain=g.join(found.grain, period)),
            node,
            ctx,
        )

    def _stage_order_problem(self, node: a.StageRef, ctx: Ctx) -> tuple[str, str]:
        known = [s.name for s in self.scope.resolved.stages]
        if node.stage not in known:
            hint = did_you_mean(node.stage, known) or f"stages: {', '.join(known) or 'none'}"
            return f"`{node.stage}` is not a stage", hint
        if ctx.stage is None:
            return (
                f"a shared definition cannot read stage `{node.stage}`",
                f"move `{ctx.entry.decl.name}` into a stage that comes after `{node.stage}`",
            )
        if node.stage == ctx.stage:
            return (
                f"`{node.stage}.{node.name}` is in this same stage",
                f"write `{node.name}` without `{node.stage}.`",
            )
        return (
            f"stage `{ctx.stage}` cannot read stage `{node.stage}`, which comes after it",
            "a stage reads only the stages before it; reorder the stages or move the value",
        )

    def _Lookup(self, node: a.Lookup, ctx: Ctx) -> Info | None:
        symbol = self.scope.lookup(node.table, ctx.stage)
        key = self.expression(node.key, ctx)
        if symbol is None or symbol.entry is None or not isinstance(symbol.entry.decl, a.Table):
            tables = [n for n, s in self.scope.by_stage[None].items() if s.kind == "table"]
            self._error(
                ctx.entry,
                "E101",
                f"unknown table `{node.table}`",
                node.span,
                did_you_mean(node.table, tables) or "declare it with `table`",
            )
            return None
        table = symbol.entry.decl
        self.used.add((symbol.stage, table.name))
        key_type = self.named_type(table.key_type, table, symbol.entry)
        value_type = self.named_type(table.value_type, table, symbol.entry)
        if key is not None and key_type is not None:
            self._expect(
                key, key_type, node.key, ctx.entry, f"the keys of `{table.name}` are {key_type}"
            )
        if value_type is None or key is None:
            return None
        return Info(value_type, key.grain)

    def _Rekeyed(self, node: a.Rekeyed, ctx: Ctx) -> Info | None:
        symbol = self.scope.lookup(node.name, ctx.stage)
        if symbol is None:
            self._unknown_name(a.Name(node.name, span=node.span), ctx)
            return None
        base = self._symbol_info(symbol, node, ctx)
        if base is None:
            return None
        grain = set(base.grain)
        extra: list[g.Grain] = []
        for rekey in node.keys:
            value = self.expression(rekey.value, ctx)
            if rekey.key not in base.grain:
                self._error(
                    ctx.entry,
                    "E203",
                    f"`{node.name}` is a {g.show(base.grain)} value: it has no key `{rekey.key}`",
                    rekey.span,
                    f"keys of `{node.name}`: {g.show(base.grain)}",
                )
                continue
            grain.discard(rekey.key)
            if value is not None:
                self._expect(
                    value,
                    KEY_TYPES[rekey.key],
                    rekey.value,
                    ctx.entry,
                    f"`{rekey.key}` keys are {KEY_TYPES[rekey.key]}",
                )
                extra.append(value.grain)
        info = Info(base.type, g.join(frozenset(grain), *extra))
        return self._leaf(node.name, info, node, ctx)


def _aggregate_hint(what: str, info: Info) -> str:
    finest = g.order(info.grain)[0] if info.grain else "case"
    if info.type.kind == "bool":
        return f"`count({finest} where {what})` or `share({finest} where {what})`"
    if info.type.kind == "number":
        return f"`sum({what})` or `mean({what})`"
    return f"`count({finest} where …)`, or `min({what})` / `max({what})`"
