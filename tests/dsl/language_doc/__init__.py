"""The language reference (`docs/language.md`, `docs/language.zh-CN.md`), generated.

The prose is written by hand, once per language (`en.md`, `zh.md` beside this file); every list
in it is generated from the code — the keywords, symbols and literals from the grammar
(`policy_dsl.parser`), the types and their default ranges (`policy_dsl.types`,
`policy_dsl.ranges`), the built-in functions, aggregates, fields and input tables
(`policy_dsl.builtins`), the grains, stage periods, document fields, the settlement outputs of
each method, the limits and the diagnostic codes — and described in `terms.py`, `values.py`
and `codes_zh.py`. A term the code has and those modules do not describe raises `Undocumented`,
so the reference cannot leave one out; `tests/dsl/test_language_doc.py` checks the committed
files are what this builds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

from engine.inputs.fields import TABLES, FieldSpec
from engine.new_city import template_files
from policy_dsl import builtins, grains
from policy_dsl.ast import DOCUMENT_FIELDS
from policy_dsl.check.declarations import PERIODS
from policy_dsl.check.documents import REQUIRED, STATUSES
from policy_dsl.check.structure import OUTPUTS
from policy_dsl.codes import CODES
from policy_dsl.ir import ValueRange
from policy_dsl.limits import MAX_DEPTH, MAX_DIGITS, MAX_POWER
from policy_dsl.names import MAX_BYTES
from policy_dsl.parser import _lark, keywords, terminals
from policy_dsl.ranges import DEFAULT_RANGES
from policy_dsl.types import TYPE_NAMES, Type
from tests.dsl.language_doc import terms, values
from tests.dsl.language_doc.codes_zh import CODES_ZH

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
DOCS = {"en": ROOT / "docs" / "language.md", "zh": ROOT / "docs" / "language.zh-CN.md"}
PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


class Undocumented(Exception):
    """Terms of the language that the reference does not describe."""


# ---- what the code has -------------------------------------------------------------------------


def symbols() -> list[str]:
    """The grammar's symbols: its string terminals that are not words, and the comparison
    operators of `COMP_OP`."""
    found = [
        str(t.pattern.value)
        for t in terminals().values()
        if t.pattern.type == "str" and not re.fullmatch(r"\w+", str(t.pattern.value))
    ]
    comparisons = str(terminals()["COMP_OP"].pattern.value).removeprefix("(?:").removesuffix(")")
    return sorted({*found, *comparisons.split("|")})


def literal_terminals() -> list[str]:
    """The terminals the grammar's `literal` rule is made of."""
    rules = [r for r in _lark().rules if r.origin.name == "literal"]
    return list(dict.fromkeys(str(s.name) for r in rules for s in r.expansion))


def language_terms() -> dict[str, tuple[list[str], Mapping[str, object]]]:
    """Each kind of term: the names the code has, and where they are described."""
    return {
        "keywords": (sorted(keywords()), terms.KEYWORDS),
        "symbols": (symbols(), terms.SYMBOLS),
        "literals": (literal_terminals(), terms.LITERALS),
        "types": (list(TYPE_NAMES), values.TYPES),
        "functions": (list(builtins.FUNCTIONS), values.FUNCTIONS),
        "aggregates": (list(builtins.AGGREGATES), values.AGGREGATES),
        "special forms": (list(builtins.SPECIAL_FORMS), values.SPECIAL_FORMS),
        "derived fields": (_derived_fields(), values.DERIVED_FIELDS),
        "input tables": (list(builtins.INPUT_TABLES), values.INPUT_TABLES),
        "grains": ([*grains.KEYS, "all"], values.GRAINS),
        "stage periods": (list(PERIODS), values.PERIODS),
        "document fields": (list(DOCUMENT_FIELDS), values.DOCUMENT_FIELDS),
        "document statuses": (list(STATUSES), values.STATUSES),
        "settlement outputs": (sorted({n for o in OUTPUTS.values() for n in o}), values.OUTPUTS),
        "diagnostic codes (Chinese titles)": (list(CODES), CODES_ZH),
    }


def _derived_fields() -> list[str]:
    """Built-in fields that are no column of the data contract (described in `values.py`)."""
    return [name for name, field in builtins.CORE_FIELDS.items() if _contract_spec(field) is None]


def undocumented() -> dict[str, list[str]]:
    """Per kind, the terms the code has that the reference does not describe (and, marked
    `(stale)`, descriptions of terms the code no longer has)."""
    found = {}
    for kind, (names, described) in language_terms().items():
        missing = [n for n in names if n not in described]
        stale = [f"{n} (stale)" for n in described if n not in names]
        if missing or stale:
            found[kind] = missing + stale
    return found


# ---- rendering ---------------------------------------------------------------------------------


