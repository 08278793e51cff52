"""`drgpolicy check`: exit codes, stdout and stderr, `--json`, folders, de-duplication."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.cli import main
from engine.commands.check import check_paths, policy_files
from policy_dsl.check.ledger import read_ledger
from tests.conftest import ledger_lines

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "diagnostics"
XUANCHENG = ROOT / "policies" / "xuancheng"

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    def run(*argv: str | Path) -> tuple[int, str, str]:
        code = main(["check", *map(str, argv)])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _copy(name: str, folder: Path, as_name: str | None = None) -> Path:
    """A golden file copied into `folder`, with the text of the document it quotes in
    `folder/sources/`."""
    target = folder / (as_name or name)
    shutil.copy(GOLDEN / name, target)
    shutil.copytree(GOLDEN / "sources", folder / "sources", dirs_exist_ok=True)
    return target


def _quotes(verified: int = 0, not_found: int = 0, unverifiable: int = 0) -> str:
    """The end of a summary line: how the file's quotes fared."""
    return f"; quotes: {verified} verified, {not_found} not found, {unverifiable} unverifiable"


#: Each shipped file's quotes (its `source <doc> "…"` lines), not checked without the
#: documents' texts (W130 per document).
SHIPPED_QUOTES = {
    "suzhou/2024.policy": 11,
    "wuhan/2024.policy": 26,
    "wuxi/2024.policy": 34,
    "xuancheng/2023.policy": 14,
    "xuancheng/2024.policy": 28,
    "yantai/2024.policy": 36,
}
#: The quotes of Xuancheng 2024 as resolved: its own 28, and the 9 of 2023 in the declarations
#: it does not override (2023's 14 less those of min_stable_cases (1), category (2),
#: level_share (1) and combined_coefficient (1); its cv_limit cites nothing). All cite xc2024,
#: which 2023 declares.
XC2024_QUOTES_RESOLVED = 28 + 14 - 5
#: Xuancheng 2024's own quotes, unverifiable where the texts are not given.
XC2024_OWN = SHIPPED_QUOTES["xuancheng/2024.policy"]


def test_shipped_policies_are_ok_their_quotes_unverified_without_the_texts(run: Run) -> None:
    code, out, err = run(ROOT / "policies")
    assert code == 0
    shipped = sorted((ROOT / "policies").rglob("*.policy"))
    assert XUANCHENG / "2024.policy" in shipped
    assert sorted(str(p.relative_to(ROOT / "policies")) for p in shipped) == sorted(SHIPPED_QUOTES)
    base = XUANCHENG / "2023.policy"
    expected = []
    for path in shipped:
        quotes = _quotes(unverifiable=SHIPPED_QUOTES[str(path.relative_to(ROOT / "policies"))])
        warnings = (
            f"1 warning; 1 of them in {base}"
            if path.name == "2024.policy" and (path.parent == XUANCHENG)
            else "1 warning"
        )
        expected += [f"{path}: ok (0 errors, {warnings}){quotes}"]
        expected += ledger_lines(path, verified=False)
    assert out.splitlines() == expected
    assert err.count("warning W710") == len(list((ROOT / "policies").glob("*/fidelity.md")))
    # Once per document and version: xc2024, declared in 2023.policy, is quoted by both
    # Xuancheng versions, and each check counts the quotes of its version.
    assert err.count("warning W130") == 6
    xc2024 = [line for line in err.splitlines() if "W130" in line and "`xc2024`" in line]
    assert xc2024 == [
        f"{base}:30:3: warning W130: the text of document `xc2024` is not found: "
        f"its {quotes} quotes are not checked"
        for quotes in (SHIPPED_QUOTES["xuancheng/2023.policy"], XC2024_QUOTES_RESOLVED)
    ]
    assert "error" not in err


def test_warnings_alone_exit_0(run: Run, tmp_path: Path) -> None:
    path = _copy("W101.policy", tmp_path)
    code, out, err = run(path)
    assert code == 0
    assert out == f"{path}: ok (0 errors, 1 warning){_quotes(verified=1)}\n"
    assert f"{path}:17:1: warning W101: param `high_k` is never used" in err
    assert "  hint: remove it, or use it in a definition" in err


def test_an_error_exits_1_with_the_diagnostic_on_stderr(run: Run, tmp_path: Path) -> None:
    path = _copy("E201.policy", tmp_path)
    code, out, err = run(path)
    assert code == 1
    assert out == f"{path}: failed (1 error, 0 warnings)\n"
    assert err.startswith(f"{path}:18:54: error E201: `total_cost` is a case value")
    assert "^^^^^^^^^^" in err and "hint:" in err
    assert "Traceback" not in err


def test_a_syntax_error_is_a_diagnostic_not_a_crash(run: Run, tmp_path: Path) -> None:
    broken = _copy("E002.policy", tmp_path)
    fine = _copy("W101.policy", tmp_path)
    code, out, err = run(broken, fine)
    assert code == 1
    assert out.splitlines() == [
        f"{broken}: failed (1 error, 0 warnings)",
        f"{fine}: ok (0 errors, 1 warning){_quotes(verified=1)}",
    ]
    assert "error E002: full-width `：`" in err and "warning W101" in err


