"""Checks of run-monitoring indicators (运行监测指标) and their targets (考核目标): each indicator's
value inferred at every grain it lists (E161), the indicators it reads at that same grain (E162),
`previous.` and `settled.` (E163, E164), its `when`; each target against its indicator (E165).

An indicator is computed once per grain of its `for` list: `city` is the whole period (the `all`
grain of a definition), `tier`, `level`, `hospital`, `group` and `month` the keys of the same
names. Its value aggregates the cases of each row; it may read the parameters, tables, fields
and shared definitions of the policy, other indicators at its own grain, the run's case outputs
(`settled.payment`, `settled.category`…) and, for a growth rate, its own or another indicator's
value in the previous run (`previous.cmi`).
"""

from __future__ import annotations

from collections.abc import Callable

from policy_dsl import ast as a
from policy_dsl import grains as g
from policy_dsl.check.infer import Ctx, Inference, Info
from policy_dsl.check.module_memo import MEMO
from policy_dsl.check.scope import Scope, did_you_mean
from policy_dsl.diagnostics import Diagnostic
from policy_dsl.grains import CASE
from policy_dsl.loader import Entry
from policy_dsl.types import ANY_CLASSES, Type

Report = Callable[[Diagnostic], None]

#: The grains an indicator may list, by the word written, with the keys of each.
GRAINS: dict[str, g.Grain] = {
    "city": g.ALL,
    "tier": frozenset({"tier"}),
    "level": frozenset({"level"}),
    "hospital": frozenset({"hospital"}),
    "group": frozenset({"group"}),
    "month": frozenset({"month"}),
}
#: The stage-like prefixes an indicator reads: the run's case outputs, the previous run.
SETTLED, PREVIOUS = "settled", "previous"


def grain_word(grain: g.Grain) -> str:
    """The word of an indicator grain (`city` for the whole period)."""
    return next(word for word, keys in GRAINS.items() if keys == grain)


def listed_grains(decl: a.Indicator | a.Target) -> list[str]:
    """The grain words of a declaration that are grains, each once, in the order written."""
    return [w for w in dict.fromkeys(decl.grains) if w in GRAINS]


def check_indicators(scope: Scope, inference: Inference, report: Report) -> None:
    """Every indicator at every grain it lists, then every target."""
    placed = [e for e in scope.resolved.entries if _shared(e, report)]
    for entry in placed:
        if isinstance(entry.decl, a.Indicator):
            indicator = entry.decl

            def run(report: Report, entry: Entry = entry, decl: a.Indicator = indicator) -> None:
                _check_indicator(entry, decl, inference, report)

            MEMO.check(entry, inference, run)
    for entry in placed:
        if isinstance(entry.decl, a.Target):
            _check_target(entry, entry.decl, scope, inference, report)


def _shared(entry: Entry, report: Report) -> bool:
    """Whether a declaration is not an indicator or target inside a stage (E166): those are
    computed over the run's cases after its stages, so they belong to no stage."""
    decl = entry.decl
    if not isinstance(decl, a.Indicator | a.Target) or entry.stage is None:
        return True
    kind = "an indicator" if isinstance(decl, a.Indicator) else "a target"
    report(
        entry.file.source.diagnostic(
            "E166",
            f"`{decl.name}` is {kind} inside stage `{entry.stage}`",
            decl.span,
            "declare it outside the stages: indicators are computed over the run's cases once "
            "its stages have settled them",
        )
    )
    return False


def _check_indicator(entry: Entry, decl: a.Indicator, inference: Inference, report: Report) -> None:
    _check_grain_words(entry, decl, decl.grains_span or decl.span, report)
    declared = inference.named_type(decl.type, decl, entry)
    for word in listed_grains(decl):
        ctx = Ctx(entry, GRAINS[word])
        info = inference.expression(decl.expr, ctx)
        if info is not None and declared is not None:
            inference._expect(
                info, declared, decl.expr, entry, f"`{decl.name}` is declared as {declared}"
            )
        if decl.listing is not None:
            inference._condition(decl.listing, ctx, f"the `when` of `{decl.name}`")


def _check_grain_words(
    entry: Entry, decl: a.Indicator | a.Target, span: a.Span, report: Report
) -> None:
    seen: set[str] = set()
    for word in decl.grains:
        if word not in GRAINS:
            hint = did_you_mean(word, GRAINS) or f"grains: {', '.join(GRAINS)}"
            report(
                entry.file.source.diagnostic(
                    "E161", f"`{word}` is not a grain an indicator is computed for", span, hint
                )
            )
        elif word in seen:
            report(
                entry.file.source.diagnostic(
                    "E161", f"grain `{word}` is listed twice", span, "list each grain once"
                )
            )
        seen.add(word)