def render(lang: str) -> str:
    """The whole reference in `lang` ("en" or "zh")."""
    missing = undocumented()
    if missing:
        lines = [f"{kind}: {', '.join(names)}" for kind, names in missing.items()]
        raise Undocumented(
            "the language reference does not describe: " + "; ".join(lines) + " — add them to "
            "tests/dsl/language_doc/terms.py, values.py or codes_zh.py"
        )
    template = (HERE / f"{lang}.md").read_text(encoding="utf-8")
    blocks = _blocks(lang)

    def fill(match: re.Match[str]) -> str:
        return blocks[match.group(1)]()

    return PLACEHOLDER.sub(fill, template)


def _blocks(lang: str) -> dict[str, Callable[[], str]]:
    zh = lang == "zh"
    return {
        "starter": _starter,
        "literals": lambda: _literals(zh),
        "types": lambda: _types(zh),
        "symbols": lambda: _symbols(zh),
        "keywords": lambda: _keywords(zh),
        "functions": lambda: _functions(zh),
        "aggregates": lambda: _registered(builtins.AGGREGATES, values.AGGREGATES, zh, "aggregate"),
        "special_forms": lambda: _registered(
            builtins.SPECIAL_FORMS, values.SPECIAL_FORMS, zh, "form"
        ),
        "fields": lambda: _fields(zh),
        "input_tables": lambda: _input_tables(zh),
        "grains": lambda: _named_table(values.GRAINS, zh, "grain", "粒度"),
        "periods": lambda: _named_table(values.PERIODS, zh, "period", "周期", prefix="per "),
        "document_fields": lambda: _document_fields(zh),
        "statuses": lambda: _named_table(values.STATUSES, zh, "status", "状态"),
        "outputs": lambda: _outputs(zh),
        "codes": lambda: _codes(zh),
        "max_depth": lambda: str(MAX_DEPTH),
        "max_digits": lambda: str(MAX_DIGITS),
        "max_power": lambda: str(MAX_POWER),
        "max_name_bytes": lambda: str(MAX_BYTES),
    }


def _pick(term: terms.Term, zh: bool) -> str:
    return term.zh if zh else term.en


def _code(text: str) -> str:
    """Inline code that may hold a backtick or a bar (in a table)."""
    text = text.replace("|", "\\|")
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _starter() -> str:
    """The starting policy of `drgpolicy init` (points method), without its comments."""
    text = template_files("hefei", "points", 2024)["2024.policy"]
    kept = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    squeezed = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip("\n")
    return f"```policy\n{squeezed}\n```"


def _literals(zh: bool) -> str:
    rows = [
        [_code(t.example), _pick(t, zh)]
        for name in literal_terminals()
        for t in [terms.LITERALS[name]]
    ]
    rows.append([_code("inf"), _pick(terms.KEYWORDS["inf"], zh)])
    return _table(["写法" if zh else "literal", "含义" if zh else "meaning"], rows)


_UNITS_ZH = {
    "a plain number": "纯数",
    "money": "金额（元）",
    "points": "点数",
    "money per point": "金额 / 点数",
    "true/false": "是 / 否",
    "text": "文字",
    "a date": "日期",
}


def _unit(typ: Type, zh: bool) -> str:
    return _UNITS_ZH[str(typ)] if zh else str(typ)


def _range(found: ValueRange | None, zh: bool) -> str:
    if found is None:
        return "—"
    if not zh:
        return str(found)
    if found.low is not None and found.high is not None:
        opening, closing = "[" if found.low_closed else "(", "]" if found.high_closed else ")"
        text = f"{opening}{found.low:g}, {found.high:g}{closing}"
    elif found.low is not None:
        text = f"{'≥' if found.low_closed else '>'} {found.low:g}"
    else:
        text = "任意有限数"
    return f"{text} 的整数" if found.whole else text


def _types(zh: bool) -> str:
    rows = []
    for name, typ in TYPE_NAMES.items():
        term = values.TYPES[name]
        default = DEFAULT_RANGES.get(name)
        rows.append(
            [
                _code(name),
                _unit(typ, zh),
                _range(default[0] if default else None, zh),
                _pick(term, zh),
                _code(term.example),
            ]
        )
    headers = (
        ["类型", "单位", "默认取值范围", "含义", "示例"]
        if zh
        else [
            "type",
            "unit",
            "default range",
            "meaning",
            "example",
        ]
    )
    return _table(headers, rows)


def _symbols(zh: bool) -> str:
    rows = [
        [_code(symbol), _pick(term, zh), _code(example_line(term.example, symbol))]
        for symbol, term in terms.SYMBOLS.items()
    ]
    return _table(["符号", "含义", "示例"] if zh else ["symbol", "meaning", "example"], rows)


def example_line(example: str, term: str) -> str:
    """The first line of an example that shows the term."""
    return next((line.strip() for line in example.splitlines() if term in line), "")


