"""Settlement by stage: the Python API that settlement jobs (and the CLI) call.

    policy = load_policy("policies/xuancheng/2024.policy")
    inputs = load_data("sample", policy)
    result = settle(policy, inputs, Period.parse("2024"))
    result.cases("settlement")        # per-case results (polars)
    write_outputs(result, Path("out"))

Stages run in order. For a month, the stages up to the last `per month` stage run (a year-start
stage included, a year-end stage not); for a year, every stage runs. A policy without stages has
one stage, `settlement`, which runs over whatever period it is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from engine.batch import KEY_COLUMNS, Settings, StageResult, StageRun, key_columns
from engine.contract import ContractError, Inputs, load_inputs
from engine.fields import Dtype, FieldSpec
from engine.rundata import Period, RunData
from policy_dsl import grains as g
from policy_dsl import ir
from policy_dsl.lower import compile_file

ENGINE_VERSION = "0.1.0"


def load_policy(path: Path | str) -> ir.Policy:
    """Compile a policy file (raises `PolicyErrors` if it does not check)."""
    return compile_file(path)


def load_data(data_dir: Path | str, policy: ir.Policy) -> Inputs:
    """Read and validate a data folder against the contract and the policy's own inputs."""
    extra: dict[str, list[FieldSpec]] = {}
    for declared in policy.inputs:
        if declared.table != "budget":
            table = declared.table + "s"
            extra.setdefault(table, []).append(_field_spec(declared))
    budget = [i.name for i in policy.inputs if i.table == "budget"]
    folder = Path(data_dir)
    if not folder.is_dir():
        raise ContractError(
            str(folder),
            None,
            f"data folder {folder} does not exist; it should "
            "hold cases, hospitals and groups (.csv or .parquet) and budget.yaml",
        )
    return load_inputs(folder, extra=extra, budget_names=budget)


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
class Settlement:
    """The outcome of one run: every evaluated stage, with the inputs it ran on."""

    policy: ir.Policy
    period: Period
    inputs: Inputs
    data: RunData
    settings: Settings = field(default_factory=Settings)
    stages: dict[str, StageResult] = field(default_factory=dict)

    def settling_stages(self) -> list[str]:
        return [name for name, r in self.stages.items() if r.stage.settles_cases]

    def outputs(self) -> list[str]:
        """The per-case output columns of the policy's method."""
        return output_names(self.policy.method)

    def cases(self, stage: str | None = None) -> pl.DataFrame:
        """Per-case results of a settling stage (the last one by default)."""
        result = self.stages[stage or self.settling_stages()[-1]]
        return case_results(result, self.outputs())

    def missing_outputs(self) -> dict[str, dict[str, int]]:
        """Per settling stage, the cases without a class, settled points (or weight) or
        payment (see `missing_in`) — never silent."""
        found = {
            stage: missing_in(self.cases(stage), self.outputs()) for stage in self.settling_stages()
        }
        return {stage: counts for stage, counts in found.items() if counts}

    @property
    def rows(self) -> dict[str, int]:
        """Input rows = settled + rejected + outside the period, for the cases file."""
        read = self.inputs.rows_read["cases"]
        rejected = int((self.inputs.rejects["file"].str.starts_with("cases")).sum())
        settled = self.data.cases.height
        return {
            "read": read,
            "rejected": rejected,
            "outside_period": read - rejected - settled,
            "settled": settled,
        }


def missing_in(cases: pl.DataFrame, outputs: list[str]) -> dict[str, int]:
    """How many cases have no class, settled points (or weight) or payment — e.g. a payment
    that could not be computed because an input it needs is absent. (Base points are
    legitimately absent for ungrouped cases.)"""
    decisive = [n for n in outputs if n in ("category", "payment") or n.startswith("settled_")]
    counts = cases.select(pl.col(decisive).null_count()).row(0, named=True)
    return {name: n for name, n in counts.items() if n}


def output_names(method: str) -> list[str]:
    points = ["base_points", "case_points", "coefficient", "settled_points", "point_value"]
    rate = ["base_weight", "case_weight", "coefficient", "settled_weight", "rate"]
    return ["category", *(points if method == "points" else rate), "payment"]


def stages_for(policy: ir.Policy, period: Period) -> list[ir.Stage]:
    """The stages a period runs (see the module docstring)."""
    if period.month is None:
        return list(policy.stages)
    monthly = [i for i, s in enumerate(policy.stages) if s.period == "month"]
    last = monthly[-1] if monthly else len(policy.stages) - 1
    return list(policy.stages[: last + 1])


def settle(
    policy: ir.Policy, inputs: Inputs, period: Period, settings: Settings | None = None
) -> Settlement:
    """Run the policy's stages over the inputs for one period."""
    data = RunData.build(inputs.cases, inputs.hospitals, inputs.groups, inputs.budget, period)
    result = Settlement(policy, period, inputs, data, settings or Settings())
    for stage in stages_for(policy, period):
        run = StageRun(policy, stage, data, result.stages, result.settings)
        result.stages[stage.name] = run.run()
    return result


def case_results(result: StageResult, names: list[str]) -> pl.DataFrame:
    """Case keys and the output values, coarser ones joined to each case."""
    cases = result.cases.select("case_id", "hospital_id", "drg_code", "month")
    for name in names:
        grain = result.home[name]
        if grain == frozenset({"case"}):
            cases = cases.with_columns(result.cases[name])
        elif not grain:
            cases = cases.with_columns(pl.lit(result.frames[grain][name][0]).alias(name))
        else:
            keys = key_columns(grain)
            enriched = _with_keys(cases, result, keys)
            cases = enriched.join(
                result.value_frame(name), on=keys, how="left", maintain_order="left"
            ).select(*cases.columns, name)
    return cases


def _with_keys(cases: pl.DataFrame, result: StageResult, keys: list[str]) -> pl.DataFrame:
    missing = [k for k in keys if k not in cases.columns]
    if not missing:
        return cases
    source = result.cases.select("case_id", *missing)
    return cases.join(source, on="case_id", how="left", maintain_order="left")


def value_at(result: StageResult, name: str, grain: g.Grain) -> pl.DataFrame:
    """A definition's values with the key columns of `grain` (for statements)."""
    return result.value_frame(name).select(*key_columns(grain), name)


__all__ = ["KEY_COLUMNS", "Settings", "Settlement", "load_data", "load_policy", "settle"]
