"""The parser's tables (语法分析表), built from `grammar.lark` at build time and shipped as JSON
beside it, so that a fresh process does not build them (about 100 ms) and never reads a cache
from a place another user can write.

    .venv/bin/python -m policy_dsl.grammar_tables     # rebuild policy_dsl/grammar_tables.json

(`make` runs it: the file is rewritten only when it is stale. Lark numbers the parser states
differently from one build to the next, so the file is not byte-reproducible; what it parses is,
and the test suite compares it with the grammar on every policy and golden file.)

Lark's own cache (`cache=True`) is a pickle in the shared temporary folder under a predictable
name: whoever plants that file runs code as the next user of `drgpolicy`. Here the tables are
plain data (Lark's serialized parser: terminals, rules, the LALR table) read with `json`, from
the installed package only. They are used only if they
were built from this very grammar text and Lark version; otherwise (a grammar edited without
rebuilding them) the parser is built from the grammar, as correct and only slower — and the test
suite fails until the tables are rebuilt.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import lark
from lark import Lark
from lark.grammar import Rule
from lark.lexer import TerminalDef

HERE = Path(__file__).resolve().parent  # read as files: importing importlib.resources costs ~10 ms
GRAMMAR = HERE / "grammar.lark"
TABLES = HERE / "grammar_tables.json"

#: One lexer for the whole file (`basic`): a keyword is always the keyword, so a reserved word
#: used as a name is a syntax error (E105); Lark's contextual lexer would build a scanner per
#: parser state, which costs a fresh process 30–50 ms on its first compile.
OPTIONS: dict[str, Any] = {
    "parser": "lalr",
    "lexer": "basic",
    "propagate_positions": True,
    "maybe_placeholders": True,
}

#: How a dict with integer keys (parser states, token numbers) is written in JSON.
_INT_KEYS = "#int-keys"


def grammar_text() -> str:
    return GRAMMAR.read_text(encoding="utf-8")


def fingerprint(grammar: str) -> dict[str, str]:
    """What the tables were built from: the grammar's sha256 and Lark's version."""
    return {
        "grammar_sha256": hashlib.sha256(grammar.encode("utf-8")).hexdigest(),
        "lark": lark.__version__,
    }


def build(grammar: str) -> Lark:
    """The parser built from the grammar text (what the tables stand for)."""
    return Lark(grammar, **OPTIONS)


def load(grammar: str) -> Lark | None:
    """The parser from the shipped tables, or None when they are absent or were built from
    another grammar text or Lark version."""
    try:
        text = TABLES.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    tables = json.loads(text, object_hook=_decode)
    if tables.get("built_from") != fingerprint(grammar):
        return None
    plugins = {"LALR_Parser": _shipped_table()}
    return Lark._load_from_dict(tables["data"], tables["memo"], _plugins=plugins)


def _shipped_table() -> type:
    """Lark's LALR parser from the shipped table, as Lark's `IntParseTable.deserialize` reads
    it but for each of the table's ~5,000 reduce actions: there its rule goes through the
    generic `Serialize.deserialize` (a namespace dict made, the fields looked up, to find it
    in the memo), here it is looked up in the memo. Lark's private names are imported only
    here, once the tables are known to be this Lark version's (`fingerprint`): another Lark
    builds its parser from the grammar and never imports them."""
    from lark.parsers.lalr_analysis import IntParseTable, Reduce, Shift
    from lark.parsers.lalr_parser import LALR_Parser, _Parser

    class ShippedTable(LALR_Parser):
        @classmethod
        def deserialize(  # type: ignore[override]  # Lark's LALR_Parser.deserialize, untyped
            cls, data: dict[str, Any], memo: dict[int, Any], callbacks: Any, debug: bool = False
        ) -> LALR_Parser:
            tokens = data["tokens"]
            states = {
                state: {
                    tokens[token]: (Reduce, memo[arg["@"]]) if action == 1 else (Shift, arg)
                    for token, (action, arg) in actions.items()
                }
                for state, actions in data["states"].items()
            }
            table = IntParseTable(states, data["start_states"], data["end_states"])
            parser = cls.__new__(cls)
            parser._parse_table = table  # type: ignore[assignment]  # as Lark's own deserialize
            parser.parser = _Parser(table, callbacks, debug)
            return parser

    return ShippedTable


def tables_json(parser: Lark, grammar: str) -> str:
    data, memo = parser.memo_serialize([TerminalDef, Rule])
    tables = {"built_from": fingerprint(grammar), "data": _encode(data), "memo": _encode(memo)}
    return json.dumps(tables, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def _encode(value: Any) -> Any:
    if isinstance(value, dict):
        if all(isinstance(key, str) for key in value):
            return {key: _encode(item) for key, item in value.items()}
        return {_INT_KEYS: [[key, _encode(item)] for key, item in value.items()]}
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    return value


def _decode(value: dict[str, Any]) -> dict[Any, Any]:
    if len(value) == 1 and _INT_KEYS in value:
        return {key: item for key, item in value[_INT_KEYS]}
    return value


def main() -> None:
    grammar = grammar_text()
    if load(grammar) is not None:
        print(f"{TABLES} is up to date")
        return
    TABLES.write_text(tables_json(build(grammar), grammar), encoding="utf-8")
    print(f"wrote {TABLES}")


if __name__ == "__main__":
    main()
