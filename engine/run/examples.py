"""Analysts' example tests (`policies/<city>/examples/*.yaml`): a few hospitals, groups and cases,
values fixed from outside where a rule is tested alone, and the expected results computed by hand.

An example runs through the real contract loader and the batch plan; a failure shows expected and
got (money to the fen), with the trace of the failing case, or of the failing hospital or period
value (`engine.explainer.explain_value`). The file format is published as a JSON Schema
(`drgpolicy schema example`).
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.explainer.explain import explain, leading_to
from engine.explainer.explain_value import explain_values
from engine.explainer.report_text import render_trace, render_value_trace, show, show_money
from engine.explainer.trace import Trace, ValueTrace
from engine.inputs.budget import PlainLoader
from engine.inputs.fields import TABLES, TableKind
from engine.inputs.indicator_runs import IndicatorRun
from engine.inputs.previous import Previous, just_before
from engine.inputs.reading import ENCODINGS, not_utf8
from engine.inputs.rundata import Period
from engine.plan.overrides import EXAMPLE_LABELS, SettingError, checked_settings
from engine.plan.polars.batch import StageResult, key_columns
from engine.plan.polars.keys import KeyCodes
from engine.run.settle import Settlement, case_results, date_problems, load_data, settle
from policy_dsl.check.indicators import PREVIOUS
from policy_dsl.check.scope import did_you_mean
from policy_dsl.errors import PolicyError
from policy_dsl.ir import FieldRef, Policy, walk
from policy_dsl.lower import compile_file
from policy_dsl.names import name_problem

if TYPE_CHECKING:
    from engine.plan.sql.database import Database

Scalar = float | int | bool | dt.date | str | None
#: Relative tolerance for non-money numbers written by hand (e.g. 1/3 written as 0.333333333).
TOLERANCE = 1e-9


class Expectations(BaseModel):
    """Expected values by case id, by hospital id, for the period as a whole, and of the run's
    indicators (`indicators.csv`): by indicator, then by row — `city`, or a grain and its key
    (`hospital H1`, `level 3`, `month 2024-03`) — the value (null: none, or not available),
    and under `met` whether the row meets its targets."""

    model_config = ConfigDict(extra="forbid")
    cases: dict[str, dict[str, Scalar]] = {}
    hospitals: dict[str, dict[str, Scalar]] = {}
    period: dict[str, Scalar] = {}
    indicators: dict[str, dict[str, Scalar]] = {}
    met: dict[str, dict[str, bool | None]] = {}


class Example(BaseModel):
    """One example test (示例测试)."""

    model_config = ConfigDict(extra="forbid")
    title: str = Field(description="what the example shows, in the analyst's words")
    policy: str = Field(description="the policy version (a file in the city folder)")
    period: str | None = Field(
        default=None,
        description="2024 (a year), 2024-Q2 (a quarter) or 2024-03 (a month); by default the year "
        "the policy takes "
        "effect",
    )
    stage: str | None = Field(
        default=None, description="the stage checked (default: the last settling one)"
    )
    source: str | None = Field(default=None, description="the rule or article it illustrates")
    fix: dict[str, Scalar] = Field(default={}, description="definitions fixed from outside")
    set: dict[str, Scalar] = Field(default={}, description="parameters set for this example")
    hospitals: list[dict[str, Scalar]]
    groups: list[dict[str, Scalar]]
    cases: list[dict[str, Scalar]]
    deductions: list[dict[str, Scalar]] = Field(
        default=[],
        description="rows of deductions.csv (hospital_id, kind, amount, reason; date: by default "
        "the period's first day)",
    )
    assessments: list[dict[str, Scalar]] = Field(
        default=[],
        description="rows of assessments.csv (hospital_id, assessment, score; year: by default "
        "the period's)",
    )
    budget: dict[str, float | dict[str, float]] = {}
    previous: dict[str, dict[str, float]] = Field(
        default={},
        description="the previous period's indicator values the growth rates read "
        "(`previous.<indicator>`, as `settle --previous` gives them): by indicator, then by row "
        "as under `expect: indicators:` (`city`, `group DRG1`), the value",
    )
    expect: Expectations


class ExampleError(PolicyError):
    """An example file that cannot be read."""


@dataclass
class Mismatch:
    """One expected value that the run did not give, with the traces that show why: the
    case's, or the value's at its hospital (or the period), one per month if monthly."""

    where: str
    name: str
    expected: Any
    got: Any
    money: bool = False
    traces: list[Trace | ValueTrace] = field(default_factory=list)

    @property
    def trace(self) -> str | None:
        """The traces as text (None without one)."""
        return "\n\n".join(map(_rendered, self.traces)) or None

    def render(self) -> str:
        shown = show_money if self.money else show
        text = f"  {self.where} {self.name}: expected {shown(self.expected)}, got {shown(self.got)}"
        return text + ("\n" + _indent(self.trace) if self.trace else "")


def _rendered(trace: Trace | ValueTrace) -> str:
    match trace:
        case Trace():
            return render_trace(trace)
        case ValueTrace():
            return render_value_trace(trace)


@dataclass
class Outcome:
    path: Path
    example: Example
    mismatches: list[Mismatch]

    @property
    def passed(self) -> bool:
        return not self.mismatches


def json_schema() -> dict[str, Any]:
    schema = Example.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "drgpolicy example test"
    return schema


def read_example(path: Path, encoding: str = "utf8") -> Example:
    """An example file, in UTF-8 or the `encoding` asked for (`engine.inputs.reading.ENCODINGS`)."""
    try:
        document = yaml.load(path.read_text(encoding=ENCODINGS[encoding]), PlainLoader)
        example = Example.model_validate(document)
    except UnicodeDecodeError:
        raise ExampleError(not_utf8(path)) from None
    except OSError as exc:
        detail = "no such file" if isinstance(exc, FileNotFoundError) else str(exc)
        raise ExampleError(f"cannot read example {path}: {detail}") from None
    except yaml.YAMLError as exc:
        raise ExampleError(f"{path}: not valid YAML ({exc})") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ExampleError(f"{path}: {problems}") from exc
    problem = name_problem(example.policy)  # `../../other/2024` is not this city's
    if problem is not None:
        raise ExampleError(f"{path}: policy: {problem}; give a version of this city, e.g. 2024")
    return example


def example_files(root: Path) -> list[Path]:
    """The example files under `root` — `policies/`, a city's folder or its `examples` folder
    itself (each `<city>/examples/*.yaml`) — or `root`, a file."""
    if not root.is_dir():
        return [root]
    found = set(root.rglob("examples/*.yaml"))
    if root.name == "examples":
        found |= set(root.glob("*.yaml"))
    return sorted(found)


def run_example(path: Path, encoding: str = "utf8") -> Outcome:
    """Settle the example's data under its policy and compare with what it expects."""
    example, result = settle_example(path, encoding)
    try:
        return Outcome(path, example, compare(example, result))
    except ExampleError as exc:
        raise ExampleError(f"{path}: {exc}") from None