def _keywords(zh: bool) -> str:
    parts = []
    for word in sorted(keywords()):
        term = terms.KEYWORDS[word]
        parts.append(f"#### `{word}`\n\n{_pick(term, zh)}\n\n```policy\n{term.example}\n```\n")
    return "\n".join(parts).rstrip("\n")


def _arity(function: builtins.Function, zh: bool) -> str:
    low, high = function.min_args, function.max_args
    if high is None:
        return f"{low} 个或更多" if zh else f"{low} or more"
    if low == high:
        return f"{low} 个" if zh else str(low)
    return f"{low}–{high} 个" if zh else f"{low}–{high}"


def _functions(zh: bool) -> str:
    rows = [
        [
            _code(name),
            _arity(function, zh),
            values.FUNCTIONS[name].zh if zh else function.doc,
            _code(values.FUNCTIONS[name].example),
        ]
        for name, function in builtins.FUNCTIONS.items()
    ]
    headers = (
        ["函数", "参数个数", "含义", "示例"]
        if zh
        else ["function", "arguments", "meaning", "example"]
    )
    return _table(headers, rows)


def _registered(
    registry: Mapping[str, str], described: Mapping[str, terms.Term], zh: bool, head: str
) -> str:
    """A registry of the language whose entries carry their English words (aggregates, special
    forms), with the Chinese words and an example of `described`."""
    rows = [
        [_code(name), described[name].zh if zh else doc, _code(described[name].example)]
        for name, doc in registry.items()
    ]
    heads = {"aggregate": "聚合", "form": "写法"}
    headers = [heads[head], "含义", "示例"] if zh else [head, "meaning", "example"]
    return _table(headers, rows)


def _contract_spec(field: builtins.Field) -> FieldSpec | None:
    """The data contract's column of a built-in field (None for a derived one)."""
    specs = [spec for kind, found in TABLES.items() if kind == field.table for spec in found]
    return next((spec for spec in specs if spec.name == field.column), None)


def _fields(zh: bool) -> str:
    rows = []
    for name, field in builtins.CORE_FIELDS.items():
        spec = _contract_spec(field)
        english = spec.description if spec is not None else values.DERIVED_FIELDS[name].en
        meaning = (
            (values.DERIVED_FIELDS[name].zh if name in values.DERIVED_FIELDS else field.label)
            if zh
            else english
        )
        source = (
            f"{field.table}.{field.column}"
            if spec is not None
            else ("（派生）" if zh else "(derived)")
        )
        rows.append([_code(name), source, grains.show(field.grain), _unit(field.type, zh), meaning])
    headers = (
        ["字段", "数据列", "粒度", "类型", "含义"]
        if zh
        else ["field", "column", "grain", "type", "meaning"]
    )
    return _table(headers, rows)


def _input_tables(zh: bool) -> str:
    parts = []
    for table, file in builtins.INPUT_TABLES.items():
        term = values.INPUT_TABLES[table]
        where = "`budget.yaml`" if table == "budget" else f"`{file}.csv` / `{file}.parquet`"
        example = f"```policy\n{term.example}\n```\n"
        parts.append(f"#### `input {table}` — {where}\n\n{_pick(term, zh)}\n\n{example}")
    return "\n".join(parts).rstrip("\n")


def _named_table(
    described: Mapping[str, terms.Term], zh: bool, en_head: str, zh_head: str, prefix: str = ""
) -> str:
    rows = [[_code(prefix + name), _pick(term, zh)] for name, term in described.items()]
    return _table([zh_head if zh else en_head, "含义" if zh else "meaning"], rows)


def _document_fields(zh: bool) -> str:
    rows = []
    for name in DOCUMENT_FIELDS:
        term = values.DOCUMENT_FIELDS[name]
        required = (
            ("必填" if zh else "required") if name in REQUIRED else ("可选" if zh else "optional")
        )
        rows.append([_code(name), required, _pick(term, zh), _code(term.example)])
    headers = ["字段", "", "含义", "示例"] if zh else ["field", "", "meaning", "example"]
    return _table(headers, rows)


def _outputs(zh: bool) -> str:
    parts = []
    for method, outputs in OUTPUTS.items():
        rows = [
            [
                _code(name),
                ("分类" if zh else "a classification") if typ is None else _unit(typ, zh),
                _pick(values.OUTPUTS[name], zh),
            ]
            for name, typ in outputs.items()
        ]
        head = ["结果", "类型", "含义"] if zh else ["output", "type", "meaning"]
        parts.append(f"**`method {method}`**\n\n{_table(head, rows)}\n")
    return "\n".join(parts).rstrip("\n")


def _codes(zh: bool) -> str:
    rows = [
        [f"[{code}](diagnostics.md#{code.lower()})", CODES_ZH[code] if zh else title]
        for code, title in CODES.items()
    ]
    return _table(["代码", "问题"] if zh else ["code", "what it is about"], rows)


def write() -> None:
    for lang, path in DOCS.items():
        path.write_text(render(lang), encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
