"""Pairing two traces of a case: a step one side lacks is either only in the other version, or
defined in both and not read on that side."""

from __future__ import annotations

from engine.trace import Step, Trace
from engine.whatif.trace_diff import render_trace_diff, trace_diff


def trace(version: str, steps: dict[str, float], defined: list[str]) -> Trace:
    recorded = [Step(n, n, ["case"], n, v, "computed") for n, v in steps.items()]
    return Trace("C1", "demo", version, "0" * 64, "settlement", "2024", {}, recorded, defined)


def test_a_step_defined_in_both_but_read_in_one_is_not_read_there() -> None:
    old = trace("2023", {"a": 1.0, "c": 3.0}, ["a", "b", "c"])
    new = trace("2024", {"a": 1.0, "b": 2.0, "d": 4.0}, ["a", "b", "c", "d"])
    diff = trace_diff(old, new)
    status = {p.name: p.status for p in diff.pairs}
    assert status == {
        "a": "same",
        "b": "not read in old",
        "c": "not read in new",
        "d": "new only",
    }
    assert diff.first is not None and diff.first.name == "c"  # after `a`, as in the old trace
    text = render_trace_diff(diff)
    assert "(not read in the new version)" in text and "(no such step)" not in text
    assert "defined in both, read in one" in text


def test_a_step_only_one_version_defines() -> None:
    old = trace("2023", {"a": 1.0}, ["a"])
    new = trace("2024", {"a": 1.0, "b": 2.0}, ["a", "b"])
    diff = trace_diff(old, new)
    assert [p.status for p in diff.pairs] == ["same", "new only"]
    assert "(no such step)" in render_trace_diff(diff)
