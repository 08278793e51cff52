"""One validation of values set from outside (`engine.plan.overrides.typed_value`), the same for
`settle`, `explain` and `whatif` (`--set`/`--fix`), an example's `set:`/`fix:`, a Python sweep
and the studio's sliders: type, finiteness, the declared or default range, and `40%` suggested
for a ratio written as 40."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.plan.overrides import SettingError, Target, checked_settings, typed_value
from engine.run.examples import ExampleError, run_example
from engine.run.settle import load_policy
from engine.whatif.sweep import checked_grid
from policy_dsl import ir
from policy_dsl.lower import compile_text
from studio.runs import numeric_params
from studio.whatif_view import changed_params
from tests.conftest import POLICIES, SAMPLE, run_cli

XUANCHENG_FILE = POLICIES / "xuancheng" / "2024.policy"
XUANCHENG = load_policy(XUANCHENG_FILE)
BASE_FILE = POLICIES / "xuancheng" / "2023.policy"

#: Values the engine took before, each with the words of its refusal now.
REFUSED = [
    ({}, {"low_ratio_grassroots": "40"}, "write 40% — or 4000% if you mean 40 times"),
    ({}, {"low_ratio_grassroots": "1.2"}, "write 1.2% — or 120% if you mean 1.2 times"),
    ({}, {"low_ratio_grassroots": "nan"}, "is not a number (NaN)"),
    ({}, {"low_ratio_grassroots": "inf"}, "is not a finite number"),
    ({}, {"low_ratio_grassroots": "1e999"}, "is not a finite number"),
    ({}, {"low_ratio_grassroots": "-10%"}, "outside a ratio's range: ≥ 0"),
    ({}, {"large_number_cases": "2.5"}, "is not a whole number (it sets a count)"),
    ({}, {"large_number_cases": "-3"}, "outside a count's range: a whole number ≥ 0"),
    ({"point_value": "-5"}, {}, "outside a point_value's range: > 0"),
    ({"point_value": "0"}, {}, "outside a point_value's range: > 0"),
    ({"point_value": "-inf"}, {}, "is not a finite number"),
    # a share where an amount is meant: 0.118 元 a point, not a refusal, on main
    (
        {"point_value": "11.8%"},
        {},
        "is a share (written with %), but this value is in 元 per point",
    ),
    ({"point_value": "6‰"}, {}, "is a share (written with ‰), but this value is in 元 per point"),
]


@pytest.mark.parametrize(("fix", "params", "words"), REFUSED)
def test_a_value_that_does_not_suit_its_declaration_is_refused(
    fix: dict[str, str], params: dict[str, str], words: str
) -> None:
    with pytest.raises(SettingError, match=words.replace("(", r"\(").replace(")", r"\)")):
        checked_settings(XUANCHENG, fix, params)


@pytest.mark.parametrize(
    ("fix", "params", "expected"),
    [
        ({}, {"low_ratio_grassroots": "40%"}, {"low_ratio_grassroots": 0.4}),
        ({}, {"low_ratio_grassroots": "0.4"}, {"low_ratio_grassroots": 0.4}),
        ({}, {"low_ratio_grassroots": "1"}, {"low_ratio_grassroots": 1.0}),
        ({}, {"low_ratio_grassroots": "120%"}, {"low_ratio_grassroots": 1.2}),
        ({}, {"large_number_cases": "0"}, {"large_number_cases": 0.0}),
        ({"point_value": "12.5"}, {}, {}),
        ({"year_total": "-100"}, {}, {}),  # Wuxi: a computed amount can be negative
    ],
)
def test_a_value_that_suits_its_declaration_is_taken(
    fix: dict[str, str], params: dict[str, str], expected: dict[str, float]
) -> None:
    policy = load_policy(POLICIES / "wuxi" / "2024.policy") if "year_total" in fix else XUANCHENG
    got = checked_settings(policy, fix, params)
    assert dict(got.params) == pytest.approx(expected)
    assert dict(got.definitions) == pytest.approx({k: float(v) for k, v in fix.items()})


def test_a_ratio_written_above_one_is_a_multiple_where_the_policy_writes_one() -> None:
    """`high_k` is written 300%: 2.5 means 2.5 times and is taken as it stands."""
    policy = compile_text(_policy("ratio = 300%"), "demo/2024.policy")
    assert checked_settings(policy, {}, {"high_k": "2.5"}).params == {"high_k": 2.5}


def test_a_declared_range_is_held_and_40_gets_40_percent() -> None:
    policy = compile_text(_policy("ratio in [0, 1] = 40%"), "demo/2024.policy")
    with pytest.raises(SettingError, match=r"outside the range `high_k` declares: in \[0, 1\]"):
        checked_settings(policy, {}, {"high_k": "1.5"})
    with pytest.raises(SettingError, match=r"in \[0, 1\]; did you mean 40%\?"):
        checked_settings(policy, {}, {"high_k": "40"})
    widened = compile_text(_policy("ratio in [-1, 1] = 40%"), "demo/2024.policy")
    assert checked_settings(widened, {}, {"high_k": "-50%"}).params == {"high_k": -0.5}


def _policy(declaration: str) -> str:
    text = XUANCHENG_FILE.parent.joinpath("2023.policy").read_text(encoding="utf-8")
    return text.replace(
        'param cv_limit "稳定病组变异系数上限" : number = 1',
        f'param high_k "高倍率" : {declaration}\n  assumption "示例"\n'
        'param cv_limit "稳定病组变异系数上限" : number = 1',
    )


@given(
    value=st.floats(allow_nan=True, allow_infinity=True),
    low=st.none() | st.floats(-10, 10),
    high=st.none() | st.floats(-10, 10),
    closed=st.tuples(st.booleans(), st.booleans()),
)
@settings(max_examples=300, deadline=None, derandomize=True)
def test_a_number_is_taken_exactly_when_its_range_holds_it(
    value: float, low: float | None, high: float | None, closed: tuple[bool, bool]
) -> None:
    """Computed by hand: finite, not below `low`, not above `high`, an open end excluding it."""
    allowed = ir.ValueRange(low=low, low_closed=closed[0], high=high, high_closed=closed[1])
    target = Target("--set x", ir.TypeIR(kind="number"), "number", allowed, "the range")
    inside = (
        math.isfinite(value)
        and (low is None or value > low or (closed[0] and value == low))
        and (high is None or value < high or (closed[1] and value == high))
    )
    for given_value in (value, repr(value)):
        if inside:
            assert typed_value(given_value, target, XUANCHENG) == value
        else:
            with pytest.raises(SettingError):
                typed_value(given_value, target, XUANCHENG)


# ---- the same check in every place --------------------------------------------------------------

COMMON = ["--data", str(SAMPLE), "--period", "2024"]


@pytest.mark.parametrize(
    "command",
    [
        ["settle", "--policy", str(XUANCHENG_FILE), "--out", "{out}"],
        ["explain", "--case", "C000004", "--policy", str(XUANCHENG_FILE)],
    ],
    ids=["settle", "explain"],
)
def test_settle_and_explain_refuse_before_running(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [a.replace("{out}", str(tmp_path / "out")) for a in command] + COMMON
    code, _, err = run_cli(capsys, *args, "--set", "low_ratio_grassroots=40")
    assert code == 1 and "write 40% — or 4000%" in err
    code, _, err = run_cli(capsys, *args, "--fix", "point_value=-5")
    assert code == 1 and "outside a point_value's range: > 0" in err
    assert not (tmp_path / "out").exists()


def test_whatif_refuses_a_swept_or_fixed_value_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["whatif", "--base", str(BASE_FILE), "--new", str(XUANCHENG_FILE), *COMMON]
    args += ["--out", str(tmp_path / "w")]
    code, _, err = run_cli(capsys, *args, "--set", "large_number_cases=100,2.5")
    assert code == 1 and "`2.5` is not a whole number" in err
    code, _, err = run_cli(capsys, *args, "--set", "low_ratio_grassroots=0.3,nan")
    assert code == 1 and "is not a number (NaN)" in err
    code, _, err = run_cli(capsys, *args, "--fix", "point_value=-5")
    assert code == 1 and "> 0" in err
    assert not (tmp_path / "w").exists()


def test_the_python_sweep_holds_a_count_to_whole_numbers() -> None:
    """Regression: `sweep()` checked no declared type, so a count of 2.5 ran."""
    with pytest.raises(SettingError, match="not a whole number"):
        checked_grid(XUANCHENG, {"large_number_cases": [100, 2.5]})
    with pytest.raises(SettingError, match="outside a ratio's range"):
        checked_grid(XUANCHENG, {"low_ratio_grassroots": [-0.1]})


def test_an_example_sets_values_under_the_same_rules(tmp_path: Path) -> None:
    city = tmp_path / "xuancheng"
    shutil.copytree(POLICIES / "xuancheng", city, ignore=shutil.ignore_patterns("examples"))
    path = city / "examples" / "ratio.yaml"
    path.parent.mkdir()
    source = (POLICIES / "xuancheng" / "examples" / "bilateral.yaml").read_text(encoding="utf-8")
    document = yaml.safe_load(source)
    document["set"] = {"low_ratio_grassroots": 40}
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ExampleError, match=r"ratio\.yaml: set\.low_ratio_grassroots: `40`.*40%"):
        run_example(path)


def test_the_studio_sliders_keep_to_the_range_and_are_checked() -> None:
    from policy_dsl.loader import read_policy_file, resolve

    specs = {s.name: s for s in numeric_params(resolve(read_policy_file(XUANCHENG_FILE)))}
    ratio = specs["low_ratio_grassroots"]
    assert (ratio.low, ratio.high) == (0.0, 1.0)
    count = specs["large_number_cases"]
    assert count.low == 0.0 and count.integral
    # a slider value is in the type's units: 1.2 is 120%, not second-guessed
    assert changed_params(XUANCHENG, {"low_ratio_grassroots": 1.2}) == {"low_ratio_grassroots": 1.2}
    with pytest.raises(SettingError, match=r"slider low_ratio_grassroots: `-0.1` is outside"):
        changed_params(XUANCHENG, {"low_ratio_grassroots": -0.1})
    with pytest.raises(SettingError, match="not a whole number"):
        changed_params(XUANCHENG, {"large_number_cases": 2.5})


def test_an_amount_written_as_a_share_is_refused_naming_its_unit() -> None:
    """`--set per_diem_rate=30%` was a per diem of 0.30 元 a day, exit 0; a share is a plain
    number, so `%` and `‰` are refused where the value is money (or points, or per point)."""
    wuhan = load_policy(POLICIES / "wuhan" / "2024.policy")
    with pytest.raises(SettingError, match=r"`30%` is a share .* but this value is in 元:"):
        checked_settings(wuhan, {}, {"per_diem_rate": "30%"})
    with pytest.raises(SettingError, match=r"`350万` is not a number in 元: write e.g. 350"):
        checked_settings(wuhan, {}, {"per_diem_rate": "350万"})
    assert checked_settings(wuhan, {}, {"per_diem_rate": "400"})
