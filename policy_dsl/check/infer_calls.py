"""Inference of calls: row-wise functions (E107, E108), aggregates that move finer values to the
definition's grain (E202, E204, E205), `allocate` and `rank`."""

from __future__ import annotations

from dataclasses import replace

from policy_dsl import ast as a
from policy_dsl import grains as g
from policy_dsl.builtins import AGGREGATES, FUNCTIONS, Function
from policy_dsl.check.infer_base import Ctx, InferenceBase, Info
from policy_dsl.check.scope import did_you_mean
from policy_dsl.types import NUMBER, TEXT, TYPE_NAMES, Type


class CallInference(InferenceBase):
    """Functions, aggregates and the window steps."""

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
        if name == "distinct":
            return NUMBER
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


def _arity(spec: Function) -> str:
    """`1 argument`, `1 or 2 arguments`, `2 or more arguments`."""
    low, high = spec.min_args, spec.max_args
    if high is None:
        return f"{low} or more arguments"
    if high == low:
        return f"{low} argument" + ("" if low == 1 else "s")
    return f"{low} or {high} arguments" if high == low + 1 else f"{low} to {high} arguments"
