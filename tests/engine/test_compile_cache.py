"""The compile cache: the IR read back is the IR compiled; an edited file, a damaged or foreign
entry, or a folder others can write never serves a stale or planted IR."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

from engine.run import compile_cache
from engine.run.compile_cache import ENV, entry_key
from engine.run.settle import load_policy
from policy_dsl.errors import PolicyError
from policy_dsl.lower import compile_file
from tests.conftest import POLICIES


@pytest.fixture
def city(tmp_path: Path) -> Path:
    """A copy of Xuancheng's versions (2023, 2024): files a test may edit."""
    folder = tmp_path / "xuancheng"
    shutil.copytree(POLICIES / "xuancheng", folder)
    return folder


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(ENV, str(folder))
    return folder


def entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("*.json"))


def test_read_back_equals_the_compile(city: Path, cache: Path) -> None:
    path = city / "2024.policy"
    fresh = compile_file(path)
    first = load_policy(path)
    assert len(entries(cache)) == 1
    again = load_policy(path)
    assert first == fresh and again == fresh
    assert again.hash == fresh.hash and again is not first


def test_the_read_does_not_compile(
    city: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = city / "2024.policy"
    expected = load_policy(path)

    def refuse(_: Path | str) -> None:
        raise AssertionError("compiled again")

    monkeypatch.setattr("engine.run.settle.compile_file", refuse)
    assert load_policy(path) == expected


def test_an_edited_base_is_compiled_again(city: Path, cache: Path) -> None:
    path = city / "2024.policy"
    before = load_policy(path)
    base = city / "2023.policy"
    base.write_text(base.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    # a comment changes no meaning, but the file changed: a new key, compiled again
    assert load_policy(path).hash == before.hash
    assert len(entries(cache)) == 2
    edited = base.read_text(encoding="utf-8")
    assert ": count = 100\n" in edited  # large_number_cases, which 2024 does not override
    base.write_text(edited.replace(": count = 100\n", ": count = 120\n", 1), encoding="utf-8")
    changed = load_policy(path)
    assert changed.hash != before.hash
    assert changed == compile_file(path)


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # cut short
        lambda data: b"not json\n" + data,  # a header that is not ours
        lambda data: data.replace(b'"xuancheng"', b'"elsewhere"', 1),  # the IR edited
        lambda data: b"",
    ],
)
def test_a_damaged_entry_is_ignored_and_rewritten(city: Path, cache: Path, damage) -> None:  # type: ignore[no-untyped-def]
    path = city / "2024.policy"
    expected = load_policy(path)
    (entry,) = entries(cache)
    good = entry.read_bytes()
    entry.write_bytes(damage(good))
    assert load_policy(path) == expected
    assert entry.read_bytes() == good


def test_an_entry_of_another_key_is_ignored(city: Path, cache: Path) -> None:
    """An entry copied under another policy's key (its own header intact) is not served."""
    wuxi = POLICIES / "wuxi" / "2024.policy"
    load_policy(wuxi)
    (planted,) = entries(cache)
    path = city / "2024.policy"
    shutil.copyfile(planted, cache / f"{entry_key(path)}.json")
    assert load_policy(path) == compile_file(path)


def test_another_compiler_is_another_key(
    city: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = city / "2024.policy"
    before = entry_key(path)
    monkeypatch.setattr(compile_cache, "compiler_version", lambda: "another compiler")
    assert entry_key(path) != before


def test_another_checkout_of_the_compiler_is_another_key(
    city: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The library modules' origins carry the compiler's folder: an entry written by another
    checkout (the same files elsewhere) would point an explanation at that checkout's files."""
    path = city / "2024.policy"
    before = entry_key(path)
    monkeypatch.setattr(compile_cache, "COMPILER", tmp_path / "elsewhere" / "policy_dsl")
    assert entry_key(path) != before


def test_the_path_as_given_is_part_of_the_key(
    city: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The IR's origins carry the path as given: another spelling is another entry."""
    monkeypatch.chdir(city.parent)
    relative = Path(city.name) / "2024.policy"
    assert entry_key(city / "2024.policy") != entry_key(relative)


def test_a_folder_others_can_write_is_not_used(city: Path, cache: Path) -> None:
    cache.mkdir(mode=0o700)
    cache.chmod(0o777)
    load_policy(city / "2024.policy")
    assert entries(cache) == []


def test_turned_off(city: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    load_policy(city / "2024.policy")
    assert not (tmp_path / "xdg").exists()


def test_the_default_folder_is_private(
    city: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    load_policy(city / "2024.policy")
    folder = tmp_path / "xdg" / "drgpolicy" / "compiled"
    assert len(entries(folder)) == 1
    assert folder.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("which", ["2024.policy", "notes.policy"])
def test_a_pipe_among_the_policy_files_is_said_not_waited_on(
    city: Path, cache: Path, which: str
) -> None:
    """The cache's key read every `.policy` file of the folder whole: a pipe (`mkfifo`) as the
    policy given, or beside it, hung the run forever before the compile could refuse it. Now
    the policy given is refused in words, and one beside it is left to the compile."""
    (city / which).unlink(missing_ok=True)
    os.mkfifo(city / which)
    signal.signal(signal.SIGALRM, _hung)  # on main the pipe waited forever
    signal.setitimer(signal.ITIMER_REAL, 20)
    try:
        if which == "notes.policy":
            assert load_policy(city / "2024.policy").version == "2024"
        else:
            with pytest.raises(PolicyError, match="it is not a file but a device or a pipe"):
                load_policy(city / which)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _hung(signum: int, frame: object) -> None:
    raise AssertionError("the pipe was opened: waited 20 s for a writer")
