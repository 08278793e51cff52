"""Fuzz: what the checker accepts, the engine runs (hypothesis).

Every shipped policy, mutated — lines deleted, duplicated or swapped, the text cut at any byte,
a token replaced by another token of the language, a number replaced by an extreme one (0,
1e-300, 1e300, 1e999, -5, 2.5) — then:

- `check` raises nothing but `PolicyErrors` (a syntax error) and reports only catalogued codes;
- a mutant that checks clean settles a 500-case cut of the bundled sample and writes its
  outputs, or stops with a project error: a `PolicyError`, the one root of every error the
  project reports (`policy_dsl.errors`). Never a traceback.

The examples are derandomized (the same every run, so CI is reproducible); `FUZZ_EXAMPLES`
raises their number for a longer hunt (`FUZZ_EXAMPLES=2000 pytest tests/dsl/test_fuzz_policies.py`).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.inputs.contract import Inputs
from engine.inputs.rundata import Period
from engine.run.outputs import write_outputs
from engine.run.settle import load_data, settle
from policy_dsl import ir
from policy_dsl.check import check
from policy_dsl.codes import CODES
from policy_dsl.diagnostics import PolicyErrors
from policy_dsl.errors import PolicyError
from policy_dsl.loader import PolicyFile, policy_from_text, read_policy_file, resolve
from policy_dsl.lower import lower
from policy_dsl.parser import keywords
from tests.conftest import CUT_CASES, POLICIES

SHIPPED = sorted(POLICIES.rglob("*.policy"))
TEXTS = {path: path.read_text(encoding="utf-8") for path in SHIPPED}
TOKEN = re.compile(r"\s+|[^\s]+")
NUMBER = re.compile(r"(?<![\w.])\d+(\.\d+)?(?![\w.])")
EXTREMES = ("0", "0.0", "1e-300", "1e300", "1e999", "-5", "-1", "2.5", "100000000000000000000")
#: The tokens the mutants are made of: every token of the shipped texts and every keyword.
TOKENS = sorted(
    {t for text in TEXTS.values() for t in TOKEN.findall(text) if not t.isspace()} | keywords()
)
BUDGET = int(os.environ.get("FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=BUDGET or 150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SETTLING = settings(FUZZ, max_examples=BUDGET or 100)


# ---- mutations ---------------------------------------------------------------------------------


def _lines(text: str, data: st.DataObject) -> str:
    lines = text.splitlines(keepends=True)
    if not lines:
        return text
    i, j = (data.draw(st.integers(0, len(lines) - 1), label="line") for _ in range(2))
    operation = data.draw(st.sampled_from(["delete", "duplicate", "swap"]), label="lines")
    if operation == "delete":
        del lines[i]
    elif operation == "duplicate":
        lines.insert(j, lines[i])
    else:
        lines[i], lines[j] = lines[j], lines[i]
    return "".join(lines)


def _truncate(text: str, data: st.DataObject) -> str:
    raw = text.encode("utf-8")
    at = data.draw(st.integers(0, len(raw)), label="cut at byte")
    return raw[:at].decode("utf-8", errors="ignore")


def _token(text: str, data: st.DataObject) -> str:
    parts = TOKEN.findall(text)
    if not parts:
        return text
    i = data.draw(st.integers(0, len(parts) - 1), label="token")
    parts[i] = data.draw(st.sampled_from(TOKENS), label="replacement")
    return "".join(parts)


def _number(text: str, data: st.DataObject) -> str:
    found = list(NUMBER.finditer(text))
    if not found:
        return text
    match = data.draw(st.sampled_from(found), label="number")
    extreme = data.draw(st.sampled_from(EXTREMES), label="extreme")
    return text[: match.start()] + extreme + text[match.end() :]


MUTATIONS = {"lines": _lines, "truncate": _truncate, "token": _token, "number": _number}
#: Mutations that keep a text parseable more often, so that more mutants reach the engine: a
#: line moved (declarations out of order) or a number made extreme.
GENTLE = ("lines", "number")


def mutant(data: st.DataObject, kinds: tuple[str, ...] = tuple(MUTATIONS)) -> tuple[Path, str]:
    path = data.draw(st.sampled_from(SHIPPED), label="policy")
    text = TEXTS[path]
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        text = MUTATIONS[data.draw(st.sampled_from(kinds), label="mutation")](text, data)
    return path, text


# ---- what must hold ----------------------------------------------------------------------------


def _siblings(path: Path) -> list[PolicyFile]:
    return [read_policy_file(p) for p in SHIPPED if p.parent == path.parent and p != path]


def checked_clean(path: Path, text: str) -> ir.Policy | None:
    """The mutant's IR if it checks clean; None if it has errors. Nothing but `PolicyErrors`
    may escape, and every diagnostic has a catalogued code and a real place."""
    try:
        top = policy_from_text(text, str(path))
    except PolicyErrors as exc:
        assert all(d.code in CODES and d.line >= 1 for d in exc.diagnostics), exc
        return None
    checked = check(resolve(top, _siblings(path)))
    assert all(d.code in CODES and d.line >= 1 for d in checked.diagnostics)
    return lower(checked) if checked.ok else None


def settles_or_stops(policy: ir.Policy, folder: Path) -> None:
    """Load, settle and write the outputs; a `PolicyError` is a project error, anything else a
    crash (the test fails with its traceback)."""
    try:
        inputs: Inputs = load_data(folder, policy)
        result = settle(policy, inputs, Period.parse("2024"))
        with tempfile.TemporaryDirectory(prefix="drgpolicy-fuzz-out-") as out:
            write_outputs(result, Path(out) / "out")
    except PolicyError:
        pass


@FUZZ
@given(st.data())
def test_check_raises_nothing_but_diagnostics(data: st.DataObject) -> None:
    checked_clean(*mutant(data))


@SETTLING
@given(st.data())
def test_a_mutant_that_checks_settles_or_stops_with_a_project_error(
    sample_cut: Path, data: st.DataObject
) -> None:
    policy = checked_clean(*mutant(data, GENTLE))
    if policy is not None:
        settles_or_stops(policy, sample_cut)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shipped_policy_settles_the_cut(sample_cut: Path, path: Path) -> None:
    """The harness itself: each shipped text, unchanged, checks clean and settles the cut."""
    policy = checked_clean(path, TEXTS[path])
    assert policy is not None
    result = settle(policy, load_data(sample_cut, policy), Period.parse("2024"))
    assert result.cases().height == CUT_CASES
