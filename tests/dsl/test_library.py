"""Library modules (`include`): the standard indicators check alone and are formatted; a policy
overrides what it takes in; a module comes in once, before the oldest version."""

from __future__ import annotations

from pathlib import Path

import pytest

from policy_dsl.check import check, check_path
from policy_dsl.format import format_policy
from policy_dsl.library import module_names, module_path
from policy_dsl.loader import policy_from_text, read_policy_file, resolve
from policy_dsl.lower import compile_text
from policy_dsl.sources import source_folders
from tests.conftest import POLICIES

LIBRARY = module_path("indicators")
SOURCES = Path(__file__).resolve().parents[3] / "shared" / "sources"
HEAD = 'policy demo version "1"\n  effective 2024-01-01\n  method points\n  include "indicators"\n'


def test_the_library_has_the_standard_indicators_formatted_as_fmt_writes_them() -> None:
    assert module_names() == ["indicators"] and LIBRARY is not None
    file = read_policy_file(LIBRARY)
    assert file.header.library and file.header.city == "indicators"
    assert format_policy(file.tree, file.text) == file.text


def test_the_library_checks_alone_and_its_quotes_are_in_their_documents() -> None:
    assert LIBRARY is not None
    if not SOURCES.is_dir():
        pytest.skip(f"{SOURCES} is not here")
    checked = check_path(LIBRARY, source_folders([SOURCES], environ={}))
    assert checked.diagnostics == []
    assert checked.citations is not None
    assert checked.citations.tally(LIBRARY) == {"verified": 32, "not_found": 0, "unverifiable": 0}


def demo(body: str) -> str:
    """A minimal points policy including the library, with `body` before its outputs."""
    outputs = (POLICIES / ".." / "tests" / "golden" / "diagnostics" / "E801.policy").read_text(
        encoding="utf-8"
    )
    rest = outputs[outputs.index("# ---- settlement outputs") :].replace(
        '  class normal "正常病例" otherwise',
        '  class high "高倍率" when total_cost > 3 * avg_cost assumption "示例"\n'
        '  class low "低倍率" when total_cost < 0.4 * avg_cost assumption "示例"\n'
        '  class normal "正常病例" otherwise',
    )
    return (
        f'{HEAD}\n{body}\n{rest}let payment "支付" : money at case = settled_points * point_value\n'
    )


def test_a_policy_overrides_an_indicator_and_a_parameter_of_the_library() -> None:
    text = demo(
        'override param high_weight_line "高权重" : weight = 3\n  assumption "本市取 3"\n'
        'override indicator avg_los "平均住院日（本市）" : number for city = mean(los)\n'
        '  assumption "本市只看全市"\n'
    )
    policy = compile_text(text, "demo/1.policy")
    assert policy.includes == ["indicators"]
    los = next(i for i in policy.indicators if i.name == "avg_los")
    assert (los.label, los.grains) == ("平均住院日（本市）", ["city"])
    assert policy.param("high_weight_line").value == 3
    assert sum(i.name == "avg_los" for i in policy.indicators) == 1


def test_an_override_that_breaks_what_reads_it_is_reported_in_the_library() -> None:
    """`case_growth` reads `cases` per hospital and group: an override for the city alone
    leaves it nothing to read there (E162, at the library's line)."""
    text = demo(
        'override indicator cases "病例数" : count for city = count(case)\n  assumption "x"\n'
    )
    checked = check(resolve(policy_from_text(text, "demo/1.policy"), []))
    found = {(d.code, Path(d.file).name, d.message) for d in checked.diagnostics}
    assert (
        "E162",
        "indicators.policy",
        "`cases` is read for hospital, but it is computed for city",
    ) in found


def test_a_redeclaration_without_override_names_the_library_module() -> None:
    text = demo('indicator cases "病例数" : count for city = count(case)\n  assumption "x"\n')
    checked = check(resolve(policy_from_text(text, "demo/1.policy"), []))
    found = [d for d in checked.diagnostics if d.code == "E704"]
    assert [d.message for d in found] == [
        '`cases` is already declared in library module "indicators"'
    ]


def test_a_module_included_by_a_base_and_its_version_comes_in_once() -> None:
    base = policy_from_text(demo(""), "demo/1.policy")
    top_text = (
        'policy demo version "2"\n  effective 2025-01-01\n  extends "1"\n  method points\n'
        '  include "indicators"\n'
    )
    top = policy_from_text(top_text, "demo/2.policy")
    resolved = resolve(top, [base])
    assert [m.header.city for m in resolved.modules] == ["indicators"]
    assert check(resolved).ok
