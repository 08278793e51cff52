"""Every analyst's example under policies/ passes (the same runner as `drgpolicy test`)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from engine.run.examples import ExampleError, example_files, json_schema, read_example, run_example
from tests.conftest import POLICIES

EXAMPLES = example_files(POLICIES)


def test_every_city_has_examples() -> None:
    cities = {p.parent.name for p in POLICIES.rglob("*.policy")}
    covered = {p.parent.parent.name for p in EXAMPLES}
    assert cities <= covered


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_example(path: Path) -> None:
    outcome = run_example(path)
    assert outcome.passed, "\n".join(m.render() for m in outcome.mismatches)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_example_files_validate_against_the_published_schema(path: Path) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(json.loads(json.dumps(json_schema()))).validate(
        json.loads(json.dumps(document, default=str))
    )


def test_the_schema_rejects_an_unknown_key_with_its_place(tmp_path: Path) -> None:
    bad = tmp_path / "examples" / "bad.yaml"
    bad.parent.mkdir()
    bad.write_text(
        "title: x\npolicy: '2024'\nhospitals: []\ngroups: []\ncases: []\n"
        "expect: {cases: {}}\nexpcted: 1\n",
        encoding="utf-8",
    )
    with pytest.raises(ExampleError, match=r"bad\.yaml: expcted: Extra inputs"):
        read_example(bad)
