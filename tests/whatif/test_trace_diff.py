"""Pairing two traces of a case: a step one side lacks is either only in the other version, or
defined in both and not read on that side."""

from __future__ import annotations

from engine.explainer.trace import Step, Trace
from engine.whatif.trace_diff import render_trace_diff, trace_diff


def trace(
    version: str,
    steps: dict[str, object],
    defined: list[str],
    reads: dict[str, list[str]] | None = None,
) -> Trace:
    """A trace of the steps given, each reading the steps `reads` names."""
    reads = reads or {}
    recorded = [
        Step(
            n,
            n,
            ["case"],
            n,
            v,
            "computed",
            inputs={r: steps[r] for r in reads.get(n, []) if r in steps},
        )
        for n, v in steps.items()
    ]
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
    # no payment: each version's last step (`c` in the old, `d` in the new) is a root
    assert diff.first_anywhere is not None and diff.first_anywhere.name == "c"  # after `a`
    assert diff.first is not None and diff.payment_path == ["c"]
    text = render_trace_diff(diff)
    assert "(not read in the new version)" in text and "(no such step)" not in text
    assert "defined in both, read in one" in text


def test_a_step_only_one_version_defines() -> None:
    old = trace("2023", {"a": 1.0}, ["a"])
    new = trace("2024", {"a": 1.0, "b": 2.0}, ["a", "b"])
    diff = trace_diff(old, new)
    assert [p.status for p in diff.pairs] == ["same", "new only"]
    assert "(no such step)" in render_trace_diff(diff)


def test_the_first_difference_is_on_the_payment_path() -> None:
    """`rule` (only in the new version, false: it does not apply) and `side` (read by `points`,
    whose value is the same) differ before `coef`, but only `coef` reaches the payment."""
    reads = {
        "points": ["side"],
        "coefficient": ["rule", "coef"],
        "payment": ["points", "coefficient"],
    }
    steps = {"side": 1.0, "points": 10.0, "coef": 0.8, "coefficient": 0.8, "payment": 8.0}
    old = trace("2023", steps, list(steps), reads)
    new_steps = {"rule": False, "side": 2.0, "points": 10.0, "coef": 0.9}
    new_steps |= {"coefficient": 0.9, "payment": 9.0}
    new = trace("2024", new_steps, list(new_steps), reads)
    diff = trace_diff(old, new)
    assert diff.first_anywhere is not None and diff.first_anywhere.name == "rule"
    assert diff.first is not None and diff.first.name == "coef"
    assert diff.payment_path == ["payment", "coefficient", "coef"]
    text = render_trace_diff(diff)
    assert "▶ first difference: coef (coef), on the payment's path" in text
    assert "payment ← coefficient ← coef" in text

    # the rule applies (true): now it is the first difference the payment sees
    applies = trace("2024", {**new_steps, "rule": True}, list(new_steps), reads)
    assert trace_diff(old, applies).payment_path == ["payment", "coefficient", "rule"]


def test_a_difference_the_payment_does_not_see() -> None:
    reads = {"payment": ["points"], "points": ["side"]}
    old = trace("2023", {"side": 1.0, "points": 10.0, "payment": 8.0}, [], reads)
    new = trace("2024", {"side": 2.0, "points": 10.0, "payment": 8.0}, [], reads)
    diff = trace_diff(old, new)
    assert diff.first is None and diff.payment_path == []
    assert diff.first_anywhere is not None and diff.first_anywhere.name == "side"
    text = render_trace_diff(diff)
    assert "the first step that differs, side (side), does not reach it" in text
    assert "▶" not in text.split("\n\n")[1]  # the table marks nothing first
