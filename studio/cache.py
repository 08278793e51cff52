"""What the studio keeps between reruns (缓存): compiled policies by text hash, loaded inputs by
data folder and file hashes, settlements by policy hash, inputs, period and parameters.

The attribution of a what-if is kept by the two texts (a slider moved re-uses it). Keys are
strings and tuples of strings; the large values (IR, frames, settlements) are passed as
`_`-prefixed arguments, which Streamlit does not hash. Settlements of a million cases are a few
hundred MB, so only a handful are kept.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import streamlit as st

from engine.inputs.contract import Inputs
from engine.inputs.rundata import Period
from engine.monitor import Monitoring
from engine.monitor.months import Progress, months_of
from engine.plan.polars.batch import Settings
from engine.run.settle import Settlement, load_data, settle
from engine.whatif.attribution import Attribution, attribute
from engine.whatif.impact import Impact
from engine.whatif.runs import Runs
from policy_dsl import ir
from policy_dsl.diff import Change
from policy_dsl.loader import Resolved
from studio import buffer
from studio import runs as runs_module
from studio.timeline import Timeline, load_timeline


def policy(root: Path, city: str, text: str) -> ir.Policy:
    """The compiled buffer (raises `PolicyErrors`), cached by its text and its city's files."""
    return _compiled(str(root), city, text, runs_module.city_digest(root, city))


@st.cache_resource(max_entries=32, show_spinner=False)
def _compiled(root: str, city: str, text: str, digest: str) -> ir.Policy:
    return runs_module.compiled(_analysis(root, city, text, digest))  # the editor's check


def analysis(root: Path, city: str, text: str) -> buffer.Analysis:
    """The checker's view of a buffer, cached by its text and its city's saved files."""
    return _analysis(str(root), city, text, runs_module.city_digest(root, city))


@st.cache_resource(max_entries=64, show_spinner=False)
def _analysis(root: str, city: str, text: str, digest: str) -> buffer.Analysis:
    return buffer.analyse(text, Path(root), city)


def city_timeline(root: Path, city: str) -> Timeline:
    """A city's versions on a timeline, each checked on its own (raises `VersionsError` for a
    folder without versions or of several cities)."""
    return _timeline(str(root / city), runs_module.city_digest(root, city))


@st.cache_resource(max_entries=16, show_spinner=False)
def _timeline(folder: str, digest: str) -> Timeline:
    return load_timeline(Path(folder))


def _inputs_key(policy: ir.Policy) -> str:
    return json.dumps([i.model_dump(mode="json") for i in policy.inputs], sort_keys=True)


def inputs(folder: Path, policy: ir.Policy, encoding: str = "utf8") -> Inputs:
    """Validated inputs of a data folder for what `policy` declares (raises `ContractError`);
    `encoding`: that of its CSV files (`utf8` or `gbk`)."""
    fingerprint = runs_module.data_fingerprint(folder)
    return _inputs(str(folder), fingerprint, _inputs_key(policy), encoding, policy)


@st.cache_resource(max_entries=4, show_spinner=False)
def _inputs(
    folder: str, fingerprint: str, declared: str, encoding: str, _policy: ir.Policy
) -> Inputs:
    return load_data(folder, _policy, encoding)


def settlement(
    policy: ir.Policy,
    folder: Path,
    period: str,
    params: Mapping[str, Any] | None = None,
    encoding: str = "utf8",
) -> Settlement:
    """The settlement of a data folder under `policy`, with parameters set from outside."""
    params = dict(params or {})
    loaded = inputs(folder, policy, encoding)
    key = json.dumps(params, sort_keys=True)
    fingerprint = f"{runs_module.data_fingerprint(folder)}|{encoding}"
    return _settled(policy.hash, fingerprint, period, key, policy, loaded, params)


@st.cache_resource(max_entries=6, show_spinner=False)
def _settled(
    policy_hash: str,
    fingerprint: str,
    period: str,
    params_key: str,
    _policy: ir.Policy,
    _inputs: Inputs,
    _params: dict[str, Any],
) -> Settlement:
    return settle(_policy, _inputs, Period.parse(period), Settings(params=_params))


def runs(folder: Path, period: str, policy: ir.Policy, encoding: str = "utf8") -> Runs:
    """The kept settlements of a dataset and period (what-if): each policy and parameter set is
    settled once, a new one re-settled from the nearest kept run. Loading the inputs raises
    `ContractError` when a file is unusable."""
    loaded = inputs(folder, policy, encoding)
    return _runs(runs_key(folder, period, policy, encoding), loaded, period)


def runs_key(folder: Path, period: str, policy: ir.Policy, encoding: str = "utf8") -> str:
    fingerprint = runs_module.data_fingerprint(folder)
    return f"{fingerprint}|{encoding}|{period}|{_inputs_key(policy)}"


@st.cache_resource(max_entries=2, show_spinner=False)
def _runs(key: str, _inputs: Inputs, period: str) -> Runs:
    return Runs(_inputs, Period.parse(period), keep=8)


def attribution(
    runs_key: str,
    texts: tuple[str, str],
    digest: str,
    kept: Runs,
    base: Resolved,
    new: Resolved,
    impact: Impact | None = None,
    changes: list[Change] | None = None,
) -> Attribution:
    """The change from `base` to `new` split over its clauses, kept by the data (`runs_key`), the
    two texts and their city's saved versions (`digest`): moving a slider leaves the texts, and
    so the attribution, as they were. `impact`: the two versions' comparison (no slider
    values), and `changes`: their diff, when the run has made them."""
    return _attribution(runs_key, texts[0], texts[1], digest, kept, base, new, impact, changes)


@st.cache_resource(max_entries=2, show_spinner=False)
def _attribution(
    runs_key: str,
    base_text: str,
    new_text: str,
    digest: str,
    _runs: Runs,
    _base: Resolved,
    _new: Resolved,
    _impact: Impact | None,
    _changes: list[Change] | None,
) -> Attribution:
    return attribute(_runs, _base, _new, impact=_impact, changes=_changes)


def monitoring(
    policy: ir.Policy,
    folder: Path,
    year: int,
    progress: Progress | None = None,
    encoding: str = "utf8",
) -> Monitoring:
    """The months of `year` of a data folder under `policy`, side by side (the Monitoring
    page), kept by the policy's hash, the data and the year."""
    loaded = inputs(folder, policy, encoding)
    fingerprint = f"{runs_module.data_fingerprint(folder)}|{encoding}"
    return _monitoring(policy.hash, fingerprint, year, policy, loaded, progress)


@st.cache_resource(max_entries=4, show_spinner=False)
def _monitoring(
    policy_hash: str,
    fingerprint: str,
    year: int,
    _policy: ir.Policy,
    _inputs: Inputs,
    _progress: Progress | None,
) -> Monitoring:
    return Monitoring.of(months_of(_policy, _inputs, year, progress=_progress))


@st.cache_resource(show_spinner=False)
def generated(cache: str, cases: int, seed: int) -> Path:
    return runs_module.generated_dataset(Path(cache), cases, seed)


__all__ = [
    "analysis",
    "attribution",
    "city_timeline",
    "generated",
    "inputs",
    "monitoring",
    "policy",
    "runs",
    "settlement",
]
