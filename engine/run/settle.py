"""Settlement by stage: the Python API that settlement jobs (and the CLI) call.

    policy = load_policy("policies/xuancheng/2024.policy")
    inputs = load_data("sample", policy)
    result = settle(policy, inputs, Period.parse("2024"))
    result.cases("settlement")        # per-case results (polars)
    write_outputs(result, Path("out"))

Stages run in order. For a month or a quarter, the stages up to the last `per month` stage
run (a year-start stage included, a year-end stage not); for a year, every stage runs — or,
given the twelve monthly runs' outputs (`engine.inputs.earlier`), the `per month` stages are taken
as those runs paid them. A policy without stages has one stage, `settlement`, which runs over
whatever period it is given.

Before anything runs, `settle` refuses (a `PolicyError`) a period without cases, input files
without a column whose default would be a guess (`FieldSpec.neutral`) that the stages read, and
a hospital with cases but without a score of an assessment they read (`engine.inputs.supervision`).
With `any_date=False` it also refuses a period outside the policy's effective dates and a budget of
another year (`check_dates`) — what `drgpolicy settle` does unless `--any-date` is given. The
default, `any_date=True`, settles any data under any version: what-ifs compare two versions on
the same data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import polars as pl

from engine.inputs.budget import BudgetInput
from engine.inputs.contract import ContractError, Inputs, load_inputs
from engine.inputs.earlier import Earlier, read_later
from engine.inputs.fields import TABLES, Dtype, FieldSpec, rule_text
from engine.inputs.previous import Previous
from engine.inputs.rundata import Period, RunData
from engine.inputs.stored import count, distinct, store_of
from engine.inputs.supervision import (
    SUPERVISION_TABLES,
    Declared,
    check_scores,
    in_period,
    load_supervision,
)
from engine.plan.polars.batch import KEY_COLUMNS, Settings, StageResult, StageRun, key_columns
from engine.plan.polars.fallthrough import Fallthrough
from engine.plan.polars.keys import KeyCodes, bring_values
from engine.run.compile_cache import compile_cached
from engine.run.progress import step
from policy_dsl import grains as g
from policy_dsl import ir
from policy_dsl.check.indicators import SETTLED
from policy_dsl.errors import PolicyError
from policy_dsl.lower import compile_file

if TYPE_CHECKING:
    from engine.plan.sql.backends import SqlStages
    from engine.plan.sql.database import Database
    from engine.run.indicators import Evaluated
    from engine.run.resettled import ResettledFrom

ENGINE_VERSION = "0.1.0"


def load_policy(path: Path | str) -> ir.Policy:
    """Compile a policy file (raises `PolicyErrors` if it does not check); a file compiled
    before with the same files and compiler is read back from the compile cache
    (`engine.run.compile_cache`)."""
    return compile_cached(path, compile_file)


def load_data(
    data_dir: Path | str,
    policy: ir.Policy,
    encoding: str = "utf8",
    database: Database | None = None,
) -> Inputs:
    """Read and validate a data folder against the contract and the policy's own inputs
    (`encoding`: that of the CSV files, `engine.inputs.reading.ENCODINGS`); on a DuckDB
    `database` the case file is checked in the database (`engine.plan.sql.validation`)."""
    extra, budget = policy_fields(policy)
    folder = data_folder(data_dir)
    inputs = load_inputs(
        folder, extra=extra, budget_names=budget, encoding=encoding, database=database
    )
    return load_supervision(folder, inputs, Declared.of(policy), encoding)


def policy_fields(policy: ir.Policy) -> tuple[dict[str, list[FieldSpec]], list[BudgetInput]]:
    """The columns a policy adds to the cases, hospitals and groups (`input case …`), and the
    budget figures it reads (`input budget …`)."""
    extra: dict[str, list[FieldSpec]] = {}
    for declared in policy.inputs:
        table = declared.table + "s"
        if declared.table != "budget" and table not in SUPERVISION_TABLES:
            extra.setdefault(table, []).append(_field_spec(declared))
    return extra, [budget_input(i) for i in policy.inputs if i.table == "budget"]


def data_folder(data_dir: Path | str) -> Path:
    """The data folder, which must exist."""
    folder = Path(data_dir)
    if not folder.is_dir():
        what = (
            "does not exist"
            if not folder.exists()
            else "is a file, not a folder"
            if folder.is_file()
            else "is a device or a pipe, not a folder"
        )
        raise ContractError(
            str(folder),
            None,
            f"data folder {folder} {what}; give the folder that "
            "holds cases, hospitals and groups (.csv or .parquet) and budget.yaml",
        )
    return folder


def budget_input(declared: ir.Input) -> BudgetInput:
    """A policy's budget figure: one amount, or one per key of its grain (`at tier`)."""
    per = declared.grain[0] if declared.grain else None
    return BudgetInput(declared.name, per, declared.label)


