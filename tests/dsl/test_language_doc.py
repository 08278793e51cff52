"""The language reference (`docs/language.md`, `docs/language.zh-CN.md`) is generated, names
every keyword, symbol, literal, type, built-in, input table, grain, stage period, document field,
settlement output and diagnostic code in both languages, and its examples are the language's."""

from __future__ import annotations

import re

import pytest

import tests.dsl.language_doc as doc
from policy_dsl import builtins, codes
from policy_dsl.diagnostics import PolicyErrors
from policy_dsl.lower import compile_text
from policy_dsl.parser import parse
from tests.dsl.language_doc import DOCS, Undocumented, language_terms, render, terms, values

WRAP = {
    "file": "{}",
    "decl": f"{terms.HEADER}\n\n{{}}",
    "stage": f"{terms.HEADER}\n\n{{}}",
    "expr": f'{terms.HEADER}\n\nlet x "x" at case =\n  {{}}',
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_committed_reference_is_what_the_code_generates(lang: str) -> None:
    assert DOCS[lang].read_text(encoding="utf-8") == render(lang), (
        f"{DOCS[lang].name} is stale: run `.venv/bin/python -m tests.dsl.make_language_doc`"
    )


def test_every_term_of_the_language_is_described() -> None:
    assert doc.undocumented() == {}


@pytest.mark.parametrize(
    ("patch", "named"),
    [
        (lambda mp: mp.setattr(doc, "keywords", lambda: frozenset({"policy", "quota"})), "quota"),
        (lambda mp: mp.setitem(builtins.FUNCTIONS, "median", builtins.FUNCTIONS["abs"]), "median"),
        (lambda mp: mp.setitem(builtins.AGGREGATES, "median", "the middle value"), "median"),
        (lambda mp: mp.setitem(codes.CODES, "E999", "a new problem"), "E999"),
        (lambda mp: mp.setitem(doc.TYPE_NAMES, "share", doc.TYPE_NAMES["ratio"]), "share"),
        (lambda mp: mp.setitem(builtins.INPUT_TABLES, "bed", "beds"), "bed"),
    ],
)
def test_a_term_added_undocumented_stops_the_reference(
    monkeypatch: pytest.MonkeyPatch, patch: object, named: str
) -> None:
    patch(monkeypatch)  # type: ignore[operator]
    with pytest.raises(Undocumented, match=rf"\b{named}\b"):
        render("en")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_term_has_its_entry_in_both_references(lang: str) -> None:
    text = DOCS[lang].read_text(encoding="utf-8")
    names = language_terms()
    for word in names["keywords"][0]:
        assert f"\n#### `{word}`\n\n" in text
    for kind in ("functions", "aggregates", "special forms", "types", "grains", "document fields"):
        for name in names[kind][0]:
            assert f"\n| `{name}` | " in text, f"{kind}: {name}"
    for symbol in names["symbols"][0]:
        assert f"\n| {doc._code(symbol)} | " in text, symbol
    for name in names["literals"][0]:
        assert f"\n| `{terms.LITERALS[name].example}` | " in text, name
    for name in builtins.CORE_FIELDS:
        assert f"\n| `{name}` | " in text, name
    for table in builtins.INPUT_TABLES:
        assert f"\n#### `input {table}` — " in text
    for period in names["stage periods"][0]:
        assert f"\n| `per {period}` | " in text
    for status in names["document statuses"][0]:
        assert f"\n| `{status}` | " in text
    for output in names["settlement outputs"][0]:
        assert f"\n| `{output}` | " in text
    for code in codes.CODES:
        title = doc.CODES_ZH[code] if lang == "zh" else codes.CODES[code]
        assert f"\n| [{code}](diagnostics.md#{code.lower()}) | {title} |\n" in text


def examples() -> list[tuple[str, terms.Term]]:
    found = []
    for kind, (_, described) in language_terms().items():
        found += [
            (f"{kind}: {name}", t) for name, t in described.items() if isinstance(t, terms.Term)
        ]
    return [(name, t) for name, t in found if t.kind != "text"]


@pytest.mark.parametrize(("name", "term"), examples(), ids=[n for n, _ in examples()])
def test_every_example_is_written_in_the_language(name: str, term: terms.Term) -> None:
    try:
        parse(WRAP[term.kind].format(term.example))
    except PolicyErrors as exc:
        pytest.fail(f"{name}: {exc}")


def test_a_keyword_or_symbol_is_shown_in_its_own_example() -> None:
    for word, term in terms.KEYWORDS.items():
        assert re.search(rf"\b{word}\b", term.example), word
    for symbol, term in terms.SYMBOLS.items():
        assert doc.example_line(term.example, symbol), symbol


def test_the_whole_file_shown_checks_clean() -> None:
    block = doc._starter().removeprefix("```policy\n").removesuffix("\n```")
    policy = compile_text(block + "\n", "hefei/2024.policy", siblings=[])
    assert policy.city == "hefei" and policy.method == "points"


def test_the_outputs_listed_are_those_each_method_needs() -> None:
    text = DOCS["en"].read_text(encoding="utf-8")
    section = text[text.index("## Settlement outputs") : text.index("## Stages")]
    assert "**`method points`**" in section and "**`method rate`**" in section
    for name in ("settled_points", "point_value", "settled_weight", "rate", "payment"):
        assert f"| `{name}` |" in section
    assert values.OUTPUTS["payment"].en.startswith("The case's payable amount")


def test_every_description_is_written_in_both_languages() -> None:
    registered = {"functions", "aggregates", "special forms"}  # English: the registry's own doc
    for kind, (_, described) in language_terms().items():
        for name, term in described.items():
            if isinstance(term, terms.Term):
                assert term.zh.strip(), f"{kind}: {name} has no Chinese"
                assert kind in registered or term.en.strip(), f"{kind}: {name} has no English"
            else:
                assert str(term).strip(), f"{kind}: {name}"
