"""File safety of the studio: names, paths, atomic saves, confirmations and drafts."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from policy_dsl.names import MAX_BYTES
from policy_dsl.versions import city_folders, load_city, policy_files
from studio import workspace
from studio.workspace import NeedsConfirmation, SaveRefused, UnsafeName

XC = "xuancheng"


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("../x", "slash"),
        ("..", "`..`"),
        ("/etc/passwd", "absolute path"),
        ("C:\\x", "absolute path"),
        ("a/b", "slash"),
        ("a\\b", "slash"),
        ("", "empty"),
        ("2025 new", "characters"),
        ("a" * 300, "300 bytes long in UTF-8; at most 64"),
        ("2025-" * 60, "300 bytes long"),
        ("宣" * 22, "66 bytes long in UTF-8; at most 64"),
        ("a/" * 150, "slash"),
    ],
)
def test_unsafe_version_names_are_refused_with_a_reason(
    policies: Path, name: str, words: str
) -> None:
    with pytest.raises(UnsafeName, match=words.replace("\\", "\\\\").replace(".", r"\.")):
        workspace.save_version(policies, XC, name, "text", clean=True)
    with pytest.raises(UnsafeName):
        workspace.save_draft(policies, XC, name, "text")
    assert not (policies.parent / "x.policy").exists()
    assert not (policies.parent / "x.policy.draft").exists()


def test_a_name_of_the_longest_length_is_saved(policies: Path) -> None:
    # The bound is the checker's (E140/E141): MAX_BYTES bytes in UTF-8, whatever the script.
    longest = "2025-" + "9" * (MAX_BYTES - 5)
    assert workspace.save_draft(policies, XC, longest, "text").name == f"{longest}.policy.draft"
    with pytest.raises(UnsafeName, match=f"{MAX_BYTES + 1} bytes long"):
        workspace.save_draft(policies, XC, longest + "9", "text")
    chinese = "宣" * (MAX_BYTES // 3)
    assert workspace.save_draft(policies, XC, chinese, "text").name == f"{chinese}.policy.draft"
    with pytest.raises(UnsafeName, match=f"{3 * (MAX_BYTES // 3 + 1)} bytes long"):
        workspace.save_draft(policies, XC, chinese + "宣", "text")


def test_a_file_system_failure_is_a_refusal_naming_the_file(
    policies: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(path: Path, text: str) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    before = (policies / XC / "2024.policy").read_text(encoding="utf-8")
    monkeypatch.setattr(workspace, "atomic_write", full)
    with pytest.raises(SaveRefused) as refused:
        workspace.save_version(
            policies, XC, "2024", "text", clean=True, opened=policies / XC / "2024.policy"
        )
    path = (policies / XC / "2024.policy").resolve()
    assert str(refused.value) == f"{path} could not be written: No space left on device"
    assert (policies / XC / "2024.policy").read_text(encoding="utf-8") == before
    with pytest.raises(SaveRefused, match=r"2025\.policy\.draft could not be written"):
        workspace.save_draft(policies, XC, "2025", "text")


def test_unsafe_city_names_are_refused(policies: Path) -> None:
    for city in ("../other", "/tmp", "a/b"):
        with pytest.raises(UnsafeName, match="city name"):
            workspace.version_path(policies, city, "2025")


def test_a_version_is_saved_atomically_inside_its_city(policies: Path) -> None:
    text = (policies / XC / "2024.policy").read_text(encoding="utf-8")
    path = workspace.save_version(
        policies, XC, "2024", text, clean=True, opened=policies / XC / "2024.policy"
    )
    assert path == (policies / XC / "2024.policy").resolve()
    assert path.read_text(encoding="utf-8") == text
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]


def test_a_version_with_errors_is_not_saved(policies: Path) -> None:
    before = (policies / XC / "2024.policy").read_text(encoding="utf-8")
    with pytest.raises(SaveRefused, match="has errors"):
        workspace.save_version(policies, XC, "2024", "broken", clean=False)
    assert (policies / XC / "2024.policy").read_text(encoding="utf-8") == before


def test_overwriting_a_version_another_extends_needs_a_confirmation(policies: Path) -> None:
    path = policies / XC / "2023.policy"
    text = path.read_text(encoding="utf-8") + "\n# edited\n"
    warning = workspace.overwrite_warning(policies, XC, "2023", path)
    assert warning is not None and '"2024"' in warning and "extended by" in warning
    with pytest.raises(NeedsConfirmation, match="extended by"):
        workspace.save_version(policies, XC, "2023", text, clean=True, opened=path)
    assert "# edited" not in path.read_text(encoding="utf-8")
    workspace.save_version(policies, XC, "2023", text, clean=True, opened=path, confirm=True)
    assert "# edited" in path.read_text(encoding="utf-8")


def test_overwriting_a_file_that_was_not_opened_needs_a_confirmation(policies: Path) -> None:
    text = (policies / XC / "2024.policy").read_text(encoding="utf-8")
    with pytest.raises(NeedsConfirmation, match="not the file you opened"):
        workspace.save_version(policies, XC, "2024", text, clean=True, opened=None)


def test_drafts_are_never_read_as_versions(policies: Path) -> None:
    path = workspace.save_draft(policies, XC, "2025", "policy xuancheng version ")
    assert path.is_file() and path.is_relative_to(policies / workspace.DRAFTS)
    assert workspace.drafts(policies, XC) == ["2025"]
    assert workspace.read_draft(policies, XC, "2025").startswith("policy")
    assert path not in policy_files(policies / XC)
    assert all(workspace.DRAFTS not in str(f) for f in city_folders(policies))
    assert workspace.DRAFTS not in workspace.cities(policies)
    assert [v.version for v in load_city(policies / XC).versions] == ["2023", "2024"]
    assert path not in list(policies.rglob("*.policy"))


def test_roots_come_from_the_environment(policies: Path) -> None:
    assert workspace.policies_root() == policies.resolve()
