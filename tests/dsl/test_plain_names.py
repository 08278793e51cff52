"""City and version names are plain names (E140, E141): one rule for the checker, the engine's
output folders and the studio's saves. Regression: `version "/../../victim"` passed `check` and
`settle` wrote over `victim`."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.cli import main
from policy_dsl.check import check_path
from policy_dsl.names import MAX_BYTES, name_problem
from studio import workspace
from tests.conftest import POLICIES, SAMPLE

ACCEPTED = ["2024", "2024.1", "2024-rev_2", "二〇二四年修订", "v" * MAX_BYTES, "宣" * 21]
REFUSED = {
    "": "empty",
    "/../../victim": "absolute path",
    "C:\\x": "absolute path",
    "C:x": "`:`",
    "a/b": "slash",
    "a\\b": "slash",
    "..": "`..`",
    "2024..x": "`..`",
    ".hidden": "starts with `.`",
    "2024 new": "U+0020 (space)",
    "2024\nx": "U+000A",
    "2024\x00": "U+0000",
    "a:b": "`:`",
    "宣城〔2023〕16号": "`〔`",
    "v" * (MAX_BYTES + 1): f"{MAX_BYTES + 1} bytes long",
    "宣" * 22: "66 bytes long",
}


@pytest.mark.parametrize("name", ACCEPTED)
def test_plain_names_are_accepted(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize(("name", "words"), REFUSED.items())
def test_other_names_are_refused_with_the_reason(name: str, words: str) -> None:
    problem = name_problem(name, "version")
    assert problem is not None and words in problem


@given(st.text(max_size=80), st.text(max_size=80))
def test_an_accepted_name_is_one_path_component_under_its_folder(city: str, version: str) -> None:
    """Whatever the text, an accepted name stays one component of a path inside the folder it is
    put in, short enough for a file system, alone and as `<city>-<version>`."""
    root = Path("/srv/out")
    for name in (city, version, f"{city}-{version}"):
        if name_problem(city, "city") is None and name_problem(version) is None:
            path = root / name
            assert path.parent == root and path.name == name
            assert (root / name).resolve().is_relative_to(root)
            assert len(f".{name}.4194304.0123456789ab.new.previous".encode()) <= 255


def test_the_studio_refuses_what_the_checker_refuses() -> None:
    for name, words in REFUSED.items():
        assert not workspace.is_safe_name(name)
        with pytest.raises(workspace.UnsafeName) as refused:
            workspace.check_name(name)
        assert words in str(refused.value)
    assert all(workspace.is_safe_name(name) for name in ACCEPTED)


def _evil_city(tmp_path: Path, version: str) -> Path:
    text = (POLICIES / "wuhan" / "2024.policy").read_text(encoding="utf-8")
    folder = tmp_path / "policies" / "wuhan"
    folder.mkdir(parents=True)
    (folder / "evil.policy").write_text(
        text.replace('version "2024"', f'version "{version}"'), encoding="utf-8"
    )
    return folder / "evil.policy"


def test_a_version_that_names_a_path_fails_check_and_settle_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "thesis.txt").write_text("years of work")
    (victim / "manifest.json").write_text("{}")
    policy = _evil_city(tmp_path, "/../../victim")
    errors = [d for d in check_path(policy).diagnostics if d.severity == "error"]
    header = (
        policy.read_text(encoding="utf-8")
        .splitlines()
        .index('policy wuhan version "/../../victim"')
    )
    assert [(d.code, d.line) for d in errors] == [("E140", header + 1)] == [("E140", 24)]
    assert main(["check", str(policy)]) == 1
    out = tmp_path / "out" / "all"
    flags = {"--policy": policy.parent.parent, "--data": SAMPLE, "--period": 2024, "--out": out}
    code = main(["settle", *(str(x) for item in flags.items() for x in item), "--any-date"])
    assert code == 1 and "E140" in capsys.readouterr().err
    assert sorted(p.name for p in victim.iterdir()) == ["manifest.json", "thesis.txt"]
    assert not (tmp_path / "out").exists()
