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


def _edited_example(tmp_path: Path, old: str, new: str) -> Path:
    """Xuancheng's bilateral example, with one edit an analyst might make, beside its policies."""
    city = tmp_path / "xuancheng"
    city.mkdir()
    for policy in (POLICIES / "xuancheng").glob("*.policy"):
        (city / policy.name).write_text(policy.read_text(encoding="utf-8"), encoding="utf-8")
    text = (POLICIES / "xuancheng" / "examples" / "bilateral.yaml").read_text(encoding="utf-8")
    assert text.count(old) == 1
    example = city / "examples" / "bilateral.yaml"
    example.parent.mkdir()
    example.write_text(text.replace(old, new), encoding="utf-8")
    return example


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param(
            "C2: {category: normal, case_points:",
            "C2: {category: normal, case_point:",
            "expect.cases.C2.case_point: no definition named `case_point` in stage settlement; "
            "did you mean `case_points`?",
            id="an expected value of a misspelt name: where, and the closest name",
        ),
        pytest.param(
            "{case_id: C2, hospital_id: H1,",
            "{case_id: C2, hospital_id: H2,",
            "the example's data has rejected rows: `cases:` C2, hospital_id: hospital H2 is not "
            "in the example's `hospitals:`",
            id="a case of a hospital the example does not give, in the example's words",
        ),
        pytest.param(
            'policy: "2024"',
            'policy: "2024"\nperiod: "2023"',
            "xuancheng 2024 is in force from 2024-01-01 to 2024-12-31, but period 2023 runs from "
            "2023-01-01 to 2023-12-31: give the example a `period:` within the dates of its "
            "`policy:`, or name the version in force then",
            id="a period outside the policy's dates, in the example's words",
        ),
        pytest.param(
            'policy: "2024"',
            'policy: "2024"\nprevious: {case: {city: 3}}',
            "previous.case: xuancheng 2024 reads no `previous.case`; did you mean `cases`? (it "
            "reads `admissions_per_person`, `cases`, `cmi`, `cost_per_case`, `unit_weight_cost`)",
            id="a previous value of a misspelt indicator: where, and the closest name",
        ),
        pytest.param(
            'policy: "2024"',
            'policy: "2024"\nprevious: {grouping_rate: {city: 0.9}}',
            "previous.grouping_rate: xuancheng 2024 reads no `previous.grouping_rate` (it reads "
            "`admissions_per_person`, `cases`, `cmi`, `cost_per_case`, `unit_weight_cost`)",
            id="a previous value no rule reads (rev30: accepted, changing nothing)",
        ),
        pytest.param(
            'policy: "2024"',
            'policy: "2024"\nprevious: {cases: {grp GA: 5}}',
            "previous.cases: `grp GA`: `previous.cases` is read at city, group, hospital, level, "
            "tier, not at `grp`; give rows as `city` or `<grain> <key>` (`group DRG1`)",
            id="a previous value at a grain not read (rev30: accepted, changing nothing)",
        ),
    ],
)
def test_an_analysts_slip_in_an_example_is_told_in_the_examples_words(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    example = _edited_example(tmp_path, old, new)
    with pytest.raises(ExampleError) as caught:
        run_example(example)
    assert str(caught.value) == f"{example}: {message}"


_MINIMAL = "title: x\nhospitals: []\ngroups: []\ncases: []\nexpect: {cases: {}}\n"


def _example(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "examples" / "x.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_an_example_s_policy_is_a_version_of_its_own_city(tmp_path: Path) -> None:
    """`policy: ../../wuhan/2024` compiled another city's policy (on main), beside this city's
    examples: a version is a plain name, as `init --from` takes."""
    for policy in ("../../wuhan/2024", "/etc/x", "sub/2024"):
        path = _example(tmp_path, f"{_MINIMAL}policy: '{policy}'\n")
        with pytest.raises(ExampleError, match=r"x\.yaml: policy: version name .* give a version"):
            read_example(path)


def test_an_example_with_yaml_aliases_is_refused_at_its_line(tmp_path: Path) -> None:
    """An alias (`*name`) is not read (on main taken): aliases of aliases (billion laughs) make
    billions of values from a few lines; budget.yaml's loader refuses them too."""
    laughs = "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 9))
    bomb = f"title: x\npolicy: '2024'\nl0: &l0 lol\n{laughs}cases: [*l8]\n"
    small = f"{_MINIMAL}policy: &p '2024'\nsource: *p\n"  # on main a valid example
    for text, line in ((bomb, 4), (small, 7)):
        with pytest.raises(ExampleError, match=rf"(?s)alias \(\*name\) is not read.*line {line},"):
            read_example(_example(tmp_path, text))


def test_a_citys_examples_folder_is_run_as_its_city_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`drgpolicy test policies/wuxi/examples` ran nothing ("0 passed, 0 failed", exit 1): the
    folder itself is where the examples are; a folder without any says so."""
    from tests.conftest import run_cli

    city = POLICIES / "wuxi"
    assert example_files(city / "examples") == example_files(city) != []
    code, _, err = run_cli(capsys, "test", str(city / "examples"))
    assert code == 0 and f"{len(example_files(city))} passed, 0 failed" in err
    code, _, err = run_cli(capsys, "test", str(tmp_path))
    assert code == 1
    assert err.strip() == f"no example files in {tmp_path}: an example is <city>/examples/*.yaml"