def test_folders_are_searched_recursively(run: Run, tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    deep = _copy("W101.policy", tmp_path / "a" / "b", "deep.policy")
    top = _copy("E201.policy", tmp_path, "top.policy")
    (tmp_path / "a" / "notes.txt").write_text("not a policy")
    assert policy_files([tmp_path]) == [deep, top]
    code, out, _ = run(tmp_path)
    assert code == 1
    assert [line.split(": ")[0] for line in out.splitlines()] == [str(deep), str(top)]


def test_a_base_version_problem_is_shown_once(run: Run, tmp_path: Path) -> None:
    base = XUANCHENG / "2023.policy"
    text = base.read_text(encoding="utf-8").replace(
        "param cv_limit", 'param unused_k "未使用" : ratio = 1\n  assumption "示例"\nparam cv_limit'
    )
    (tmp_path / "2023.policy").write_text(text, encoding="utf-8")
    shutil.copy(XUANCHENG / "2024.policy", tmp_path / "2024.policy")
    code, out, err = run(tmp_path)
    assert code == 0
    assert err.count("W101") == 1, "checking 2024 surfaces the warning of 2023 again"
    assert err.count("W130") == 2, "xc2024's text is not here: once per version quoting it"
    assert out.splitlines() == [
        f"{tmp_path / '2023.policy'}: ok (0 errors, 2 warnings){_quotes(unverifiable=14)}",
        f"{tmp_path / '2024.policy'}: ok (0 errors, 2 warnings; 2 of them in "
        f"{tmp_path / '2023.policy'}){_quotes(unverifiable=XC2024_OWN)}",
    ]
    assert len(check_paths([tmp_path, tmp_path / "2024.policy"])) == 1, "not checking quotes"


def test_json_lists_every_diagnostic_on_stdout(run: Run, tmp_path: Path) -> None:
    error = _copy("E201.policy", tmp_path)
    warning = _copy("W101.policy", tmp_path)
    code, out, err = run("--json", error, warning)
    assert code == 1
    assert err == ""
    data = json.loads(out)
    assert [(d["code"], d["severity"], d["line"], d["column"]) for d in data] == [
        ("E201", "error", 18, 54),
        ("W101", "warning", 17, 1),
    ]
    assert data[0]["file"] == str(error)
    assert data[0]["hint"].startswith("wrap it in an aggregate")


def test_json_of_clean_policies_is_an_empty_list(run: Run, tmp_path: Path) -> None:
    clean = _copy("W101.policy", tmp_path)
    clean.write_text(
        clean.read_text(encoding="utf-8").replace(
            'let case_points "病例点数" : points at case = base_points',
            'let case_points "病例点数" : points at case = base_points * high_k',
        )
    )
    assert run("--json", clean) == (0, "[]\n", "")


def test_a_missing_path_is_an_error(run: Run, tmp_path: Path) -> None:
    code, out, err = run(tmp_path / "nope.policy")
    assert (code, out) == (1, "")
    assert err == f"no such file or folder: {tmp_path / 'nope.policy'}\n"


def test_a_folder_without_policies_is_an_error(run: Run, tmp_path: Path) -> None:
    code, _, err = run(tmp_path)
    assert code == 1
    assert "no .policy files under" in err


def test_check_paths_returns_each_diagnostic_once_in_reading_order(tmp_path: Path) -> None:
    error = _copy("E201.policy", tmp_path)
    found = check_paths([error, tmp_path, Path(str(error).replace("/E201", "/./E201"))])
    assert [(d.code, d.line) for d in found] == [("E201", 18)]


def test_a_base_version_with_a_syntax_error_is_named_in_the_hint(run: Run, tmp_path: Path) -> None:
    (tmp_path / "2023.policy").write_text(
        (XUANCHENG / "2023.policy").read_text(encoding="utf-8").replace("= 40%", "= 40％")
    )
    shutil.copy(XUANCHENG / "2024.policy", tmp_path / "2024.policy")
    code, out, err = run(tmp_path / "2024.policy")
    assert code == 1
    assert 'error E701: base version "2023" of `xuancheng` is not in' in err
    assert "hint: versions found: none; 2023.policy could not be read: check it" in err
    code, out, err = run(tmp_path)
    assert "error E002: full-width `％` is not part of the language here" in err
    assert out.splitlines()[0] == f"{tmp_path / '2023.policy'}: failed (1 error, 0 warnings)"


def _city_with(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "xuancheng"
    shutil.copytree(XUANCHENG, folder, ignore=shutil.ignore_patterns("examples", "fidelity.md"))
    path = folder / "2024.policy"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    return folder


def test_a_gap_between_versions_is_a_warning(run: Run, tmp_path: Path) -> None:
    folder = _city_with(tmp_path, "effective 2024-01-01", "effective 2024-03-01")
    code, out, err = run(folder)
    assert code == 0
    assert out.splitlines() == [
        f"{folder / '2023.policy'}: ok (0 errors, 1 warning){_quotes(unverifiable=14)}",
        f"{folder / '2024.policy'}: ok (0 errors, 2 warnings; 1 of them in "
        f"{folder / '2023.policy'}){_quotes(unverifiable=XC2024_OWN)}",
    ]
    assert "warning W702: no version of xuancheng is in force from 2024-01-01 to 2024-02-29" in err
    lines = (folder / "2024.policy").read_text(encoding="utf-8").splitlines()
    header = next(i for i, line in enumerate(lines, 1) if line.startswith("policy xuancheng"))
    assert f"2024.policy:{header}:1" in err


def test_an_overlap_between_versions_is_an_error(run: Run, tmp_path: Path) -> None:
    folder = _city_with(tmp_path, "effective 2024-01-01", "effective 2023-12-01")
    code, out, err = run(folder)
    assert code == 1
    assert out.splitlines() == [
        f"{folder / '2023.policy'}: ok (0 errors, 1 warning){_quotes(unverifiable=14)}",
        f"{folder / '2024.policy'}: failed (1 error, 1 warning; 1 of them in "
        f"{folder / '2023.policy'}){_quotes(unverifiable=XC2024_OWN)}",
    ]
    assert (
        'error E707: versions "2023" and "2024" of xuancheng are both in force from 2023-12-01 '
        "to 2023-12-31"
    ) in err


def test_a_file_saved_with_a_byte_order_mark_checks(run: Run, tmp_path: Path) -> None:
    clean = _copy("E201.policy", tmp_path, "plain.policy")
    marked = tmp_path / "marked.policy"
    marked.write_bytes(b"\xef\xbb\xbf" + clean.read_bytes())
    code, out, err = run(clean, marked)
    assert code == 1
    assert out.splitlines() == [
        f"{clean}: failed (1 error, 0 warnings)",
        f"{marked}: failed (1 error, 0 warnings)",
    ]
    assert f"{marked}:18:54: error E201: `total_cost` is a case value" in err
    assert "E002" not in err


def _city_with_ledger(tmp_path: Path, old: str = "", new: str = "") -> Path:
    """Xuancheng's folder with its ledger, the ledger edited, and the documents' texts of the
    golden files in its `sources/` (not Xuancheng's: its sentences are not found)."""
    folder = tmp_path / "xuancheng"
    shutil.copytree(XUANCHENG, folder, ignore=shutil.ignore_patterns("examples"))
    ledger = folder / "fidelity.md"
    ledger.write_text(ledger.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    return folder


def test_a_city_folder_checks_its_ledger_each_problem_a_diagnostic(
    run: Run, tmp_path: Path
) -> None:
    folder = _city_with_ledger(tmp_path, "`category.low`", "`category.lwo`")
    ledger = folder / "fidelity.md"
    line = next(
        i
        for i, text in enumerate(ledger.read_text(encoding="utf-8").splitlines(), start=1)
        if "`category.lwo`" in text
    )
    code, out, err = run(folder)
    assert code == 1
    rows = len(read_ledger(ledger).rows)
    assert out.splitlines()[-1] == (
        f"{ledger}: failed (1 error, 1 warning); {rows} rows, "
        f"sentences: 0 verified, 0 not found, {rows} unverifiable"
    )
    assert f"{ledger}:{line}:" in err
    assert "error E715: row" in err and "did you mean `category.low`?" in err
    assert f"{ledger}:3:12: warning W710: the text `004_f075d89bf2526765.txt` is not found" in err


def test_a_ledger_given_alone_is_checked_alone(run: Run, tmp_path: Path) -> None:
    folder = _city_with_ledger(tmp_path)
    code, out, err = run(folder / "fidelity.md")
    assert code == 0
    assert [line.split(": ")[0] for line in out.splitlines()] == [str(folder / "fidelity.md")]
    assert "W710" in err and "W130" not in err


def test_a_ledger_given_with_its_folder_is_checked_once(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rev30: the ledger named by its absolute path beside its folder named relatively was
    checked twice."""
    folder = _city_with_ledger(tmp_path)
    monkeypatch.chdir(tmp_path)
    code, out, _ = run("xuancheng", folder / "fidelity.md")
    assert code == 0
    ledgers = [line.split(": ")[0] for line in out.splitlines() if "fidelity.md: " in line]
    assert ledgers == ["xuancheng/fidelity.md"]


def test_a_folder_without_a_ledger_has_no_ledger_line(run: Run, tmp_path: Path) -> None:
    path = _copy("W101.policy", tmp_path)
    code, out, _ = run(tmp_path)
    assert (code, out) == (0, f"{path}: ok (0 errors, 1 warning){_quotes(verified=1)}\n")
