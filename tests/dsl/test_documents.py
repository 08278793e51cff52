"""The `document` declaration: its fields through the parser, the formatter, the checker
(E130–E136 beyond their golden files) and the IR, and its quotes checked against its text (E137,
W130) with each file's count of quotes verified, not found and unverifiable."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from policy_dsl import ast as a
from policy_dsl import ir
from policy_dsl.check import check, check_path
from policy_dsl.diagnostics import PolicyErrors
from policy_dsl.format import format_policy
from policy_dsl.loader import policy_from_text, resolve
from policy_dsl.lower import compile_file, lower
from policy_dsl.parser import parse
from policy_dsl.sources import source_folders

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "diagnostics"
NOTICE = GOLDEN / "sources" / "notice.txt"

HEADER = """\
policy demo version "2024"
  effective 2024-01-01 to 2024-12-31
  method points
"""
DOCUMENT = """
document notice "示例市DRG付费细则"
  issuer "示例市医疗保障局"
  number "示例〔2024〕1号"
  date 2024-01-01
  status in_force
  text "notice.txt"
"""
#: The settlement outputs a points policy defines, and a parameter citing the notice.
BODY = """
param low_k "低倍率判定系数" : ratio = 40%
  source notice "住院总费用低于该病组均次住院费用 0.4 倍的病例为低倍率病例"
let base_points "基准点数" : points at group = weight * 100 pt
  source notice "病组基准点数=该病组次均住院费用÷全部病组次均住院费用×100"
classify category "病例类型"
  class ungrouped "未入组病例" when ungrouped
  class low "低倍率病例" when total_cost / avg_cost < low_k
    source notice "第六条……低倍率病例"
  class normal "正常病例" otherwise