def _check_target(
    entry: Entry, decl: a.Target, scope: Scope, inference: Inference, report: Report
) -> None:
    _check_grain_words(entry, decl, decl.span, report)
    symbol = scope.lookup(decl.indicator, entry.stage)
    indicator = symbol.entry.decl if symbol is not None and symbol.entry is not None else None
    if not isinstance(indicator, a.Indicator):
        names = [e.decl.name for e in scope.resolved.entries if isinstance(e.decl, a.Indicator)]
        report(
            entry.file.source.diagnostic(
                "E165",
                f"target `{decl.name}`: `{decl.indicator}` is not an indicator",
                decl.span,
                did_you_mean(decl.indicator, names) or "a target checks an `indicator`",
            )
        )
        return
    if decl.per not in (None, "year"):
        report(
            entry.file.source.diagnostic(
                "E165",
                f"target `{decl.name}`: `per {decl.per}` is not a period a target is judged over",
                decl.span,
                "write `per year` for a yearly target (年度目标), judged only on a run of a whole "
                "year; without `per` a target is judged on every period",
            )
        )
    computed = listed_grains(indicator)
    for word in listed_grains(decl):
        if word not in computed:
            report(
                entry.file.source.diagnostic(
                    "E165",
                    f"target `{decl.name}`: `{indicator.name}` is not computed for {word}",
                    decl.span,
                    f"`{indicator.name}` is computed for {', '.join(computed)}",
                )
            )
    threshold = inference.expression(decl.threshold, Ctx(entry, g.ALL))
    declared = inference.named_type(indicator.type, indicator, entry)
    if threshold is not None and declared is not None:
        inference._expect(
            threshold,
            declared,
            decl.threshold,
            entry,
            f"`{indicator.name}` is {declared}, so its target must be too",
        )


def reads_indicator(ctx: Ctx, decl: a.Indicator, node: a.Node, inference: Inference) -> Info | None:
    """Another indicator read by name: only by an indicator, at a grain both are computed for."""
    reader = ctx.entry.decl
    declared = inference.named_type(decl.type, decl, ctx.entry)
    if not isinstance(reader, a.Indicator):
        inference._error(
            ctx.entry,
            "E162",
            f"`{decl.name}` is an indicator: only indicators read it",
            node.span,
            "compute the value with `let` and read that, or make this an `indicator`",
        )
        return None
    if ctx.target is None or grain_word(ctx.target) not in listed_grains(decl):
        where = "inside an aggregate" if ctx.target is None else f"for {grain_word(ctx.target)}"
        inference._error(
            ctx.entry,
            "E162",
            f"`{decl.name}` is read {where}, but it is computed for "
            f"{', '.join(listed_grains(decl))}",
            node.span,
            "an indicator reads another at its own grain: list the grain in both",
        )
        return None
    inference.edges.setdefault((ctx.stage, reader.name), set()).add((None, decl.name))
    return Info(declared, ctx.target) if declared else None


def previous_value(node: a.StageRef, ctx: Ctx, inference: Inference) -> Info | None:
    """`previous.<indicator>`: that indicator's value for the same key in the previous run
    (`settle --previous`), read by an indicator at its own grain."""
    reader = ctx.entry.decl
    symbol = inference.scope.lookup(node.name, None)
    decl = symbol.entry.decl if symbol is not None and symbol.entry is not None else None
    problem = hint = None
    if not isinstance(reader, a.Indicator):
        problem, hint = "only an indicator reads the previous run", _GROWTH
    elif not isinstance(decl, a.Indicator):
        problem = f"`{node.name}` is not an indicator: the previous run keeps only indicators"
        hint = did_you_mean(node.name, _indicator_names(inference.scope)) or _GROWTH
    elif ctx.target is None or grain_word(ctx.target) not in listed_grains(decl):
        where = "inside an aggregate" if ctx.target is None else f"for {grain_word(ctx.target)}"
        problem = f"`previous.{node.name}` is read {where}, but `{node.name}` is computed for "
        problem += ", ".join(listed_grains(decl))
        hint = "the previous value is read for the same key, at the indicator's own grain"
    elif "month" in reader.grains:
        problem = f"`{reader.name}` is computed for month: a month of this run is no month of "
        problem += "the previous run (last year's 2023-03 is not 2024-03)"
        hint = "compute a growth rate for city, tier, level, hospital or group"
    if problem is not None or not isinstance(decl, a.Indicator):
        inference._error(ctx.entry, "E163", problem or "", node.span, hint)
        return None
    declared = inference.named_type(decl.type, decl, ctx.entry)
    return Info(declared, ctx.target) if declared and ctx.target is not None else None


_GROWTH = "e.g. `indicator cmi_growth … = cmi / previous.cmi - 1`"


def _indicator_names(scope: Scope) -> list[str]:
    return [e.decl.name for e in scope.resolved.entries if isinstance(e.decl, a.Indicator)]


def settled_value(node: a.StageRef, ctx: Ctx, inference: Inference) -> Info | None:
    """`settled.<output>`: a case output of the run (`payment`, `category`…, the columns of its
    `cases.csv`), as the last stage the run settled gave it; read by indicators only."""
    from policy_dsl.check.structure import OUTPUTS, output_scopes

    header = inference.scope.resolved.top.header
    outputs = (
        [n for n in OUTPUTS["points"] if n in OUTPUTS["rate"]]
        if header.library
        else list(OUTPUTS.get(header.method or "", {}))
    )
    if not isinstance(ctx.entry.decl, a.Indicator) or node.name not in outputs:
        problem = (
            "only an indicator reads the run's case outputs"
            if not isinstance(ctx.entry.decl, a.Indicator)
            else f"`{node.name}` is not a case output of the run"
        )
        inference._error(
            ctx.entry,
            "E164",
            f"`settled.{node.name}`: {problem}",
            node.span,
            f"case outputs{' of every method' if header.library else ''}: {', '.join(outputs)}",
        )
        return None
    if header.library:
        typed = OUTPUTS["points"][node.name]
        found = Info(typed or Type("class", classes_of=ANY_CLASSES), CASE)
    else:
        infos = [inference.definition_in(node.name, s) for s in output_scopes(inference.scope)]
        known = [i for i in infos if i is not None]
        if not known:
            return None  # the output itself is reported (E801, E802)
        found = Info(known[0].type, CASE)
    return inference._leaf(f"settled.{node.name}", found, node, ctx)
