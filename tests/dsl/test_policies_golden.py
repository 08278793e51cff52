"""Every shipped policy is clean, canonically formatted, and compiles to a valid, stable IR."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import jsonschema
import pytest

from policy_dsl import ir
from policy_dsl.check import check_path
from policy_dsl.format import format_policy
from policy_dsl.loader import read_policy_file
from policy_dsl.lower import compile_file, compile_text
from policy_dsl.parser import parse

ROOT = Path(__file__).resolve().parents[2]
POLICIES = sorted((ROOT / "policies").rglob("*.policy"))
XUANCHENG = ROOT / "policies" / "xuancheng"


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT / "policies"))


def test_there_are_shipped_policies() -> None:
    assert {p.name for p in POLICIES} >= {"2023.policy", "2024.policy"}


@pytest.mark.parametrize("path", POLICIES, ids=_id)
def test_policy_checks_without_errors_or_warnings(path: Path) -> None:
    diagnostics = check_path(path).diagnostics
    assert not diagnostics, "\n".join(d.render() for d in diagnostics)


@pytest.mark.parametrize("path", POLICIES, ids=_id)
def test_policy_is_formatted(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert format_policy(parse(text, str(path)), text) == text


@pytest.mark.parametrize("path", POLICIES, ids=_id)
def test_ir_validates_against_the_published_schema(path: Path) -> None:
    policy = compile_file(path)
    data = json.loads(policy.model_dump_json())
    jsonschema.Draft202012Validator(ir.json_schema()).validate(data)
    assert data["city"] == path.parent.name
    assert data["hash"] == ir.content_hash(policy)
    assert re.fullmatch(r"[0-9a-f]{64}", data["hash"])


@pytest.mark.parametrize("path", POLICIES, ids=_id)
def test_ir_round_trips_through_json(path: Path) -> None:
    policy = compile_file(path)
    again = ir.Policy.model_validate_json(policy.model_dump_json())
    assert again == policy
    assert ir.content_hash(again) == policy.hash


def test_schema_rejects_an_ir_with_an_unknown_method() -> None:
    data = json.loads(compile_file(XUANCHENG / "2024.policy").model_dump_json())
    data["method"] = "capitation"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(ir.json_schema()).validate(data)


# ---- content hash: meaning, not layout ---------------------------------------------


def _without_key(value: object, key: str) -> object:
    """`value` (a JSON dump) with every `key` removed, at any depth."""
    if isinstance(value, dict):
        return {k: _without_key(v, key) for k, v in value.items() if k != key}
    if isinstance(value, list):
        return [_without_key(v, key) for v in value]
    return value


@pytest.mark.parametrize("path", POLICIES, ids=_id)
def test_hash_is_of_the_dump_without_any_origin(path: Path) -> None:
    """`ir.NOT_HASHED` names where origins stand; here every `origin` key is dropped from the
    whole dump, wherever it is: the two must agree."""
    policy = compile_file(path)
    data = _without_key(policy.model_dump(mode="json", exclude={"hash"}), "origin")
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert policy.hash == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert '"origin"' in policy.model_dump_json() and '"origin"' not in text


def test_every_model_with_an_origin_is_left_out_of_the_hash() -> None:
    """A model given an `origin` must be named in `ir.NOT_HASHED` (these are the models that
    `NOT_HASHED` reaches); a new one fails here first."""
    holders = {
        name
        for name, model in vars(ir).items()
        if isinstance(model, type)
        and issubclass(model, ir.Model)
        and "origin" in model.model_fields
    }
    assert holders == {"Definition", "Document", "Indicator", "Param", "Table", "Target"}


def _compile_2024(text: str, base_text: str | None = None) -> ir.Policy:
    base = read_policy_file(XUANCHENG / "2023.policy")
    if base_text is not None:
        base = type(base)(base.path, base_text, parse(base_text, str(base.path)))
    return compile_text(text, str(XUANCHENG / "2024.policy"), siblings=[base])


def _origin(policy: ir.Policy, name: str) -> ir.Origin:
    stage = policy.stages[0]
    origin = next(d.origin for d in stage.definitions if d.name == name)
    assert origin is not None
    return origin


def _with_comments_and_blank_lines(text: str) -> str:
    """The same policy with a comment and a blank line before each declaration, and a
    trailing comment on every parameter."""
    text = re.sub(
        r"(?m)^((?:override )?(?:let|param|table|classify|formula|adjust|report)) ",
        "\n# 注释\n\n\\1 ",
        text,
    )
    return re.sub(r"(?m)^((?:override )?param .*)$", r"\1  # 待核", text)


def test_hash_ignores_comments_and_blank_lines() -> None:
    text = (XUANCHENG / "2024.policy").read_text(encoding="utf-8")
    noisy = _with_comments_and_blank_lines(text)
    assert noisy != text and noisy.count("# 注释") > 10
    original, relaid = _compile_2024(text), _compile_2024(noisy)
    assert relaid.hash == original.hash
    moved = _origin(relaid, "stable_group").line - _origin(original, "stable_group").line
    assert moved > 0, "the definition moved down the file, yet the hash stayed"


def test_hash_ignores_comments_in_the_base_version() -> None:
    text = (XUANCHENG / "2024.policy").read_text(encoding="utf-8")
    base = (XUANCHENG / "2023.policy").read_text(encoding="utf-8")
    assert _compile_2024(text, _with_comments_and_blank_lines(base)).hash == (
        _compile_2024(text).hash
    )


def test_hash_changes_when_a_parameter_value_changes() -> None:
    text = (XUANCHENG / "2024.policy").read_text(encoding="utf-8")
    changed = text.replace(": count = 5\n", ": count = 6\n")
    assert changed.count(": count = 6") == 1
    policy, other = _compile_2024(text), _compile_2024(changed)
    assert policy.param("min_stable_cases").value == 5
    assert other.param("min_stable_cases").value == 6
    assert other.hash != policy.hash


def test_hash_changes_when_the_base_version_changes() -> None:
    text = (XUANCHENG / "2024.policy").read_text(encoding="utf-8")
    base = (XUANCHENG / "2023.policy").read_text(encoding="utf-8")
    changed = base.replace(": ratio = 40%", ": ratio = 45%")
    assert changed != base
    assert _compile_2024(text, changed).hash != _compile_2024(text).hash


def test_hash_of_a_file_is_the_hash_of_its_text() -> None:
    path = XUANCHENG / "2024.policy"
    assert compile_file(path).hash == _compile_2024(path.read_text(encoding="utf-8")).hash
