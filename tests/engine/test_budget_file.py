"""budget.yaml is validated against the shape the policy declares (issue 10): one amount or one
per tier, no key twice, amounts finite, ≥ 0, exact to the fen and plausible — each refusal with
the file, the line, the key and what would be valid; the JSON Schema is the same model's."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from engine.commands.schema import schema
from engine.inputs.budget import BudgetInput, budget_schema
from engine.inputs.contract import ContractError, load_inputs
from engine.run.settle import budget_input, load_data, load_policy
from tests.conftest import POLICIES, SAMPLE, run_cli
from tests.engine.test_contract import case, write_inputs

WUXI = load_policy(POLICIES / "wuxi" / "2024.policy")
XUANCHENG = load_policy(POLICIES / "xuancheng" / "2024.policy")
HEAD = 'contract_version: "1.0"\nyear: 2024\nvalues:\n'
TIERS = "  tier_budget: {A: 253825073, B: 64361899, C: 14584923}\n"


def _data(tmp_path: Path, values: str) -> Path:
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    (data / "budget.yaml").write_text(HEAD + values, encoding="utf-8")
    return data


REFUSED = [
    (
        "one number for three tiers",
        WUXI,
        "  drg_fund: 332771895\n  tier_budget: 36989608\n",
        "budget.yaml:5: values.tier_budget is one number (36989608); the policy declares "
        "tier_budget per tier",
    ),
    (
        "a mapping for one amount",
        XUANCHENG,
        "  drg_fund: {A: 1.0e7}\n",
        "budget.yaml:4: values.drg_fund is a mapping ({A: 1.0E+7}); the policy "
        "declares drg_fund as one amount",
    ),
    (
        "mixed key types, a tier missing",
        WUXI,
        "  drg_fund: 332771895\n  tier_budget: {A: 253825073, B: 64361899, 3: 14584923}\n",
        "budget.yaml:5: values.tier_budget has no amount for tier C, which the hospitals use; "
        "it has 3, A, B",
    ),
    (
        "a key given twice",
        XUANCHENG,
        "  drg_fund: 332771895\n  drg_fund: 1\n",
        "budget.yaml:5: values.drg_fund is given twice (lines 4 and 5); YAML would keep the last",
    ),
    (
        "an alias",  # on main read: aliases of aliases make billions of values (billion laughs)
        WUXI,
        "  drg_fund: &a 1\n  tier_budget: {A: *a, B: 2, C: 3}\n",
        "budget.yaml is not valid YAML (an alias (*name) is not read: write the value itself",
    ),
    (
        "a tier given twice",
        WUXI,
        "  drg_fund: 1\n  tier_budget:\n    A: 1\n    B: 2\n    A: 3\n    C: 4\n",
        "budget.yaml:8: values.tier_budget.A is given twice (lines 6 and 8)",
    ),
    (
        "more than two decimals",
        XUANCHENG,
        "  drg_fund: 332771895.125\n",
        "budget.yaml:4: values.drg_fund 332771895.125 has more than 2 decimals",
    ),
    (
        "negative",
        XUANCHENG,
        "  drg_fund: -5\n",
        "budget.yaml:4: values.drg_fund is negative (-5); a budget amount is ≥ 0",
    ),
    (
        "not finite",
        XUANCHENG,
        "  drg_fund: .inf\n",
        "budget.yaml:4: values.drg_fund is Infinity; expected a finite amount",
    ),
    (
        "beyond the plausible bound",
        XUANCHENG,
        "  drg_fund: 1.0e14\n",
        "budget.yaml:4: values.drg_fund is 1.0E+14, above the plausible bound of "
        "10,000,000,000,000 元",
    ),
    (
        "a tier amount that is text",
        WUXI,
        "  drg_fund: 1\n  tier_budget: {A: 1, B: lots, C: 1}\n",
        "budget.yaml:5: values.tier_budget.B is 'lots'; expected an amount in 元",
    ),
    (
        "a hexadecimal amount",  # YAML 1.1 reads it as 332,785,319 元
        XUANCHENG,
        "  drg_fund: 0x13D5C6A7\n",
        "budget.yaml:4: values.drg_fund is '0x13D5C6A7'; expected an amount in 元",
    ),
    (
        "a base-60 amount",  # YAML 1.1 reads it as 90 元
        XUANCHENG,
        "  drg_fund: 1:30\n",
        "budget.yaml:4: values.drg_fund is '1:30'; expected an amount in 元",
    ),
    (
        "an unknown field",
        XUANCHENG,
        "  drg_fund: 1\nnotes: hello\n",
        "budget.yaml:5: notes is not a budget field",
    ),
    (  # on main a traceback: Python converts at most 4,300 digits to an int
        "a whole number of 100,001 digits",
        XUANCHENG,
        "  drg_fund: 1" + "0" * 100_000 + "\n",
        "budget.yaml:4: values.drg_fund is 10000000000000000000… (100,001 digits), above the "
        "plausible bound of 10,000,000,000,000 元",
    ),
    (
        "a text of 5,000 characters",
        XUANCHENG,
        "  drg_fund: " + "x" * 5000 + "\n",
        "budget.yaml:4: values.drg_fund is 'xxxxxxxxxxxxxxxxxxx… (5,000 characters); expected an "
        "amount in 元",
    ),
]


@pytest.mark.parametrize(
    ("policy", "values", "words"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_a_budget_that_does_not_fit_the_policy_is_refused_with_line_and_key(
    tmp_path: Path, policy: object, values: str, words: str
) -> None:
    data = _data(tmp_path, values)
    with pytest.raises(ContractError) as error:
        load_data(data, policy)  # type: ignore[arg-type]
    assert error.value.file == "budget.yaml"
    assert words in error.value.message, error.value.message


def test_the_tier_budget_scalar_is_refused_by_the_cli_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _data(tmp_path, "  drg_fund: 332771895\n  tier_budget: 36989608\n")
    code, _, err = run_cli(
        capsys,
        *("settle", "--policy", str(POLICIES / "wuxi" / "2024.policy")),
        *("--data", str(data), "--period", "2024-03", "--out", str(tmp_path / "out")),
    )
    assert code == 1
    assert "values.tier_budget is one number (36989608)" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


ACCEPTED = [
    ("  drg_fund: 0.3\n", 0.3),  # 0.1 + 0.2 noise is not a false refusal: read as text
    ("  drg_fund: 1.10\n", 1.1),
    ("  drg_fund: 1e8\n", 1e8),
    ("  drg_fund: 1.2e9\n", 1.2e9),
    ("  drg_fund: 1_000_000.05\n", 1_000_000.05),
    ("  drg_fund: 90071992547.41\n", 90071992547.41),
    ("  drg_fund: 0332771605\n", 332771605),  # YAML 1.1: octal, 57,406,341 元
    ("  drg_fund: 0332771895\n", 332771895),  # not octal: YAML 1.1 read it as text
    ("  drg_fund: 1_000\n", 1000),
]


@pytest.mark.parametrize(("values", "amount"), ACCEPTED)
def test_amounts_are_read_from_their_text(tmp_path: Path, values: str, amount: float) -> None:
    assert load_data(_data(tmp_path, values), XUANCHENG).budget["values"]["drg_fund"] == amount


def test_a_tier_budget_keeps_its_tiers_and_names_they_are_text(tmp_path: Path) -> None:
    data = _data(tmp_path, "  drg_fund: 1\n  tier_budget: {A: 1.5, B: 2, C: 3, D: 4}\n")
    budget = load_data(data, WUXI).budget["values"]
    assert budget["tier_budget"] == {"A": 1.5, "B": 2.0, "C": 3.0, "D": 4.0}
    assert budget["drg_fund"] == 1.0


def test_a_name_the_policy_does_not_declare_is_kept_and_checked(tmp_path: Path) -> None:
    data = _data(tmp_path, "  drg_fund: 1\n  inpatient_fund: {a: 1, b: 2.5}\n")
    assert load_data(data, XUANCHENG).budget["values"]["inpatient_fund"] == {"a": 1.0, "b": 2.5}
    with pytest.raises(ContractError, match=r"values\.inpatient_fund is negative"):
        load_data(_data(tmp_path / "x", "  drg_fund: 1\n  inpatient_fund: -1\n"), XUANCHENG)


@settings(max_examples=60, deadline=None)
@given(fen=st.integers(1, 10**15))  # 0 is refused: a budget of 0 is none
def test_every_amount_in_fen_is_read_exactly(fen: int) -> None:
    """Any amount written with two decimals is accepted and read as the nearest double."""
    text = f"{fen // 100}.{fen % 100:02d}"
    with tempfile.TemporaryDirectory() as folder:
        data = write_inputs(Path(folder), [case("C1")])
        (data / "budget.yaml").write_text(f"{HEAD}  drg_fund: {text}\n", encoding="utf-8")
        budget = load_inputs(data, budget_names=["drg_fund"]).budget
        assert budget["values"]["drg_fund"] == float(text)


# ---- the schema is the model's ------------------------------------------------------------------


def _wuxi_schema() -> dict[str, object]:
    return budget_schema([budget_input(i) for i in WUXI.inputs if i.table == "budget"])


def test_the_schema_of_a_policy_requires_its_figures_in_their_shape() -> None:
    validator = Draft202012Validator(_wuxi_schema())
    Draft202012Validator.check_schema(_wuxi_schema())
    good = {
        "contract_version": "1.0",
        "year": 2024,
        "values": {"drg_fund": 1.0, "tier_budget": {"A": 1.0}},
    }
    assert validator.is_valid(good)
    assert not validator.is_valid(good | {"values": {"drg_fund": 1.0, "tier_budget": 5.0}})
    assert not validator.is_valid(good | {"values": {"drg_fund": {"A": 1.0}, "tier_budget": {}}})
    assert not validator.is_valid(good | {"values": {"tier_budget": {"A": 1.0}}})
    assert not validator.is_valid(good | {"values": {"drg_fund": -1.0, "tier_budget": {}}})


def test_the_generic_schema_takes_either_shape_and_the_cli_prints_the_policys(
    capsys: pytest.CaptureFixture[str],
) -> None:
    generic = Draft202012Validator(schema("budget"))
    both = {"drg_fund": 1.0, "tier_budget": 2.0}
    assert generic.is_valid({"contract_version": "1.0", "year": 2024, "values": both})
    code, out, _ = run_cli(
        capsys, "schema", "budget", "--policy", str(POLICIES / "wuxi" / "2024.policy")
    )
    assert code == 0
    assert json.loads(out) == _wuxi_schema()


def test_a_budget_input_of_a_grain_is_a_mapping_by_that_key() -> None:
    declared = [budget_input(i) for i in WUXI.inputs if i.table == "budget"]
    assert declared == [
        BudgetInput("tier_budget", "tier", "层级区域总额"),
        BudgetInput("drg_fund", None, "年度DRG基金（年终清算）"),
    ]


def test_a_key_is_its_text_as_written(tmp_path: Path) -> None:
    """Tiers named 08, 09, 10 (as a hospitals file writes them) stay "08", "09", "10": read as
    whole numbers, 08 and 09 became 8 and 9 and no hospital's tier had an amount (rev28)."""
    from engine.inputs.budget import read_yaml

    path = tmp_path / "budget.yaml"
    path.write_text(HEAD + "  tier_budget: {08: 1.5, 09: 2, 10: 3}\n  drg_fund: 0332771605\n")
    document, _ = read_yaml(path)
    assert document["values"] == {
        "tier_budget": {"08": 1.5, "09": 2, "10": 3},
        "drg_fund": 332771605,
    }
    assert document["year"] == 2024


def test_a_budget_file_of_megabytes_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """On main a 40 MB budget.yaml (another file saved under its name) was read by PyYAML for
    minutes and gigabytes; a megabyte of comments is enough to show the bound."""
    data = _data(
        tmp_path, "  drg_fund: 332771895\n" + "# a comment of forty bytes ...........\n" * 30_000
    )
    size = (data / "budget.yaml").stat().st_size
    with pytest.raises(ContractError) as error:
        load_data(data, XUANCHENG)
    assert error.value.message.startswith(
        f"budget.yaml is {size:,} bytes, more than the 1,000,000 a budget is read up to"
    )


def test_a_budget_file_that_cannot_be_read_is_said_in_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On main a budget.yaml the run may not read (permission denied) ended in a traceback."""
    data = _data(tmp_path, "  drg_fund: 332771895\n")
    read_text = Path.read_text

    def denied(path: Path, *args: Any, **kwargs: Any) -> str:
        if path.name == "budget.yaml":
            raise PermissionError(13, "Permission denied", str(path))
        return read_text(path, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", denied)
    with pytest.raises(ContractError) as error:
        load_data(data, XUANCHENG)
    assert error.value.message == "budget.yaml could not be read: Permission denied"