def settle_example(
    path: Path, encoding: str = "utf8", backend: str | Database = "polars"
) -> tuple[Example, Settlement]:
    """The example and its data settled under its policy (`<city>/<policy>.policy`, beside the
    `examples` folder), on `backend` (`engine.run.settle.settle`)."""
    example = read_example(path, encoding)
    policy = compile_file(path.parent.parent / f"{example.policy}.policy")
    try:
        settings = checked_settings(policy, example.fix, example.set, EXAMPLE_LABELS)
    except SettingError as exc:
        raise ExampleError(f"{path}: {exc}") from None
    period = period_of(example, policy)
    with tempfile.TemporaryDirectory(prefix="drgpolicy-example-") as folder:
        write_data(example, Path(folder), period)
        inputs = load_data(folder, policy)
        if inputs.rejects.height:
            reasons = "; ".join(map(_rejected_row, inputs.rejects.iter_rows(named=True)))
            raise ExampleError(f"{path}: the example's data has rejected rows: {reasons}")
        problems = date_problems(policy, inputs, period)
        if problems:
            raise ExampleError(
                f"{path}: {'; '.join(p.problem for p in problems)}: give the example a `period:` "
                "within the dates of its `policy:`, or name the version in force then"
            )
        previous = _previous(path, example, policy, period)
        return example, settle(
            policy, inputs, period, settings, any_date=False, previous=previous, backend=backend
        )


def _previous(path: Path, example: Example, policy: Policy, period: Period) -> Previous | None:
    """The example's `previous:` values as the run of the period just before its own that
    `settle --previous` would read (None when it gives none). Each must be a value the policy
    reads (`previous.<indicator>` at that grain): one it does not read would change nothing."""
    read = previous_reads(policy)
    for name, values in example.previous.items():
        if name not in read:
            close = did_you_mean(name, sorted(read))
            listed = ", ".join(f"`{n}`" for n in sorted(read)) or "none"
            raise ExampleError(
                f"{path}: previous.{name}: {policy.city} {policy.version} reads no "
                f"`previous.{name}`" + (f"; {close}" if close else "") + f" (it reads {listed})"
            )
        for row in values:
            grain = row.partition(" ")[0]
            if grain not in read[name]:
                raise ExampleError(
                    f"{path}: previous.{name}: `{row}`: `previous.{name}` is read at "
                    f"{', '.join(sorted(read[name]))}, not at `{grain}`; give rows as "
                    "`city` or `<grain> <key>` (`group DRG1`)"
                )
    if not example.previous:
        return None
    rows = [
        {"indicator": name, "grain": grain, "key": key or policy.city, "value": float(value)}
        for name, values in example.previous.items()
        for row, value in values.items()
        for grain, _, key in [row.partition(" ")]
    ]
    table = pl.DataFrame(
        rows,
        schema={**dict.fromkeys(("indicator", "grain", "key"), pl.String), "value": pl.Float64},
    )
    before = just_before(period)[0]
    folder = Path(f"<{example.policy} {before.label}: the example's previous>")
    return Previous(
        IndicatorRun(folder, before.label, policy.city, policy.version, policy.hash, table)
    )


