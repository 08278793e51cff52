"""Applying changes of a diff to the base version: every change at once gives the new version;
each unit checks; changes that cannot be separated are grouped, with the reason."""

from __future__ import annotations

from policy_dsl import ir
from policy_dsl.check import check
from policy_dsl.diff import diff_versions
from policy_dsl.loader import policy_from_text, read_policy_file, resolve
from policy_dsl.lower import lower
from policy_dsl.patch import patch, separate
from tests.whatif.conftest import NEW, OLD


def meaning(policy: ir.Policy) -> str:
    """The content hash with the version's own name and bases set aside."""
    return ir.content_hash(policy.model_copy(update={"version": "", "extends": []}))


def test_every_change_at_once_gives_the_new_version() -> None:
    base, new = resolve(read_policy_file(OLD)), resolve(read_policy_file(NEW))
    patched = patch(base, new, diff_versions(base, new))
    checked = check(patched.resolved)
    assert checked.ok
    assert meaning(lower(checked)) == meaning(lower(check(new)))


def test_units_check_and_bring_what_they_read() -> None:
    base, new = resolve(read_policy_file(OLD)), resolve(read_policy_file(NEW))
    units = separate(base, new, diff_versions(base, new))
    assert all(u.ok and u.note is None for u in units)
    # 2024's grassroots low class reads a parameter 2023 does not have: it is brought along
    low = next(u for u in units if u.clauses == ("class:category/low",))
    assert low.patched.brought == ("param:low_ratio_grassroots",)
    names = {e.decl.name for e in low.patched.resolved.entries}
    assert "low_ratio_grassroots" in names and "new_hospital_share" not in names
    # the filed-or-measured coefficient reads, through new definitions, a new input and param
    coefficient = next(u for u in units if u.clauses == ("definition:hospital_coefficient",))
    assert coefficient.patched.brought == (
        "definition:level_min_coefficient",
        "definition:measured_coefficient",
        "definition:new_hospital_coefficient",
        "input:filed_coefficient",
        "param:new_hospital_share",
    )
    # the stable group rule reads what 2023 declares already (large_number_cases, xc2024)
    stable = next(u for u in units if u.clauses == ("definition:stable_group",))
    assert stable.patched.brought == ()


def test_a_new_class_and_its_formula_arm_are_measured_together() -> None:
    text = OLD.read_text(encoding="utf-8")
    base = resolve(policy_from_text(text, "2023.policy"))
    changed = text.replace(
        '  class normal "正常病例" otherwise',
        '  class tiny "极低费用病例" when cost_ratio <= 10%\n'
        '    assumption "测试"\n'
        '  class normal "正常病例" otherwise',
    ).replace("  normal -> base_points", "  tiny -> base_points * 10%\n  normal -> base_points")
    new = resolve(policy_from_text(changed, "2024.policy"))
    units = separate(base, new, diff_versions(base, new))
    grouped = next(u for u in units if "class:category/tiny" in u.clauses)
    assert set(grouped.clauses) == {"class:category/tiny", "arm:class_points/tiny"}
    assert grouped.ok and grouped.note is not None and "cannot be applied alone" in grouped.note