_DEFAULTS: dict[str, str | float | bool | None] = {
    "money": 0.0,
    "number": 0.0,
    "bool": False,
    "text": "",
    "date": None,
}


def _field_spec(declared: ir.Input) -> FieldSpec:
    """A policy's own input column; optional (0, false or empty when absent) unless a date."""
    dtype = _dtype(declared.type)
    return FieldSpec(
        name=declared.name,
        dtype=dtype,
        required=dtype == "date",
        default=_DEFAULTS[dtype],
        description=declared.label,
    )


def _dtype(typ: ir.TypeIR) -> Dtype:
    if typ.kind == "number":
        return "money" if typ.money == 1 else "number"
    if typ.kind == "bool":
        return "bool"
    return "date" if typ.kind == "date" else "text"


@dataclass
class _Monitored:
    """A run's indicators evaluated at some grains, and their long table once made."""

    evaluated: Evaluated | None
    table: pl.DataFrame | None = None


@dataclass
class Settlement:
    """The outcome of one run: every evaluated stage, with the inputs it ran on."""

    policy: ir.Policy
    period: Period
    inputs: Inputs
    data: RunData
    settings: Settings = field(default_factory=Settings)
    stages: dict[str, StageResult] = field(default_factory=dict)
    #: whether the period was allowed outside the policy's dates (and another budget year)
    any_date: bool = True
    #: the stages taken from earlier runs instead of being settled again (`engine.inputs.earlier`)
    earlier: Earlier | None = None
    #: the backend that evaluated the stages (`engine.plan.sql.backends`) and its version
    backend: str = "polars"
    backend_version: str = pl.__version__
    #: the previous run the indicators' growth rates read (`settle --previous`)
    previous: Previous | None = None
    #: the run this one was re-settled from, and what of its indicators may differ
    #: (`engine.whatif.rerun`): the indicators that do not are taken from it
    resettled_from: ResettledFrom | None = field(default=None, repr=False, compare=False)
    #: on a SQL backend, its stages' tables in the database (the outputs may be written there
    #: while the database is open: `engine.run.case_file`)
    sql: SqlStages | None = field(default=None, repr=False, compare=False)
    #: the evaluated indicators, and their table once made, by the grains evaluated (None: all)
    _monitoring: dict[frozenset[str] | None, _Monitored] = field(default_factory=dict, repr=False)
    #: the explainers of its stages, by name (`engine.explainer.explain.explainer_of`)
    explainers: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    #: the hospitals' statement and the period's summary of each settling stage, once made
    #: (`engine.run.outputs.stage_statements`): the settle command's summary reads them again,
    #: and on DuckDB each making reads every case from the database
    statements: dict[str, dict[str, pl.DataFrame]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def monitoring(self, grains: frozenset[str] | None = None) -> Evaluated | None:
        """The run's indicators evaluated (once; `engine.run.indicators`), only at `grains`
        when given: None for a policy without indicators."""
        return self._monitored(grains).evaluated

    def _monitored(self, grains: frozenset[str] | None) -> _Monitored:
        if grains not in self._monitoring:
            from engine.run.indicators import evaluate

            self._monitoring[grains] = _Monitored(evaluate(self, grains))
        return self._monitoring[grains]

    def kept_monitoring(self, grains: frozenset[str] | None) -> Evaluated | None:
        """The indicators evaluated so far at every grain or at `grains`; nothing evaluated."""
        found = self._monitoring.get(None) or self._monitoring.get(grains)
        return found.evaluated if found is not None else None

    def indicators(self, grains: Collection[str] | None = None) -> pl.DataFrame:
        """The run's indicators as the long table of `indicators.csv` (once); with `grains`
        (`city`, `level`…), its rows at those grains — evaluated at them alone while the whole
        table is not: a what-if shows the city and the levels, and need not evaluate every
        group's and hospital's."""
        from engine.run.indicators import indicator_table

        whole = self._monitoring.get(None)
        shown = None if grains is None or (whole and whole.table is not None) else frozenset(grains)
        monitored = self._monitored(shown)
        if monitored.table is None:
            monitored.table = indicator_table(self, shown)
        if grains is None or shown is not None:
            return monitored.table
        return monitored.table.filter(pl.col("grain").is_in(list(grains)))

    def settling_stages(self) -> list[str]:
        """The stages this run settled cases in (a stage taken from earlier runs is not)."""
        taken = self.earlier.cases if self.earlier else {}
        return [
            name for name, r in self.stages.items() if r.stage.settles_cases and name not in taken
        ]

    def outputs(self) -> list[str]:
        """The per-case output columns of the policy's method."""
        return output_names(self.policy.method)

    def case_values(self, stage: str) -> list[str]:
        """The per-case values a settling stage's cases table holds: the method's outputs, then
        every other per-case value a later stage reads (so that a year's run can take this stage
        from its files: `engine.inputs.earlier`)."""
        outputs = self.outputs()
        home = self.stages[stage].home
        later = [
            name
            for name in read_later(self.policy, stage)
            if name not in outputs and home.get(name) == g.CASE
        ]
        return [*outputs, *later]

    def cases(self, stage: str | None = None) -> pl.DataFrame:
        """Per-case results of a settling stage (the last one by default)."""
        result = self.stages[stage or self.settling_stages()[-1]]
        return case_results(result, self.outputs(), self.data.codes)

    def missing_outputs(self) -> dict[str, dict[str, int]]:
        """Per settling stage, the cases without a class, settled points (or weight) or
        payment (see `missing_in`) — never silent."""
        found = {
            stage: missing_in(self.cases(stage), self.outputs()) for stage in self.settling_stages()
        }
        return {stage: counts for stage, counts in found.items() if counts}

    def cases_paid_below_zero(self) -> dict[str, int]:
        """Per settling stage, how many cases are paid less than zero (`paid_below_zero`):
        {} in a sound run. The CLI fails such a run; an API caller checks this as it checks
        `missing_outputs`."""
        found = {stage: paid_below_zero(self.cases(stage))[0] for stage in self.settling_stages()}
        return {stage: count for stage, count in found.items() if count}

    def fallthrough(self) -> dict[str, dict[str, Fallthrough]]:
        """Per stage run here, per classification, the cases whose class condition read a
        missing value and so fell through to a later class (`engine.plan.polars.fallthrough`)."""
        taken = self.earlier.cases if self.earlier else {}
        return {
            name: dict(result.fallthrough)
            for name, result in self.stages.items()
            if result.fallthrough and name not in taken
        }

    @property
    def rows(self) -> dict[str, int]:
        """Input rows = settled + rejected + outside the period, for the cases file."""
        read = self.inputs.rows_read["cases"]
        rejected = int((self.inputs.rejects["file"].str.starts_with("cases")).sum())
        settled = count(self.data)
        return {
            "read": read,
            "rejected": rejected,
            "outside_period": read - rejected - settled,
            "settled": settled,
        }

    def rejected_because(self) -> dict[str, dict[str, int]]:
        """Cases rejected because of their hospital or group (`Inputs.rejected_because`)."""
        return self.inputs.rejected_because()


def missing_in(cases: pl.DataFrame, outputs: list[str]) -> dict[str, int]:
    """How many cases have no class, settled points (or weight) or payment — e.g. a payment
    that could not be computed because an input it needs is absent. (Base points are
    legitimately absent for ungrouped cases.)"""
    counts = cases.select(pl.col(_decisive(outputs)).null_count()).row(0, named=True)
    return {name: n for name, n in counts.items() if n}


def missing_cases(cases: pl.DataFrame, outputs: list[str], limit: int = 5) -> list[str]:
    """The first `limit` case ids (by id) without a class, settled points (or weight) or payment."""
    incomplete = pl.any_horizontal(pl.col(_decisive(outputs)).is_null())
    return cases.filter(incomplete)["case_id"].sort().head(limit).to_list()


def paid_below_zero(cases: pl.DataFrame, limit: int = 5) -> tuple[int, list[str]]:
    """How many cases are paid less than zero, and the first `limit` of them (by id). A DRG
    payment is never negative; one is when the money left for the cases is below zero — a
    budget written too small, or payments made first from it (per diem, other methods) larger
    than it — and a run must not hand it over as a settlement."""
    if "payment" not in cases.columns:
        return 0, []
    below = cases.filter(pl.col("payment") < 0)["case_id"]
    return below.len(), below.sort().head(limit).to_list()


def _decisive(outputs: list[str]) -> list[str]:
    return [n for n in outputs if n in ("category", "payment") or n.startswith("settled_")]


def output_names(method: str) -> list[str]:
    points = ["base_points", "case_points", "coefficient", "settled_points", "point_value"]
    rate = ["base_weight", "case_weight", "coefficient", "settled_weight", "rate"]
    return ["category", *(points if method == "points" else rate), "payment"]


def stages_for(policy: ir.Policy, period: Period) -> list[ir.Stage]:
    """The stages a period runs (see the module docstring)."""
    if period.is_year:
        return list(policy.stages)
    monthly = [i for i, s in enumerate(policy.stages) if s.period == "month"]
    last = monthly[-1] if monthly else len(policy.stages) - 1
    return list(policy.stages[: last + 1])


def settle(
    policy: ir.Policy,
    inputs: Inputs,
    period: Period,
    settings: Settings | None = None,
    *,
    any_date: bool = True,
    earlier: Earlier | None = None,
    previous: Previous | None = None,
    backend: str | Database = "polars",
    written_only: bool = False,
) -> Settlement:
    """Run the policy's stages over the inputs for one period (see the module docstring for what
    is refused first); the stages `earlier` holds are taken as earlier runs left them. `backend`:
    `polars` (the default), `duckdb` or `spark`, or an open database (`engine.plan.sql.backends`:
    a DuckDB with a memory limit, a Spark on the caller's SparkSession). With `written_only`,
    every backend computes only the definitions that the outputs read (`definitions_written`:
    what `drgpolicy settle` writes); the run then has no value of the others, nor checks them
    (an explanation, an example, a what-if settle the whole policy)."""
    settings = settings or Settings()
    stages = stages_for(policy, period)
    if not any_date:
        check_dates(policy, inputs, period)
    read = fields_read(stages, output_names(policy.method), settings.definitions)
    check_columns(policy, inputs, read)
    check_budget_money(inputs, read)
    data = run_data(inputs, period)
    check_not_empty(inputs, data)
    check_scores(policy, inputs, data, read)
    result = Settlement(
        policy,
        period,
        inputs,
        data,
        settings,
        any_date=any_date,
        earlier=earlier,
        previous=previous,
    )
    skip = left_out(stages, definitions_written(policy, stages)) if written_only else {}
    if backend == "polars":
        run_stage = _polars_stages(policy, data, settings, skip)
    else:
        from engine.plan.sql.backends import SqlStages, open_database

        database = open_database(backend) if isinstance(backend, str) else backend
        result.sql = SqlStages(policy, stages, data, settings, database, skip)
        run_stage = result.sql.run
        result.backend, result.backend_version = database.name, database.version
    for stage in stages:
        if earlier and stage.name in earlier.cases:
            result.stages[stage.name] = earlier.result(stage)
            continue
        with step(f"stage {stage.name}"):
            result.stages[stage.name] = run_stage(stage, result.stages)
    return result


def run_data(inputs: Inputs, period: Period) -> RunData:
    """The inputs cut to `period`, each case with its hospital's level and tier and the integer
    codes of its keys (`RunData.build`: a quarter to a third of a settlement of 1M cases) — made
    once per dataset and period and kept with the inputs (`Inputs.prepared`), so that every
    settlement of the same data (what-if versions and shifts, the studio's re-runs, a
    benchmark's rounds) re-uses it. The frames are never changed in place."""
    found: RunData | None = inputs.prepared.get(period)
    if found is None:
        store = store_of(inputs)
        tables = (inputs.hospitals, inputs.groups, inputs.budget, period)
        supervised = in_period(inputs, period)
        if store is None:
            found = RunData.build(inputs.cases, *tables, supervised)
        else:
            kept = store

            def read(columns: Sequence[str] | None) -> pl.DataFrame:
                return inputs.cases if columns is None else kept.frame(columns)

            found = RunData.in_database(store, read, *tables, supervised)
        inputs.prepared[period] = found
    return found


def _polars_stages(
    policy: ir.Policy,
    data: RunData,
    settings: Settings,
    skip: Mapping[str, Set[str]],
) -> Callable[[ir.Stage, Mapping[str, StageResult]], StageResult]:
    """The polars plan (`engine.plan.polars.batch`), stage by stage, each without the
    definitions `skip` names for it (`left_out`)."""

    def run(stage: ir.Stage, done: Mapping[str, StageResult]) -> StageResult:
        stage_run = StageRun(policy, stage, data, done, settings)
        stage_run.skip = skip.get(stage.name, frozenset())
        return stage_run.run()

    return run


def left_out(
    stages: list[ir.Stage], written: Collection[tuple[str, str]]
) -> dict[str, frozenset[str]]:
    """Per stage, the names of its definitions outside `written` ((stage, name) pairs:
    `definitions_written`), which every backend leaves out (`StageRun.skip`,
    `SqlStageRun.skip`)."""
    return {
        s.name: frozenset(d.name for d in s.definitions if (s.name, d.name) not in written)
        for s in stages
    }


# ---- what a run refuses ---------------------------------------------------------------------


class DateError(PolicyError):
    """A period outside the policy's effective dates, or a budget of another year."""


class EmptyPeriod(PolicyError):
    """A period in which no accepted case was discharged."""


_ANY_DATE = (
    "or, to settle this data under this version anyway (a what-if, a demo), pass --any-date "
    "(any_date=True in Python)"
)


class DateProblem(NamedTuple):
    """What is wrong with a run's dates, and what to do about it."""

    problem: str
    remedy: str

    def __str__(self) -> str:
        return f"{self.problem}: {self.remedy}"


def date_problems(policy: ir.Policy, inputs: Inputs, period: Period) -> list[DateProblem]:
    """A period not wholly within the policy's effective dates; a budget of another year."""
    problems = []
    start, end = _date(policy.effective_from), _date(policy.effective_to)
    if (start and period.first_day < start) or (end and period.last_day > end):
        problems.append(
            DateProblem(
                f"{policy.city} {policy.version} is in force from {start or 'the start'} to "
                f"{end or 'the next version'}, but period {period.label} runs from "
                f"{period.first_day} to {period.last_day}",
                f"settle it under the version in force then (--policy policies/{policy.city} "
                "picks it)",
            )
        )
    year = inputs.budget.get("year")
    if year is not None and year != period.year:
        problems.append(
            DateProblem(
                f"budget.yaml is the budget of {year}, but period {period.label} is in "
                f"{period.year}",
                f"give the {period.year} budget (year: {period.year})",
            )
        )
    return problems


def check_dates(policy: ir.Policy, inputs: Inputs, period: Period) -> None:
    """Refuse (`DateError`) what `date_problems` finds."""
    problems = date_problems(policy, inputs, period)
    if problems:
        raise DateError("; ".join(map(str, problems)) + f"; {_ANY_DATE}")


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def check_budget_money(inputs: Inputs, read: Mapping[tuple[str, str], str]) -> None:
    """A budget figure at 0 元 that the run reads (`engine.inputs.budget.zero_figures`)."""
    for name, words in inputs.budget_zero.items():
        if ("budget", name) in read:
            raise ContractError("budget.yaml", f"values.{name}", words)


def check_not_empty(inputs: Inputs, data: RunData) -> None:
    """Refuse a period in which no accepted case was discharged, saying what the data covers."""
    if count(data):
        return
    months = pl.col("month")
    first, last = (
        distinct(inputs, ["month"])
        .select(months.min().alias("first"), months.max().alias("last"))
        .row(0)
    )
    if first is not None:
        covers = f"the data covers {first} … {last}: give a period within it"
    else:
        reasons = inputs.rejects.filter(pl.col("file").str.starts_with("cases"))["reason"]
        first_reason = f"; the first: {reasons[0]}" if len(reasons) else ""
        covers = f"no case row of the data was accepted ({len(reasons)} rejected{first_reason})"
    raise EmptyPeriod(f"no case discharged in {data.period.label}; {covers}")


def check_columns(policy: ir.Policy, inputs: Inputs, read: Mapping[tuple[str, str], str]) -> None:
    """Refuse (`ContractError`) input files without a column whose default would be a guess (a
    hospital's history, indicators, tier) when an output of the run depends on it (`read`:
    `fields_read` of the run, which `check_scores` reads too — walked once, 5 ms a settle)."""
    problems = [
        (table, spec, reader)
        for (table, column), reader in read.items()
        if (spec := _guessed(table, column)) and column not in inputs.columns.get(table, {column})
    ]
    if problems:
        table, spec, _ = problems[0]
        lines = [_missing_column(inputs.files.get(t, t), s, r, policy) for t, s, r in problems]
        raise ContractError(inputs.files.get(table, table), spec.name, "\n".join(lines))


def _guessed(table: str, column: str) -> FieldSpec | None:
    """The contract's optional field `column` of `table` if its default is not neutral."""
    found = _CONTRACT_FIELDS.get((table, column))
    return found if found is not None and not found.required and not found.neutral else None


_CONTRACT_FIELDS: dict[tuple[str, str], FieldSpec] = {
    (kind, spec.name): spec for kind, specs in TABLES.items() for spec in specs
}


def _missing_column(file: str, spec: FieldSpec, reader: str, policy: ir.Policy) -> str:
    rule = rule_text(spec)
    return (
        f"{file} has no column {spec.name}, which {policy.city} {policy.version} reads "
        f"(in `{reader}`); its default {spec.default!r} would be a guess and change the "
        f"results: add it ({spec.dtype}{'; ' + rule if rule else ''}): {spec.description}"
    )


def fields_read(
    stages: list[ir.Stage], outputs: list[str], fixed: Mapping[str, Any]
) -> dict[tuple[str, str], str]:
    """(table, column) of every input field that an output of the run depends on — the per-case
    `outputs` of a settling stage, or a `report` — with the definition that reads it. A
    definition fixed from outside reads nothing."""
    found: dict[tuple[str, str], str] = {}
    for (_, name), definition in definitions_read(stages, outputs, fixed).items():
        for column in _keys_read(definition):
            found.setdefault(column, name)
        for node in ir.walk(definition.expr):
            if isinstance(node, ir.FieldRef):
                found.setdefault((node.table, node.column), name)
    return dict(sorted(found.items()))


def definitions_read(
    stages: list[ir.Stage], outputs: list[str], fixed: Mapping[str, Any]
) -> dict[tuple[str, str], ir.Definition]:
    """(stage, name) → definition, for every definition that an output of the run depends on
    (see `fields_read`), those fixed from outside left out, in the order they are reached."""
    return definitions_reached(stages, _output_roots(stages, outputs), fixed)


def _output_roots(stages: list[ir.Stage], outputs: list[str]) -> list[tuple[str, str]]:
    """The per-case outputs of the settling stages, and every `report`."""
    return [
        (s.name, d.name)
        for s in stages
        for d in s.definitions
        if d.report or (s.settles_cases and d.name in outputs)
    ]


def definitions_written(
    policy: ir.Policy, stages: list[ir.Stage]
) -> dict[tuple[str, str], ir.Definition]:
    """`definitions_read`, and every other definition that what `drgpolicy settle` writes of
    the run reads: a classification (its cases that fell through are in the manifest), a value
    a later stage reads (a settling stage's cases table holds it: `Settlement.case_values`), an
    invariant's, and what the indicators read of the stages (`settled.<name>`). The others —
    the indicator library's helpers in a policy without stages, which the monitoring stage
    computes itself — no output reads."""
    settling = [s.name for s in stages if s.settles_cases]
    roots = _output_roots(stages, output_names(policy.method))
    for stage in stages:
        roots += [
            (stage.name, d.name) for d in stage.definitions if ir.contains(d.expr, ir.Classify)
        ]
        roots += [(stage.name, name) for name in read_later(policy, stage.name)]
    for invariant in policy.invariants:
        for stage_name in [invariant.stage] if invariant.stage else settling:
            named = [invariant.target, invariant.budget, invariant.field]
            roots += [(stage_name, name) for name in named if name]
            refs = ir.walk(invariant.condition) if invariant.condition else []
            roots += [(n.stage or stage_name, n.name) for n in refs if isinstance(n, ir.Ref)]
    monitored = policy.monitoring.definitions if policy.monitoring and settling else []
    for node in ir.walk([d.expr for d in monitored]):
        if isinstance(node, ir.Ref) and node.stage:
            roots.append((settling[-1] if node.stage == SETTLED else node.stage, node.name))
    # a definition fixed from outside is reached as any other: its value is still set
    return definitions_reached(stages, roots, ())


def definitions_reached(
    stages: Collection[ir.Stage], roots: Collection[tuple[str, str]], fixed: Collection[str]
) -> dict[tuple[str, str], ir.Definition]:
    """(stage, name) → definition, for the definitions `roots` ((stage, name) pairs) are and
    read, directly or through others, in any of `stages`; those named in `fixed` (fixed from
    outside: they read nothing) left out."""
    definitions = {(s.name, d.name): d for s in stages for d in s.definitions}
    todo = list(roots)
    found: dict[tuple[str, str], ir.Definition] = {}
    while todo:
        key = todo.pop()
        if key in found or key not in definitions or key[1] in fixed:
            continue
        found[key] = definitions[key]
        for node in ir.walk(found[key].expr):
            if isinstance(node, ir.Ref):
                todo.append((node.stage or key[0], node.name))
    return found


#: Grain keys that are input columns (the others — case, hospital, group, month — are ids).
_KEY_FIELDS = {"tier": ("hospitals", "tier"), "level": ("hospitals", "level")}


def _keys_read(definition: ir.Definition) -> Iterator[tuple[str, str]]:
    """The input columns a definition groups or joins by (`at tier`, `sum(… ) by tier`)."""
    keys = list(definition.grain)
    for node in ir.walk(definition.expr):
        match node:
            case ir.Aggregate():
                keys += node.source
            case ir.Allocate():
                keys += node.by
            case ir.RankIR():
                keys += node.within
            case ir.Rekey():
                keys += [k.key for k in node.keys]
    yield from (_KEY_FIELDS[k] for k in dict.fromkeys(keys) if k in _KEY_FIELDS)


def case_results(result: StageResult, names: list[str], codes: KeyCodes) -> pl.DataFrame:
    """Case keys and the output values, coarser ones brought to each case. The stage's case
    frame already holds every value evaluated or read there under its name."""
    cases = result.cases
    for name in names:
        grain = result.home[name]
        if name in cases.columns:
            continue
        if not grain:
            cases = cases.with_columns(pl.lit(result.frames[grain][name][0]).alias(name))
        else:
            source = result.value_frame(name)
            cases = bring_values(codes, cases, source, key_columns(grain), {name: name})
    return cases.select("case_id", "hospital_id", "drg_code", "month", *names)


def value_at(result: StageResult, name: str, grain: g.Grain) -> pl.DataFrame:
    """A definition's values with the key columns of `grain` (for statements)."""
    return result.value_frame(name).select(*key_columns(grain), name)


__all__ = ["KEY_COLUMNS", "Settings", "Settlement", "load_data", "load_policy", "settle"]