let case_points "病例点数" : points at case = base_points
let coefficient "医疗机构系数" : ratio at case = 1
let settled_points "结算点数" : points at case = case_points * coefficient
input budget fund "本期基金预算" : money
let point_value "点值" : point_value at all = fund / sum(settled_points)
let payment "病例支付额" : money at case = settled_points * point_value
"""


def _policy(folder: Path, document: str = DOCUMENT, body: str = BODY) -> Path:
    path = folder / "2024.policy"
    path.write_text(HEADER + document + body, encoding="utf-8")
    return path


def _with_text(folder: Path) -> Path:
    (folder / "sources").mkdir(parents=True, exist_ok=True)
    (folder / "sources" / "notice.txt").write_bytes(NOTICE.read_bytes())
    return folder


# ---- parsing, formatting, lowering -------------------------------------------------------------


def test_fields_in_any_order_and_layout_parse_to_one_tree() -> None:
    canonical = parse(HEADER + DOCUMENT)
    scrambled = parse(
        HEADER + 'document notice "示例市DRG付费细则" status in_force text "notice.txt"\n'
        '  date 2024-01-01 number "示例〔2024〕1号"   issuer "示例市医疗保障局"\n'
    )
    assert scrambled == canonical
    (decl,) = canonical.items
    assert isinstance(decl, a.Document)
    assert [f.name for f in decl.fields] == ["issuer", "number", "date", "status", "text"]
    assert decl.value("date") == "2024-01-01" and decl.value("status") == "in_force"
    assert format_policy(scrambled) == format_policy(canonical) == (HEADER + DOCUMENT)


def test_the_ir_carries_every_field(tmp_path: Path) -> None:
    policy = compile_file(_policy(tmp_path))
    (document,) = policy.documents
    assert document.model_dump(exclude={"origin"}) == {
        "name": "notice",
        "title": "示例市DRG付费细则",
        "issuer": "示例市医疗保障局",
        "number": "示例〔2024〕1号",
        "date": "2024-01-01",
        "status": "in_force",
        "text": "notice.txt",
    }
    assert document.origin is not None and document.origin.line == 5
    data = json.loads(policy.model_dump_json())
    jsonschema.Draft202012Validator(ir.json_schema()).validate(data)
    data["documents"][0]["status"] = "final"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(ir.json_schema()).validate(data)


def test_a_document_without_number_month_date_and_text(tmp_path: Path) -> None:
    document = DOCUMENT.replace('"示例〔2024〕1号"', "none").replace("2024-01-01", '"2023-04"')
    document = document.replace('  text "notice.txt"\n', "").replace("in_force", "report")
    (ir_document,) = compile_file(_policy(tmp_path, document)).documents
    assert (ir_document.number, ir_document.date, ir_document.status, ir_document.text) == (
        None,
        "2023-04",
        "report",
        None,
    )


def test_a_changed_field_changes_the_hash_but_the_folder_does_not(tmp_path: Path) -> None:
    folders = [tmp_path / name for name in ("a", "b", "c")]
    for folder in folders:
        folder.mkdir()
    first = compile_file(_policy(folders[0]))
    moved = compile_file(_policy(folders[1]))
    drafted = compile_file(_policy(folders[2], DOCUMENT.replace("in_force", "draft")))
    assert first.hash == moved.hash, "where the file lies is its origin, not its meaning"
    assert drafted.hash != first.hash


def test_the_old_form_gets_a_hint_naming_the_fields() -> None:
    with pytest.raises(PolicyErrors) as caught:
        parse(HEADER + 'document doc "示例〔2024〕1号" "示例DRG付费细则"\n')
    (d,) = caught.value.diagnostics
    assert (d.code, d.line, d.column) == ("E001", 4, 27)
    assert "one text after its name, its title" in d.message
    assert d.hint is not None and "`issuer" in d.hint and "`number none`" in d.hint


# ---- the checker: fields ------------------------------------------------------------------------


def _codes(document: str) -> list[tuple[str, int, str]]:
    tree = policy_from_text(HEADER + document + BODY, "demo/2024.policy")
    return [(d.code, d.line, d.message) for d in check(resolve(tree, [])).diagnostics]


@pytest.mark.parametrize(
    ("old", "new", "code", "words"),
    [
        ("date 2024-01-01", "date 2024", "E134", "`date `2024`` is not a date"),
        ("date 2024-01-01", "date today", "E134", "`date `today`` is not a date"),
        ("date 2024-01-01", 'date "2024-02-30"', "E134", "is not a date"),
        ('issuer "示例市医疗保障局"', "issuer none", "E133", "`issuer` is the issuing body"),
        ('issuer "示例市医疗保障局"', 'issuer "  "', "E133", "`issuer` is the issuing body"),
        ('number "示例〔2024〕1号"', "number nothing", "E133", "`number` is the 文号"),
        ('text "notice.txt"', "text notice", "E133", "`text` is a file name in quotes"),
        ('text "notice.txt"', 'text "/etc/passwd"', "E136", "it is an absolute path"),
        ("status in_force", 'status "draft"', "E135", "`draft` is not a status"),
        ("status in_force", "status report", None, ""),
        ("status in_force", "status draft", None, ""),
        ("date 2024-01-01", 'date "2022"', None, ""),
        ("date 2024-01-01", 'date "2021-05-10"', None, ""),
    ],
)
def test_each_field_value_is_validated(old: str, new: str, code: str | None, words: str) -> None:
    found = _codes(DOCUMENT.replace(old, new))
    if code is None:
        assert found == []
    else:
        assert [(c, words in m) for c, _, m in found] == [(code, True)], found


def test_a_quoted_status_is_told_to_lose_its_quotes() -> None:
    tree = policy_from_text(HEADER + DOCUMENT.replace("in_force", '"in_force"') + BODY, "x")
    (d,) = check(resolve(tree, [])).diagnostics
    assert d.code == "E135" and d.hint is not None and "without quotes" in d.hint


def test_every_missing_field_is_named_once() -> None:
    (found,) = _codes('\ndocument notice "示例市DRG付费细则"\n')
    assert found[0] == "E132"
    assert "`issuer`, `number`, `date` and `status`" in found[2]


# ---- the checker: quotes against the text -------------------------------------------------------


def test_without_search_path_quotes_are_not_looked_up(tmp_path: Path) -> None:
    checked = check_path(_policy(tmp_path))
    assert checked.citations is None and checked.diagnostics == []


def test_each_quote_is_verified_in_the_policys_own_sources_folder(tmp_path: Path) -> None:
    path = _policy(_with_text(tmp_path))
    checked = check_path(path, source_folders(environ={}))
    assert checked.diagnostics == []
    assert checked.citations is not None
    assert checked.citations.tally(path) == {"verified": 3, "not_found": 0, "unverifiable": 0}
    passages = [c.passage.marked() for c in checked.citations.in_file(path) if c.passage]
    assert passages[2] == (
        "【第六条】住院总费用低于该病组均次住院费用0.4倍的病例为【低倍率病例】，"
        "一级及以下定点医疗机构为0.3倍以下。"
    )


def test_a_quote_not_found_is_an_error_with_the_closest_passage(tmp_path: Path) -> None:
    body = BODY.replace("费用 0.4 倍的病例为低倍率病例", "费用四成以下的为低倍率")
    path = _policy(_with_text(tmp_path), body=body)
    checked = check_path(path, source_folders(environ={}))
    (d,) = checked.diagnostics
    assert (d.code, d.line, d.column) == ("E137", 13, 3)
    assert d.hint is not None
    assert "“第六条住院总费用低于该病组均次住院费用0.4倍的病例为低倍率病例，" in d.hint
    assert checked.citations is not None
    assert checked.citations.tally(path) == {"verified": 2, "not_found": 1, "unverifiable": 0}


def test_a_missing_text_is_one_warning_for_all_its_quotes(tmp_path: Path) -> None:
    path = _policy(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    checked = check_path(path, source_folders([elsewhere], environ={}))
    (d,) = checked.diagnostics
    assert (d.code, d.line) == ("W130", 10)
    assert "its 3 quotes are not checked" in d.message
    assert d.hint is not None and f"{tmp_path / 'sources'}, {elsewhere}" in d.hint
    assert checked.citations is not None
    assert checked.citations.tally(path) == {"verified": 0, "not_found": 0, "unverifiable": 3}


def test_a_document_nobody_quotes_needs_no_text(tmp_path: Path) -> None:
    body = "\n".join(
        "  source notice" if line.strip().startswith("source notice") else line
        for line in BODY.splitlines()
    )
    checked = check_path(_policy(tmp_path, body=body + "\n"), source_folders(environ={}))
    assert checked.diagnostics == []


def test_a_text_that_cannot_be_read_says_why(tmp_path: Path) -> None:
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "notice.txt").write_bytes("第六条 低倍率".encode("gbk"))
    (d,) = check_path(_policy(tmp_path), source_folders(environ={})).diagnostics
    assert d.code == "W130" and "cannot be read" in d.message
    assert d.hint is not None and "not UTF-8" in d.hint


def test_folders_are_searched_in_order_the_environment_last(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    _with_text(first)
    (second / "sources").mkdir(parents=True)
    (second / "sources" / "notice.txt").write_text("别的文件", encoding="utf-8")
    path = _policy(tmp_path)
    env = {"DRGPOLICY_SOURCES": str(second / "sources")}
    assert [d.code for d in check_path(path, source_folders([], env)).diagnostics] == [
        "E137",
        "E137",
        "E137",
    ]
    assert check_path(path, source_folders([first / "sources"], env)).diagnostics == []


def test_a_settlement_compiles_whatever_its_quotes_say(tmp_path: Path) -> None:
    body = BODY.replace("费用 0.4 倍的病例为低倍率病例", "费用四成以下的为低倍率")
    path = _policy(_with_text(tmp_path), body=body)
    assert compile_file(path).param("low_k").value == pytest.approx(0.4)
    assert lower(check(resolve(policy_from_text(path.read_text(), str(path)), []))).documents
