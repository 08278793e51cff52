"""`drgpolicy` imports only the command it runs: `--help` lists every command without loading
polars, lark or pydantic (issue 11: the CLI started in 0.8–2 s; the time itself is measured by
`make bench`, never here)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine import cli
from tests.conftest import ROOT, run_cli

HEAVY = ("polars", "lark", "pydantic", "yaml", "jsonschema", "streamlit")


def modules_after(code: str) -> set[str]:
    """The top-level modules a fresh interpreter has loaded after running `code`."""
    script = (
        f"import sys\n{code}\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(done.stdout.split())


def test_help_loads_no_heavy_library() -> None:
    loaded = modules_after(
        "from engine.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    )
    assert "engine" in loaded
    assert not loaded & set(HEAVY)


def test_a_command_loads_only_what_it_needs() -> None:
    loaded = modules_after(
        "from engine.cli import main\n"
        "try:\n    main(['versions', '--help'])\nexcept SystemExit:\n    pass"
    )
    assert "lark" in loaded  # versions reads policy files
    assert "streamlit" not in loaded


def test_every_command_module_is_listed() -> None:
    modules = {p.stem for p in (ROOT / "engine" / "commands").glob("*.py")} - {"__init__"}
    assert set(cli.COMMANDS) == modules


def test_help_lists_every_command_with_its_summary(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        run_cli(capsys, "--help")
    assert done.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for name, summary in cli.COMMANDS.items():
        assert f"{name} {' '.join(summary.split())}" in out


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_each_command_has_its_own_options(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        run_cli(capsys, name, "--help")
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: drgpolicy {name}")
    assert "--" in out  # its own options, not the stub's empty list


def test_the_full_parser_still_has_every_command() -> None:
    parser = cli.build_parser()
    actions = [a for a in parser._actions if a.dest == "command"]
    assert set(actions[0].choices or {}) == set(cli.COMMANDS)


@pytest.mark.parametrize(
    ("command", "files"), [("settle", "the CSV data files"), ("test", "the example files")]
)
def test_encoding_help_names_the_files_of_its_command(
    capsys: pytest.CaptureFixture[str], command: str, files: str
) -> None:
    """`--encoding` is one argument shared by five commands; its help names what it decodes
    for the command it is on (it said "for `test`, of the example files" on settle too)."""
    with pytest.raises(SystemExit):
        run_cli(capsys, command, "--help")
    out = " ".join(capsys.readouterr().out.split())
    assert f"encoding of {files}: utf8" in out and "for `test`" not in out


@pytest.mark.parametrize(("call", "frozen"), [("main()", True), ("main(sys.argv[1:])", False)])
def test_the_command_freezes_its_imports_only_as_the_process(call: str, frozen: bool) -> None:
    """Run as the program (`main()`), the command leaves what it imported out of the
    collector's later passes (`cli.freeze_imported`); called by other code (a test, a
    notebook) it leaves that process's collector as it was."""
    script = (
        "import gc, sys\nfrom engine.cli import main\n"
        "sys.argv = ['drgpolicy', 'versions', 'policies/xuancheng']\n"
        f"main_code = {call}\nprint(main_code, gc.get_freeze_count() > 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.split()[-2:] == ["0", str(frozen)]