def previous_reads(policy: Policy) -> dict[str, set[str]]:
    """The grains at which the policy reads each indicator's previous value
    (`previous.<indicator>`, lowered to the column `<indicator>@<grain>` of `previous`)."""
    read: dict[str, set[str]] = {}
    for node in walk(policy):
        if isinstance(node, FieldRef) and node.table == PREVIOUS:
            name, _, grain = node.column.partition("@")
            read.setdefault(name, set()).add(grain)
    return read


def _rejected_row(reject: dict[str, Any]) -> str:
    """A rejected row in the example's words: its list (`cases:`), key and field, and the
    reason, whose input files (`hospitals.csv`) are the example's lists (`hospitals:`)."""
    reason = str(reject["reason"])
    for table in TABLES:
        reason = reason.replace(f"{table}.csv", f"the example's `{table}:`")
    where = ", ".join(str(reject[k]) for k in ("key", "field") if reject[k])
    return f"`{Path(reject['file']).stem}:` {where}: {reason}"


def period_of(example: Example, policy: Policy) -> Period:
    """The example's period; by default the year its policy takes effect."""
    if example.period is not None:
        return Period.parse(example.period)
    start = policy.effective_from
    if start is None:
        raise ExampleError(f"the example gives no period and {policy.city} has no effective date")
    return Period(int(start[:4]))


def write_data(example: Example, folder: Path, period: Period) -> None:
    """The example as a data folder of the contract. A field no row gives is written with its
    contract default, even one a data file must have when a policy reads it
    (`FieldSpec.neutral`): an example states only what its rule needs. Deductions and
    assessments are written only when the example lists some."""
    first_day = f"{period.month_labels()[0]}-01"
    cases = [{"discharge_date": first_day, **case} for case in example.cases]
    tables: dict[TableKind, list[dict[str, Scalar]]] = {
        "hospitals": example.hospitals,
        "groups": example.groups,
        "cases": cases,
    }
    supervision: dict[TableKind, list[dict[str, Scalar]]] = {
        "deductions": [{"date": first_day, **row} for row in example.deductions],
        "assessments": [{"year": period.year, **row} for row in example.assessments],
    }
    tables |= {kind: rows for kind, rows in supervision.items() if rows}
    for kind, rows in tables.items():
        defaults = _guessed_defaults(kind, rows)
        frame = pl.DataFrame([_text_row({**defaults, **r}) for r in rows])
        frame.write_csv(folder / f"{kind}.csv")
    document = {"contract_version": "1.0", "year": period.year, "values": example.budget}
    (folder / "budget.yaml").write_text(yaml.safe_dump(document, allow_unicode=True))


def _guessed_defaults(kind: TableKind, rows: list[dict[str, Scalar]]) -> dict[str, Scalar]:
    """The non-neutral optional fields that no row gives, with their defaults."""
    given = {name for row in rows for name in row}
    return {
        spec.name: spec.default
        for spec in TABLES[kind]
        if not spec.required and not spec.neutral and spec.name not in given
    }


def _text_row(row: dict[str, Scalar]) -> dict[str, str]:
    return {
        k: ("true" if v is True else "false" if v is False else "" if v is None else str(v))
        for k, v in row.items()
    }


def compare(example: Example, result: Settlement) -> list[Mismatch]:
    stage = example.stage or result.settling_stages()[-1]
    money = money_names(result.stages[stage])
    mismatches = []
    for case_id, expected in example.expect.cases.items():
        mismatches += case_mismatches(result, stage, case_id, expected, money)
    for hospital_id, expected in example.expect.hospitals.items():
        keys = {"hospital_id": hospital_id}
        mismatches += value_mismatches(result, stage, keys, expected, money)
    mismatches += value_mismatches(result, stage, {}, example.expect.period, money)
    mismatches += indicator_mismatches(result, example.expect.indicators, "value")
    mismatches += indicator_mismatches(result, example.expect.met, "met")
    return mismatches


