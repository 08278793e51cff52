"""Re-settlement from an earlier run (增量重算): when a policy differs from an already settled one
in a few parameters, table rows, fixed values or definitions, only the definitions that read them
(directly or through others, in any stage) are evaluated again; every other value is the earlier
run's, and the input data (cut to the period) is shared.

The result equals a full `settle` value for value (a property test checks it). Two policies share
a run only when their stages and payment method are the same (an input declared anew changes
what reads it, as a parameter's value does); otherwise every definition is evaluated, still on
the shared data. A per-case definition that differs only where the cases it reads changed is
evaluated on those cases alone (`changed_cases`).

What a change reaches is known only as it runs: a threshold's step that moves no case leaves
the class as it was, and then nothing that reads the class changes either. So a definition
evaluated again whose values turn out equal to the earlier run's (every row, a missing value
and the sign of a zero included) is noted unchanged, and a definition that reads nothing
changed but such ones keeps the earlier run's values instead of being evaluated (剪枝: the
same inputs give the same values). A step of a count threshold that no group's count lies
between re-evaluates the stable-group test alone, not the classes and the payments.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator, Mapping, Set
from typing import Any

import polars as pl

from engine.plan.polars.batch import Settings, StageResult, StageRun
from engine.run.resettled import ResettledFrom
from engine.run.settle import Settlement, stages_for
from engine.whatif.changed_cases import ChangedCases, differing, row_wise
from policy_dsl import ir
from policy_dsl.check.indicators import SETTLED
from policy_dsl.grains import CASE

#: Per stage, the definitions to evaluate again.
Affected = dict[str, set[str]]
#: Re-settlements run at once on threads (the exposure's shifts, the attribution's clauses;
#: each holds one settlement's new columns in memory; polars computes without the
#: interpreter's lock).
WORKERS = max(1, min(4, os.cpu_count() or 1))


def resettle(
    earlier: Settlement,
    policy: ir.Policy,
    settings: Settings | None = None,
    only: Set[tuple[str, str]] | None = None,
) -> Settlement:
    """`policy` settled on the data and period of `earlier`, re-using what did not change;
    with `only` ((stage, name) pairs that hold every definition they read), a definition
    outside it that the change reaches is not evaluated: the run has no value of it (nor
    indicators taken from `earlier`: `engine.run.resettled`)."""
    settings = settings or Settings()
    affected = affected_definitions(earlier, policy, settings)
    changed = _changed_inputs(earlier.policy, earlier.settings, policy, settings)
    result = Settlement(policy, earlier.period, earlier.inputs, earlier.data, settings)
    for stage in stages_for(policy, earlier.period):
        previous = earlier.stages.get(stage.name) if affected is not None else None
        redo = affected.get(stage.name, set()) if affected is not None else set()
        run = _Rerun(policy, stage, earlier, result.stages, settings, previous, redo)
        if previous is not None and affected is not None:
            run.by_cases = _by_cases(earlier.policy, stage, changed, affected)
            before = earlier.policy.stage(stage.name)
            run.cutoff = _Cutoff(before, changed, affected, _read_by(policy, only))
        if only is not None:
            run.skip = {d.name for d in stage.definitions if (stage.name, d.name) not in only}
        result.stages[stage.name] = run.run()
        if affected is not None and run.cutoff is not None:
            affected[stage.name] = redo - run.cutoff.unchanged
    indicators = affected_indicators(earlier, result, affected) if only is None else None
    if indicators is not None:
        result.resettled_from = ResettledFrom(weakref.ref(earlier), frozenset(indicators))
    return result


def affected_definitions(
    earlier: Settlement, policy: ir.Policy, settings: Settings
) -> Affected | None:
    """The definitions of each stage whose values may differ from `earlier`'s, or None when the
    two policies cannot share a run."""
    before = earlier.policy
    if not _same_shape(before, policy):
        return None
    changed = _changed_inputs(before, earlier.settings, policy, settings)
    affected: Affected = {}
    for stage in policy.stages:
        old = {d.name: d for d in before.stage(stage.name).definitions}
        mine = affected.setdefault(stage.name, set())
        for definition in stage.definitions:
            if _differs(old.get(definition.name), definition, stage.name, changed, affected):
                mine.add(definition.name)
    return affected


def affected_indicators(
    earlier: Settlement, later: Settlement, affected: Affected | None
) -> set[str] | None:
    """The monitoring stage's definitions of `later` whose values may differ from `earlier`'s
    (`affected` those of the other stages), or None when none can be taken from it."""
    before, after = earlier.policy.monitoring, later.policy.monitoring
    if affected is None or before is None or after is None:
        return None
    changed = _changed_inputs(earlier.policy, earlier.settings, later.policy, later.settings)
    settled = [r.stage.name for r in later.stages.values() if r.stage.settles_cases][-1]
    scope = {**affected, SETTLED: affected.get(settled, set()), after.name: set()}
    old = {d.name: d for d in before.definitions}
    for definition in after.definitions:
        if _differs(old.get(definition.name), definition, after.name, changed, scope):
            scope[after.name].add(definition.name)
    return scope[after.name]


def _differs(
    previous: ir.Definition | None,
    definition: ir.Definition,
    stage: str,
    changed: set[str],
    affected: Affected,
) -> bool:
    """Whether a definition's value may differ from the earlier run's: new, rewritten, fixed
    or given anew, or reading what may differ (`affected`, filled in dependency order)."""
    return (
        previous is None
        or _meaning(previous) != _meaning(definition)
        or definition.name in changed
        or any(_reads_changed(ref, stage, changed, affected) for ref in _reads(definition))
    )


def _by_cases(
    before: ir.Policy, stage: ir.Stage, changed: set[str], affected: Affected
) -> dict[str, list[str]]:
    """The definitions of `stage` that may differ from the earlier run's only because per-case
    values of the stage they read do — not rewritten, reading no changed input, row-wise
    (`changed_cases`) — each with the definitions it reads that may differ."""
    old = {d.name: d for d in before.stage(stage.name).definitions}
    redo = affected.get(stage.name, set())
    found = {}
    for definition in stage.definitions:
        previous = old.get(definition.name)
        if definition.name not in redo or definition.name in changed or previous is None:
            continue
        if _meaning(previous) != _meaning(definition) or not row_wise(definition):
            continue
        reads = [r for r in _reads(definition) if _reads_changed(r, stage.name, changed, affected)]
        if all(where in (None, stage.name) and name in redo for where, name in reads):
            found[definition.name] = [name for _, name in reads]
    return found


def count_affected(earlier: Settlement, policy: ir.Policy, settings: Settings) -> int:
    """How many definitions a re-settlement from `earlier` evaluates (all, when none is shared)."""
    affected = affected_definitions(earlier, policy, settings)
    if affected is None:
        return sum(len(s.definitions) for s in policy.stages)
    return sum(len(names) for names in affected.values())


def _same_shape(before: ir.Policy, after: ir.Policy) -> bool:
    def shape(p: ir.Policy) -> Any:
        stages = [(s.name, s.period, s.settles_cases) for s in p.stages]
        return p.method, stages

    return bool(shape(before) == shape(after))


def _changed_inputs(before: ir.Policy, old: Settings, after: ir.Policy, new: Settings) -> set[str]:
    """Parameters, tables, fixed definitions and declared inputs whose values (or declarations:
    a budget's grain, an input added) differ."""
    params = _differing(_param_values(before, old), _param_values(after, new))
    tables = _differing(
        {t.name: t.rows for t in before.tables}, {t.name: t.rows for t in after.tables}
    )
    fixed = _differing(dict(old.definitions), dict(new.definitions))
    inputs = _differing(
        {i.name: i.model_dump(exclude={"label", "citations"}) for i in before.inputs},
        {i.name: i.model_dump(exclude={"label", "citations"}) for i in after.inputs},
    )
    return params | tables | fixed | inputs


def _param_values(policy: ir.Policy, settings: Settings) -> dict[str, Any]:
    return {p.name: settings.params.get(p.name, p.value) for p in policy.params}


def _differing(first: Mapping[str, Any], second: Mapping[str, Any]) -> set[str]:
    return {k for k in {*first, *second} if first.get(k) != second.get(k)}


def _meaning(definition: ir.Definition) -> Any:
    return definition.grain, definition.type, definition.expr


def _reads_changed(
    ref: tuple[str | None, str], stage: str, changed: set[str], affected: Affected
) -> bool:
    where, name = ref
    if where is None:
        return name in changed or name in affected[stage]
    return name in affected.get(where, set())


def _reads(definition: ir.Definition) -> Iterator[tuple[str | None, str]]:
    """Parameters, tables, input columns and definitions an expression reads (with the stage of
    an earlier stage's value)."""
    yield from _walk(definition.expr)


def _walk(node: Any) -> Iterator[tuple[str | None, str]]:
    if isinstance(node, list):
        for item in node:
            yield from _walk(item)
        return
    if not isinstance(node, ir.Model):
        return
    if isinstance(node, ir.ParamRef | ir.TableLookup):
        yield None, node.name
    elif isinstance(node, ir.FieldRef):
        yield None, node.column
    elif isinstance(node, ir.Ref):
        yield node.stage, node.name
    for name in type(node).model_fields:
        yield from _walk(getattr(node, name))


class _Rerun(StageRun):
    """A stage run that starts from an earlier run's frames and evaluates only `redo`."""

    def __init__(
        self,
        policy: ir.Policy,
        stage: ir.Stage,
        earlier: Settlement,
        done: Mapping[str, StageResult],
        settings: Settings,
        previous: StageResult | None,
        redo: set[str],
    ) -> None:
        super().__init__(policy, stage, earlier.data, done, settings)
        self.previous = previous
        if previous is None:
            return
        keep = {d.name for d in stage.definitions} - redo
        stale = _stale_columns(previous, keep, earlier.policy, redo)
        self.frames = {
            g: f.drop([c for c in f.columns if c in stale]) for g, f in previous.frames.items()
        }
        self.home = {name: grain for name, grain in previous.home.items() if name in keep}
        self.fallthrough = {n: f for n, f in previous.fallthrough.items() if n in keep}
        if CASE in previous.frames:
            self.cases = ChangedCases(previous.frames[CASE])

    #: the definitions of `redo` found equal to the earlier run's, and which it keeps
    cutoff: _Cutoff | None = None
    #: the definitions evaluated on the changed cases alone, with what they read that changed
    #: (`_by_cases`), and where the values evaluated again differ from the earlier run's
    by_cases: Mapping[str, list[str]] = {}
    cases: ChangedCases | None = None

    def evaluates(self, definition: ir.Definition) -> bool:
        name = definition.name
        return name not in self.home and super().evaluates(definition)

    def define(self, definition: ir.Definition) -> None:
        name = definition.name
        if name in self.home or self._kept(definition):
            return
        reads = self.by_cases.get(name)
        if reads is not None and self.cutoff is not None:
            reads = [r for r in reads if r not in self.cutoff.unchanged]
        on_cases = self.effective(definition.grain) == CASE and reads is not None
        mask = self.cases.rows(reads) if self.cases and on_cases and reads else None
        if mask is None:
            super().define(definition)
        else:
            self._define_on(definition, mask)
        watched = self.cases is not None and any(name in r for r in self.by_cases.values())
        if self.cases is not None and watched and self.home[name] == CASE:
            self.cases.record(name, self.frames[CASE])
        if self.cutoff is not None and name in self.cutoff.read:
            self._note_if_unchanged(name)

    def _kept(self, definition: ir.Definition) -> bool:
        """Take `definition`'s values from the earlier run where it reads nothing that changed
        (`_Cutoff.keeps`): True when they were taken."""
        previous, name = self.previous, definition.name
        if self.cutoff is None or previous is None or not self.cutoff.keeps(definition):
            return False
        grain = previous.home.get(name)
        frame = self.frames.get(grain) if grain is not None else None
        if grain is None or frame is None or frame.height != previous.frames[grain].height:
            return False
        self.frames[grain] = frame.with_columns(previous.frames[grain][name])
        self.home[name] = grain
        if name in previous.fallthrough:
            self.fallthrough[name] = previous.fallthrough[name]
        self.cutoff.unchanged.add(name)
        return True

    def _note_if_unchanged(self, name: str) -> None:
        """Note `name` unchanged where its values equal the earlier run's on every row."""
        assert self.cutoff is not None
        previous, grain = self.previous, self.home[name]
        if previous is None or previous.home.get(name) != grain:
            return
        before, after = previous.frames[grain][name], self.frames[grain][name]
        if before.dtype != after.dtype or len(before) != len(after):
            return
        watched = self.cases.changed.get(name) if self.cases is not None else None
        differs = watched if watched is not None and grain == CASE else differing(after, before)
        if not differs.any():
            self.cutoff.unchanged.add(name)

    def _define_on(self, definition: ir.Definition, mask: pl.Series) -> None:
        """Evaluate a per-case definition on the cases of `mask` alone (`changed_cases`)."""
        assert self.cases is not None
        cases = self.frames[CASE]
        part = pl.Series(definition.name, [])
        if mask.any():
            self.frames[CASE] = cases.filter(mask)
            super().define(definition)
            part = self.frames[CASE][definition.name]
        self.frames[CASE] = self.cases.merged(definition.name, cases, mask, part)
        self.home[definition.name] = CASE


class _Cutoff:
    """Which definitions of a stage's re-run keep the earlier run's values though the change
    may reach them: those reading only what turned out unchanged (`unchanged`, filled as the
    run goes). `read` are the definitions some definition reads (only they are compared)."""

    def __init__(
        self, before: ir.Stage, changed: set[str], affected: Affected, read: Set[str]
    ) -> None:
        self.stage = before.name
        self.old = {d.name: d for d in before.definitions}
        self.changed = changed
        self.affected = affected
        self.unchanged: set[str] = set()
        self.read = read

    def keeps(self, definition: ir.Definition) -> bool:
        previous = self.old.get(definition.name)
        if previous is None or definition.name in self.changed:
            return False
        if _meaning(previous) != _meaning(definition):
            return False
        return not any(self._changed(ref) for ref in _reads(definition))

    def _changed(self, ref: tuple[str | None, str]) -> bool:
        where, name = ref
        if where is None:
            redo = self.affected.get(self.stage, set())
            return name in self.changed or (name in redo and name not in self.unchanged)
        return name in self.affected.get(where, set())


def _read_by(policy: ir.Policy, only: Set[tuple[str, str]] | None) -> set[str]:
    """The names the definitions a run evaluates read (`only`'s, else every stage's and the
    indicators'): a value no one reads is not compared with the earlier run's."""
    stages = [*policy.stages, *([policy.monitoring] if policy.monitoring else [])]
    return {
        name
        for stage in stages
        for d in stage.definitions
        if only is None or (stage.name, d.name) in only
        for _, name in _reads(d)
    }


def _stale_columns(
    previous: StageResult, keep: set[str], before: ir.Policy, redo: set[str]
) -> set[str]:
    """Columns that may hold an outdated value: every definition not kept (and its copies in
    other frames), and the copies of earlier stages' values."""
    own = set(previous.home) - keep
    earlier = {
        f"{s.name}.{d.name}"
        for s in before.stages
        for d in s.definitions
        if s.name != previous.stage.name
    }
    return own | redo | earlier
