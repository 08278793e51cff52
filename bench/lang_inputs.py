"""Policies that push the language to its limits, for `lang_bench.py` and the tests: a table of
20,000 rows, a city of 150 chained versions, expressions nested to the deepest the language
allows (`policy_dsl.limits.MAX_DEPTH`) in every shape, and one level deeper.

Every policy is the bundled Xuancheng 2023 (which extends nothing) with a part added or
replaced, so it checks, settles the bundled sample and pays every case what Xuancheng 2023 pays:
at an even depth (the limit, 100) each deep expression is worth exactly 1 (or true), and the
case points are multiplied by them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "policies" / "xuancheng" / "2023.policy"
CASE_POINTS = 'let case_points "病例点数" : points at case = class_points'
HIGH_RATIO_ROWS = re.compile(
    r"  \[0, 100\) -> 300%\n  \[100, 300\) -> 250%\n  \[300, inf\) -> 200%"
)
SPECIAL = 'class special "特病单议病例" when special_review'


def base_text() -> str:
    return BASE.read_text(encoding="utf-8")


# ---- size -------------------------------------------------------------------------------------


def big_table(rows: int) -> str:
    """Xuancheng 2023 with its high-ratio table cut into `rows` ranges of one point each."""
    lines = [
        f"  [{i}, {i + 1}) -> {300 if i < 100 else 250 if i < 300 else 200}%" for i in range(rows)
    ]
    lines.append(f"  [{rows}, inf) -> 200%")
    text, found = HIGH_RATIO_ROWS.subn("\n".join(lines), base_text())
    assert found == 1
    return text


def chained_versions(folder: Path, count: int) -> Path:
    """`count` versions after Xuancheng 2023 in `folder`, each extending the one before and
    in force for one day; returns the newest."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "2023.policy").write_text(
        base_text().replace(
            "effective 2023-01-01 to 2023-12-31", "effective 2023-01-01 to 2023-01-01"
        ),
        encoding="utf-8",
    )
    base, path = "2023", folder / "2023.policy"
    for i in range(1, count + 1):
        day = dt.date(2023, 1, 1) + dt.timedelta(days=i)
        path = folder / f"v{i:03d}.policy"
        path.write_text(
            f'policy xuancheng version "v{i:03d}"\n'
            f"  effective {day} to {day}\n"
            f'  extends "{base}"\n'
            "  method points\n\n"
            f'override param cv_limit "稳定病组变异系数上限" : number = {1 + i / 1000:.3f}\n'
            f'  assumption "第 {i} 次调整"\n',
            encoding="utf-8",
        )
        base = f"v{i:03d}"
    return path


# ---- depth ------------------------------------------------------------------------------------


def _nest(depth: int, wrap: Callable[[str], str], inner: str) -> str:
    text = inner
    for _ in range(depth):
        text = wrap(text)
    return text


def _as_number(condition: Callable[[int], str]) -> Callable[[int], str]:
    """A condition of `depth - 1` levels made a number of `depth` levels: `if … then 1 else 0`."""
    return lambda depth: f"if {condition(depth - 1)} then 1 else 0"


#: Expressions worth 1 with exactly `depth` levels, by the shape of their nesting.
SHAPES: dict[str, Callable[[int], str]] = {
    "call": lambda d: _nest(d, lambda x: f"min({x}, 2)", "1"),
    "if_else": lambda d: _nest(d, lambda x: f"if false then 0 else {x}", "1"),
    "if_elif": lambda d: _nest(d, lambda x: f"if false then 0 elif true then {x} else 0", "1"),
    "if_condition": _as_number(
        lambda d: _nest(d, lambda x: f"(if {x} then true else false)", "true")
    ),
    "not": _as_number(lambda d: _nest(d, lambda x: f"not {x}", "false" if d % 2 else "true")),
    "negative": lambda d: _nest(d, lambda x: f"-{x}", "1"),  # worth 1 at an even depth
    "plus_chain": lambda d: "1" + " + 0" * d,
    "minus_chain": lambda d: "1" + " - 0" * d,
    "times_chain": lambda d: "1" + " * 1" * d,
    "divide_chain": lambda d: "1" + " / 1" * d,
    "brackets": lambda d: _nest(d, lambda x: f"1 * ({x})", "1"),
    "divide_right": lambda d: _nest(d, lambda x: f"1 / ({x})", "1"),
    "lookup": lambda d: _nest(d, lambda x: f"one[{x}]", "1"),
    "clamp": lambda d: _nest(d, lambda x: f"clamp({x}, 0, 2)", "1"),
    "round": lambda d: _nest(d, lambda x: f"round({x})", "1"),
    "tolerant_compare": lambda d: _nest(  # two levels a time, a `min` for an odd one
        d % 2,
        lambda x: f"min({x}, 2)",
        _nest(d // 2, lambda x: f"if ({x}) >= unity then 1 else 0", "1"),
    ),
    "and_or": _as_number(
        lambda d: _nest(
            d, lambda x: f"(true and {x})" if x.count("(") % 2 else f"(false or {x})", "true"
        )
    ),
    "compare": _as_number(lambda d: _nest(d, lambda x: f"({x} == true)", "true")),
}

#: What the shapes read: a table and a case value that are 1.
ONES = (
    'table one "恒为一" from number to number\n  assumption "测试用"\n  1 -> 1\n'
    'let unity "恒为一" : number at case = 1\n  assumption "测试用"\n'
)


def deep_policy(depth: int, shapes: list[str] | None = None) -> str:
    """Xuancheng 2023 with `deep_<shape>` definitions of `depth` levels multiplying the case
    points, and its special-review class tested with a condition of `depth` levels: the same
    payments as Xuancheng 2023 when every part checks."""
    chosen = shapes if shapes is not None else list(SHAPES)
    lets = [
        f'let deep_{shape} "深度 {depth}" : number at case = {SHAPES[shape](depth)}\n'
        '  assumption "测试用"'
        for shape in chosen
    ]
    product = " * ".join(["class_points", *(f"deep_{shape}" for shape in chosen)])
    condition = _nest(depth - 1, lambda x: f"not {x}", "false" if depth % 2 == 0 else "true")
    text = base_text().replace(CASE_POINTS, "\n".join([ONES, *lets, CASE_POINTS]))
    text = text.replace(CASE_POINTS, f'let case_points "病例点数" : points at case = {product}')
    return text.replace(SPECIAL, f"{SPECIAL} and {condition}")


def with_definition(expr: str, kind: str = "bool") -> str:
    """Xuancheng 2023 with one more definition, `probe`, of `expr` (read by nothing)."""
    probe = f'let probe "探针" : {kind} at case = {expr}\n  assumption "测试用"'
    return base_text().replace(CASE_POINTS, f"{probe}\n{CASE_POINTS}")


def condition_chain(terms: int, word: str = "and") -> str:
    """`terms` conditions joined by one `and` (or `or`), each a different comparison."""
    return f" {word} ".join(f"total_cost >= {i} 元" for i in range(terms))


def definition_chain(count: int) -> str:
    """Xuancheng 2023 whose case points pass through `count` definitions, each adding 0 to the
    one declared after it (so checking the first must know the last first)."""
    lets = [
        f'let step{i} "第 {i} 步" : points at case = step{i + 1} + 0 pt\n  assumption "测试用"'
        for i in range(count)
    ]
    last = f'let step{count} "第 {count} 步" : points at case = class_points'
    chain = "\n".join([*lets, last])
    return base_text().replace(
        CASE_POINTS, f'{chain}\nlet case_points "病例点数" : points at case = step0'
    )