def indicator_mismatches(
    result: Settlement, expected: dict[str, dict[str, Any]], column: str
) -> list[Mismatch]:
    """The indicator rows (`city`, `hospital H1`…) whose value (or `met`) is not as expected."""
    table = result.indicators()
    known = set(table["indicator"])
    mismatches = []
    for name, rows in expected.items():
        if name not in known:
            raise ExampleError(f"no indicator named {name} in {result.policy.city}")
        money = next(i.type.is_money for i in result.policy.indicators if i.name == name)
        for row, value in rows.items():
            grain, _, key = row.partition(" ")
            got = _indicator_cell(table, name, grain, key or result.policy.city, column)
            if not equal(value, got, money=money and column == "value"):
                where = f"indicator {name} ({row})"
                mismatches.append(Mismatch(where, column, value, got, money))
    return mismatches


def _indicator_cell(table: pl.DataFrame, name: str, grain: str, key: str, column: str) -> Any:
    rows = table.filter(
        (pl.col("indicator") == name) & (pl.col("grain") == grain) & (pl.col("key") == key)
    )
    if rows.height == 0:
        return None
    cell = rows[column][0]
    return float(cell) if column == "value" and cell is not None else cell


def money_names(result: StageResult) -> set[str]:
    """The stage's definitions that are amounts in 元 (compared and shown to the fen)."""
    return {d.name for d in result.stage.definitions if d.type.is_money}


def case_mismatches(
    result: Settlement, stage: str, case_id: str, expected: dict[str, Scalar], money: set[str]
) -> list[Mismatch]:
    """The case's values that are not as expected; the last one with the case's trace, its
    steps those the wrong values read."""
    got = case_values(result.stages[stage], case_id, list(expected), result.data.codes)
    wrong = [n for n, v in expected.items() if not equal(v, got.get(n), money=n in money)]
    return [
        Mismatch(
            f"case {case_id}",
            name,
            expected[name],
            got.get(name),
            name in money,
            [leading_to(result, explain(result, case_id, stage), wrong)]
            if name == wrong[-1]
            else [],
        )
        for name in wrong
    ]


def value_mismatches(
    result: Settlement,
    stage: str,
    keys: dict[str, Any],
    expected: dict[str, Scalar],
    money: set[str],
) -> list[Mismatch]:
    """A hospital's (`keys`) or the period's (no keys) values that are not as expected, each
    with its trace unless an earlier one of the same keys already shows it."""
    where = f"hospital {keys['hospital_id']}" if keys else "period"
    mismatches: list[Mismatch] = []
    shown: set[str] = set()
    for name, value in expected.items():
        got = grain_value(result.stages[stage], name, keys)
        if equal(value, got, money=name in money):
            continue
        traces = [] if name in shown else explain_values(result, name, keys, stage)
        shown |= {step.name for trace in traces for step in trace.steps}
        mismatches.append(Mismatch(where, name, value, got, name in money, list(traces)))
    return mismatches


def case_values(
    result: StageResult, case_id: str, names: list[str], codes: KeyCodes
) -> dict[str, Any]:
    for name in names:
        _known(result, name, f"expect.cases.{case_id}")
    rows = case_results(result, names, codes).filter(pl.col("case_id") == case_id)
    if rows.height == 0:
        raise ExampleError(f"case {case_id} was not settled")
    row = rows.row(0, named=True)
    return {k: (str(v) if k == "category" and v is not None else v) for k, v in row.items()}


def _known(result: StageResult, name: str, where: str) -> None:
    """Refuses an expected value of a name the stage does not define, with the closest name."""
    if name not in result.home:
        close = did_you_mean(name, result.home)
        raise ExampleError(
            f"{where}.{name}: no definition named `{name}` in stage {result.stage.name}"
            + (f"; {close}" if close else "")
        )


def grain_value(result: StageResult, name: str, keys: dict[str, Any]) -> Any:
    """A definition's value for a hospital (or the period) — summed over months if monthly."""
    _known(result, name, f"expect.hospitals.{keys['hospital_id']}" if keys else "expect.period")
    grain = result.home[name]
    frame = result.frames[grain]
    wanted = [k for k in key_columns(grain) if k in keys]
    if set(key_columns(grain)) - set(wanted) - {"month"}:
        raise ExampleError(f"{name} is computed at {', '.join(grain)}, not per hospital")
    for key in wanted:
        frame = frame.filter(pl.col(key) == keys[key])
    if frame.height == 0:
        return None
    return frame[name][0] if frame.height == 1 else frame[name].sum()


def equal(expected: Any, got: Any, *, money: bool) -> bool:
    """Equal, with money compared to the fen and other numbers to a relative 1e-9."""
    if isinstance(expected, bool) or isinstance(got, bool) or not isinstance(expected, int | float):
        return _plain(expected) == _plain(got)
    if not isinstance(got, int | float):
        return False
    if money:
        return round(expected * 100) == round(got * 100)
    return math.isclose(expected, got, rel_tol=TOLERANCE, abs_tol=1e-12)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _indent(text: str) -> str:
    return "\n".join("      " + line for line in text.splitlines())
