"""Type, unit and grain inference for every definition, with name resolution.

Reports unknown names (E101), misplaced tables and classes (E109, E605), grain errors (E201–E205),
unit and type errors (E301–E304), function misuse (E107, E108) and stage references (E111, E112).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from policy_dsl import ast as a
from policy_dsl import grains as g
from policy_dsl.builtins import AGGREGATES, FUNCTIONS, INPUT_TABLES, Function
from policy_dsl.check.scope import Scope, Symbol, did_you_mean
from policy_dsl.diagnostics import Diagnostic
from policy_dsl.loader import Entry
from policy_dsl.types import BOOL, DATE, LITERAL_UNITS, NUMBER, TEXT, TYPE_NAMES, Type, Unit

CASE = frozenset({"case"})
KEY_TYPES = {
    "case": TEXT,
    "hospital": TEXT,
    "group": TEXT,
    "level": NUMBER,
    "tier": TEXT,
    "month": TEXT,
}
INPUT_GRAINS = {"case": CASE, "hospital": frozenset({"hospital"}), "group": frozenset({"group"})}


@dataclass(frozen=True)
class Info:
    """What inference knows of a value: its type and grain; `zero` marks a bare literal 0,
    which takes the unit of whatever it meets."""

    type: Type
    grain: g.Grain
    zero: bool = False


@dataclass(frozen=True)
class Ctx:
    """Where an expression stands: its declaration, the grain its leaves must be readable at
    (None inside an aggregate), and the running value inside an adjustment step."""

    entry: Entry
    target: g.Grain | None
    current: Info | None = None

    @property
    def stage(self) -> str | None:
        return self.entry.stage


DefKey = tuple[str | None, str]


class Inference:
    """Infers and checks every definition once (memoized); records what the lowering needs."""

    def __init__(self, scope: Scope, report: Callable[[Diagnostic], None]) -> None:
        self.scope = scope
        self.report = report
        self.infos: dict[DefKey, Info | None] = {}
        self.visiting: set[DefKey] = set()
        self.edges: dict[DefKey, set[DefKey]] = {}
        self.used: set[DefKey] = set()
        self.sources: dict[int, g.Grain] = {}
        self.numeric_comparisons: set[int] = set()

    # ---- entry points ----
    def definition(self, symbol: Symbol) -> Info | None:
        """The type and grain of a definition (inferred once; None if it cannot be known)."""
        assert symbol.entry is not None
        key = (symbol.entry.stage, symbol.name)
        if key in self.infos:
            return self.infos[key]
        if key in self.visiting:
            return None  # a cycle: reported by the cycle pass
        self.visiting.add(key)
        info = self._declaration(symbol.entry)
        self.visiting.discard(key)
        self.infos[key] = info
        return info

    def expression(self, expr: a.Expr, ctx: Ctx) -> Info | None:
        """The type and grain of an expression; problems are reported, None means unknown."""
        method: Callable[[a.Expr, Ctx], Info | None] = getattr(self, "_" + type(expr).__name__)
        return method(expr, ctx)

    def named_type(self, name: str | None, node: a.Node, entry: Entry) -> Type | None:
        if name is None:
            return None
        if name in TYPE_NAMES:
            return TYPE_NAMES[name]
        self._error(
            entry,
            "E304",
            f"unknown type `{name}`",
            node.span,
            did_you_mean(name, TYPE_NAMES) or f"types: {', '.join(TYPE_NAMES)}",
        )
        return None

    def grain_of(self, grain: a.Grain, entry: Entry) -> g.Grain:
        keys = [k for k in grain.keys if k != "all"]
        for key in keys:
            if key not in g.KEYS:
                self._error(
                    entry,
                    "E203",
                    f"`{key}` is not a grain",
                    grain.span,
                    did_you_mean(key, g.KEYS) or f"grains: {', '.join(g.KEYS)}, all",
                )
        return g.normalize(k for k in keys if k in g.KEYS)

    # ---- declarations ----
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
        infos = []
        for arm in decl.arms:
            if classes is not None and arm.class_name is not None and arm.class_name not in classes:
                self._unknown_class(arm.class_name, decl.by, classes, arm, entry)
            infos.append(self.expression(arm.expr, ctx))
        return self._declared_or_unified(decl, infos, [arm.expr for arm in decl.arms], entry)

    def _adjust(self, decl: a.Adjust, entry: Entry) -> Info | None:
        start = self.expression(decl.start, Ctx(entry, CASE))
        current = Info(start.type, CASE) if start else None
        ctx = Ctx(entry, CASE, current)
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

    def _classes_of(
        self, symbol: Symbol | None, name: str, node: a.Node, entry: Entry
    ) -> list[str] | None:
        if symbol is not None and symbol.entry is not None:
            decl = symbol.entry.decl
            if isinstance(decl, a.Classify):
                return [c.name for c in decl.classes]
        self._error(
            entry,
            "E606",
            f"`{name}` is not a classification",
            node.span,
            "`by` and `is` need a name declared with `classify`",
        )
        return None

    # ---- leaves ----
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
        if ctx.current is None:
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
        if isinstance(decl, a.Invariant | a.Document):
            self._error(
                ctx.entry,
                "E109",
                f"`{decl.name}` is not a value",
                node.span,
                "documents and invariants cannot be used in a formula",
            )
            return None
        self.edges.setdefault((ctx.stage, ctx.entry.decl.name), set()).add(
            (symbol.stage, symbol.name)
        )
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

    # ---- calls ----
    def _Call(self, node: a.Call, ctx: Ctx) -> Info | None:
        name = node.function
        if name == "allocate":
            return self._allocate(node, ctx)
        if name in AGGREGATES and (name not in ("min", "max") or len(node.args) == 1):
            return self._aggregate(node, ctx)
        if name not in FUNCTIONS:
            known = list(dict.fromkeys([*FUNCTIONS, *AGGREGATES, "allocate"]))
            self._error(
                ctx.entry,
                "E107",
                f"unknown function `{name}`",
                node.span,
                did_you_mean(name, known) or f"functions: {', '.join(known)}",
            )
            return None
        return self._function(node, ctx)

    def _function(self, node: a.Call, ctx: Ctx) -> Info | None:
        spec = FUNCTIONS[node.function]
        if node.where is not None:
            self._error(
                ctx.entry,
                "E108",
                f"`{node.function}` of several values takes no `where`",
                node.span,
                "`where` filters the rows of an aggregate, e.g. `sum(total_cost where …)`",
            )
            return None
        if not spec.min_args <= len(node.args) <= (spec.max_args or len(node.args)):
            self._error(
                ctx.entry,
                "E108",
                f"`{node.function}` takes {_arity(spec)}, not {len(node.args)}",
                node.span,
                f"{node.function}: {spec.doc}",
            )
            return None
        infos = [self.expression(arg, ctx) for arg in node.args]
        if any(i is None for i in infos):
            return None
        known = [i for i in infos if i is not None]
        grain = g.join(*(i.grain for i in known))
        if spec.result == "text":
            self._expect(known[0], TEXT, node.args[0], ctx.entry, f"`{node.function}` takes a code")
            return Info(TEXT, grain)
        if spec.result == "first":
            return self._numeric_function(node, known, grain, ctx)
        unified = self._unify(
            infos, list(node.args), ctx.entry, f"the arguments of `{node.function}`"
        )
        return Info(unified.type, grain) if unified else None

    def _numeric_function(
        self, node: a.Call, infos: list[Info], grain: g.Grain, ctx: Ctx
    ) -> Info | None:
        first = infos[0]
        if node.function == "round_fen":
            self._expect(
                first, TYPE_NAMES["money"], node.args[0], ctx.entry, "`round_fen` rounds money"
            )
        elif first.type.kind != "number":
            self._type_error(
                ctx.entry, node.args[0], f"`{node.function}` needs a number, not {first.type}"
            )
            return None
        return Info(first.type, grain)

    def _aggregate(self, node: a.Call, ctx: Ctx) -> Info | None:
        name = node.function
        if ctx.target is None:
            self._error(
                ctx.entry,
                "E204",
                f"`{name}(…)` inside another aggregate",
                node.span,
                "define the inner aggregate as its own `let` at its grain, then aggregate that",
            )
            return None
        if len(node.args) != 1:
            self._error(
                ctx.entry,
                "E108",
                f"`{name}` takes one argument",
                node.span,
                f"{name}: {AGGREGATES[name]}",
            )
            return None
        inner = replace(ctx, target=None)
        arg = self._aggregate_arg(node, inner)
        if arg is None:
            return None
        source = arg.grain
        if node.where is not None:
            where = self._condition(node.where, inner, f"the `where` of `{name}`")
            source = g.join(source, where.grain) if where else source
        if not g.finer(source, ctx.target):
            self._error(
                ctx.entry,
                "E202",
                f"`{name}(…)` combines {g.show(source)} values, but `{ctx.entry.decl.name}` is "
                f"computed at {g.show(ctx.target)}: there are not several values to combine",
                node.span,
                "an aggregate combines the values of a finer grain (e.g. the cases of a hospital); "
                "use the value directly, or aggregate a finer value",
            )
        self.sources[id(node)] = source
        return Info(self._aggregate_type(name, arg, node, ctx), ctx.target)

    def _aggregate_arg(self, node: a.Call, inner: Ctx) -> Info | None:
        arg = node.args[0]
        if node.function not in ("count", "share"):
            return self.expression(arg, inner)
        if isinstance(arg, a.Name) and arg.name in g.KEYS:
            return Info(NUMBER, frozenset({arg.name}))
        self._error(
            inner.entry,
            "E205",
            f"`{node.function}(…)` takes a grain such as `case`, not a value",
            arg.span,
            f"write `{node.function}(case)` or `{node.function}(case where …)`",
        )
        return None

    def _aggregate_type(self, name: str, arg: Info, node: a.Call, ctx: Ctx) -> Type:
        if name in ("count", "share", "cv"):
            if name == "cv":
                self._numeric(arg, node.args[0], ctx, "`cv`")
            return NUMBER
        if name in ("sum", "mean"):
            self._numeric(arg, node.args[0], ctx, f"`{name}`")
        return arg.type

    def _allocate(self, node: a.Call, ctx: Ctx) -> Info | None:
        if len(node.args) != 2 or node.where is not None or ctx.target is None:
            self._error(
                ctx.entry,
                "E108",
                "`allocate` takes a total and the weights",
                node.span,
                "write `allocate(period_fund, settled_points)`",
            )
            return None
        total, weight = (self.expression(arg, ctx) for arg in node.args)
        if total is None or weight is None:
            return None
        self._expect(total, TYPE_NAMES["money"], node.args[0], ctx.entry, "`allocate` splits money")
        self._numeric(weight, node.args[1], ctx, "the weights of `allocate`")
        if total.grain == ctx.target and ctx.target:
            self._error(
                ctx.entry,
                "E202",
                "the total of `allocate` must be coarser than the rows it is split over",
                node.args[0].span,
                "split a budget at `all` (or per tier, per hospital…) over cases",
            )
        self.sources[id(node)] = total.grain
        return Info(TYPE_NAMES["money"], ctx.target)

    def _Rank(self, node: a.Rank, ctx: Ctx) -> Info | None:
        if ctx.target is None:
            self._error(
                ctx.entry,
                "E204",
                "`rank` inside an aggregate",
                node.span,
                "define the rank as its own `let` at its grain, then aggregate that",
            )
            return None
        for key in node.keys:
            info = self.expression(key.expr, ctx)
            if info is not None and info.type.kind not in ("number", "date", "text"):
                self._type_error(ctx.entry, key.expr, f"cannot sort by {info.type}")
        named = [k for k in node.within if k != "all"]
        unknown = [k for k in named if k not in g.KEYS]
        for name in unknown:
            self._error(
                ctx.entry,
                "E203",
                f"`{name}` is not a grain",
                node.span,
                did_you_mean(name, g.KEYS) or f"grains: {', '.join(g.KEYS)}, all",
            )
        within = frozenset(named) - frozenset(unknown)
        if not unknown and (not g.readable_at(within, ctx.target) or within == ctx.target):
            self._error(
                ctx.entry,
                "E203",
                f"`rank … within {g.show(within)}` must group "
                f"{g.show(ctx.target)} rows by coarser keys",
                node.span,
                "e.g. `within hospital` for a case ranking",
            )
        if node.where is not None:
            self._condition(node.where, ctx, "the `where` of `rank`")
        return Info(NUMBER, ctx.target)

    # ---- operators ----
    def _Neg(self, node: a.Neg, ctx: Ctx) -> Info | None:
        info = self.expression(node.operand, ctx)
        return info if info is None or self._numeric(info, node.operand, ctx, "`-`") else None

    def _Binary(self, node: a.Binary, ctx: Ctx) -> Info | None:
        left, right = self.expression(node.left, ctx), self.expression(node.right, ctx)
        if left is None or right is None:
            return None
        if not (
            self._numeric(left, node.left, ctx, f"`{node.op}`")
            and self._numeric(right, node.right, ctx, f"`{node.op}`")
        ):
            return None
        grain = g.join(left.grain, right.grain)
        if node.op in "+-":
            unified = self._unify(
                [left, right], [node.left, node.right], ctx.entry, f"both sides of `{node.op}`"
            )
            return Info(unified.type, grain) if unified else None
        unit = (
            left.type.unit * right.type.unit
            if node.op == "*"
            else (left.type.unit / right.type.unit)
        )
        return Info(Type("number", unit), grain)

    def _Compare(self, node: a.Compare, ctx: Ctx) -> Info | None:
        left, right = self.expression(node.left, ctx), self.expression(node.right, ctx)
        if left is None or right is None:
            return None
        if left.type.kind == "class" or right.type.kind == "class":
            self._type_error(
                ctx.entry,
                node,
                "a class is tested with `is`, not compared",
                "write `category is normal` or `category in (high, low)`",
            )
            return None
        if node.op not in ("==", "!=") and left.type.kind not in ("number", "date"):
            self._type_error(
                ctx.entry, node.left, f"`{node.op}` compares numbers or dates, not {left.type}"
            )
            return None
        self._unify([left, right], [node.left, node.right], ctx.entry, f"both sides of `{node.op}`")
        if left.type.kind == "number":
            self.numeric_comparisons.add(id(node))
        return Info(BOOL, g.join(left.grain, right.grain))

    def _IsClass(self, node: a.IsClass, ctx: Ctx) -> Info | None:
        return self._class_test(node.operand, (node.class_name,), node, ctx)

    def _InClasses(self, node: a.InClasses, ctx: Ctx) -> Info | None:
        return self._class_test(node.operand, node.classes, node, ctx)

    def _class_test(
        self, operand: a.Expr, names: tuple[str, ...], node: a.Node, ctx: Ctx
    ) -> Info | None:
        info = self.expression(operand, ctx)
        if info is None:
            return None
        if info.type.kind != "class" or info.type.classes_of is None:
            self._type_error(
                ctx.entry,
                operand,
                f"`is`/`in` test a classification, not {info.type}",
                "e.g. `category is normal`",
            )
            return None
        symbol = self.scope.lookup(info.type.classes_of, ctx.stage)
        classes = self._classes_of(symbol, info.type.classes_of, node, ctx.entry)
        for name in names:
            if classes is not None and name not in classes:
                self._unknown_class(name, info.type.classes_of, classes, node, ctx.entry)
        return Info(BOOL, info.grain)

    def _And(self, node: a.And, ctx: Ctx) -> Info | None:
        return self._logic([node.left, node.right], ctx, "`and`")

    def _Or(self, node: a.Or, ctx: Ctx) -> Info | None:
        return self._logic([node.left, node.right], ctx, "`or`")

    def _Not(self, node: a.Not, ctx: Ctx) -> Info | None:
        return self._logic([node.operand], ctx, "`not`")

    def _logic(self, operands: list[a.Expr], ctx: Ctx, what: str) -> Info | None:
        infos = [self._condition(op, ctx, what) for op in operands]
        if any(i is None for i in infos):
            return None
        return Info(BOOL, g.join(*(i.grain for i in infos if i is not None)))

    def _If(self, node: a.If, ctx: Ctx) -> Info | None:
        conditions = [
            self._condition(b.condition, ctx, "the condition of `if`") for b in node.branches
        ]
        exprs = [b.value for b in node.branches] + [node.otherwise]
        values = [self.expression(e, ctx) for e in exprs]
        unified = self._unify(values, exprs, ctx.entry, "the branches of `if`")
        if unified is None or any(c is None for c in conditions):
            return None
        known = [i.grain for i in [*conditions, *values] if i is not None]
        return Info(unified.type, g.join(*known))

    # ---- helpers ----
    def _condition(self, expr: a.Expr, ctx: Ctx, what: str) -> Info | None:
        info = self.expression(expr, ctx)
        if info is not None and info.type != BOOL:
            self._type_error(
                ctx.entry,
                expr,
                f"{what} must be true or false, not {info.type}",
                "write a comparison such as `cost_ratio >= 3`, or a yes/no value",
            )
            return None
        return info

    def _numeric(self, info: Info, node: a.Expr, ctx: Ctx, what: str) -> bool:
        if info.type.kind == "number":
            return True
        self._type_error(ctx.entry, node, f"{what} needs numbers, not {info.type}")
        return False

    def _unify(
        self, infos: list[Info | None], exprs: list[a.Expr], entry: Entry, what: str
    ) -> Info | None:
        known = [(i, e) for i, e in zip(infos, exprs, strict=True) if i is not None]
        if not known:
            return None
        typed = [(i, e) for i, e in known if not i.zero] or known
        first, _ = typed[0]
        for info, expr in known:
            if info.zero and first.type.kind == "number":
                continue
            if not info.type.same(first.type):
                self._mismatch(entry, expr, what, first.type, info.type)
                return None
        return first

    def _expect(self, info: Info, expected: Type, expr: a.Expr, entry: Entry, why: str) -> None:
        if info.zero and expected.kind == "number":
            return
        if not info.type.same(expected):
            code = "E303" if info.type.kind == expected.kind else "E302"
            hint = _unit_hint(expected.unit, info.type.unit) if code == "E303" else None
            self._error(entry, code, f"{why}, but this value is {info.type}", expr.span, hint)

    def _mismatch(self, entry: Entry, expr: a.Expr, what: str, first: Type, other: Type) -> None:
        if first.kind == other.kind == "number":
            self._error(
                entry,
                "E301",
                f"{what} must have the same unit: {first} and {other}",
                expr.span,
                _unit_hint(first.unit, other.unit),
            )
        else:
            self._type_error(entry, expr, f"{what} must have the same type: {first} and {other}")

    def _type_error(
        self, entry: Entry, expr: a.Node, message: str, hint: str | None = None
    ) -> None:
        self._error(entry, "E302", message, expr.span, hint)

    def _unknown_class(
        self, name: str, classification: str, classes: list[str], node: a.Node, entry: Entry
    ) -> None:
        self._error(
            entry,
            "E605",
            f"`{classification}` has no class `{name}`",
            node.span,
            did_you_mean(name, classes) or f"classes: {', '.join(classes)}",
        )

    def _error(self, entry: Entry, code: str, message: str, span: a.Span, hint: str | None) -> None:
        self.report(entry.file.source.diagnostic(code, message, span, hint))


def _arity(spec: Function) -> str:
    """`1 argument`, `1 or 2 arguments`, `2 or more arguments`."""
    low, high = spec.min_args, spec.max_args
    if high is None:
        return f"{low} or more arguments"
    if high == low:
        return f"{low} argument" + ("" if low == 1 else "s")
    return f"{low} or {high} arguments" if high == low + 1 else f"{low} to {high} arguments"


def _aggregate_hint(what: str, info: Info) -> str:
    finest = g.order(info.grain)[0] if info.grain else "case"
    if info.type.kind == "bool":
        return f"`count({finest} where {what})` or `share({finest} where {what})`"
    if info.type.kind == "number":
        return f"`sum({what})` or `mean({what})`"
    return f"`count({finest} where …)`, or `min({what})` / `max({what})`"


def _unit_hint(expected: Unit, got: Unit) -> str:
    pair = {expected, got}
    if pair == {Unit(money=1), Unit(points=1)}:
        return (
            "money and points do not mix: "
            "points × point_value → money, money ÷ point_value → points"
        )
    if Unit() in pair:
        return "give a literal its unit: `100 pt`, `¥1200` or `1200 元`; ratios are plain numbers"
    return f"expected {expected}, got {got}: check which values are multiplied or divided"
