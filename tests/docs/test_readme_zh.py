"""`README.zh-CN.md` works as written: its quick start makes, checks, tests, validates and settles
a city on the bundled sample with the figures it shows; its 2025 version, what-if and
explanations give what it says; every command it shows is one `drgpolicy` takes."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from engine.cli import build_parser
from engine.new_city import template_files
from tests.conftest import ROOT, SAMPLE
from tests.conftest import run_cli as run

README = (ROOT / "README.zh-CN.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = README.index(f"\n## {title}")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def commands(text: str) -> list[list[str]]:
    """The `drgpolicy` command lines of the `sh` blocks, comments left out."""
    lines = [line.split("  #")[0] for block in blocks(text, "sh") for line in block.splitlines()]
    return [shlex.split(line)[1:] for line in lines if line.startswith("drgpolicy ")]


def squeezed(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def city(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with the bundled sample, as a clean checkout has it."""
    (tmp_path / "sample").symlink_to(SAMPLE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_quick_start_works_and_shows_what_the_commands_print(
    city: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    quick = section("快速上手")
    steps = commands(quick)
    assert [step[0] for step in steps] == ["init", "check", "test", "validate", "settle"]
    outputs = []
    for step in steps:
        code, out, err = run(capsys, *step)
        assert code == 0, (step, out, err)
        outputs.append(out + err)
    assert "ok (0 errors, 0 warnings)" in outputs[1]
    assert "1 passed, 0 failed" in outputs[2]
    assert "nothing would be rejected" in outputs[3]
    (shown,) = blocks(quick, "text")
    header, row = shown.strip().splitlines()
    printed = outputs[4].splitlines()
    assert squeezed(printed[0]).startswith(squeezed(header))
    assert squeezed(printed[2]).startswith(squeezed(row))
    listed = sorted(str(p.relative_to(city)) for p in (city / "policies").rglob("*") if p.is_file())
    assert listed == [
        "policies/hefei/2024.policy",
        "policies/hefei/examples/starter.yaml",
        "policies/hefei/sources/README.md",
    ]
    for name in ("cases.csv", "hospitals.csv", "summary.csv"):
        assert f"`settlement/{name}`" in quick and (city / "out/hefei/settlement" / name).is_file()


def test_the_new_version_whatif_and_explanations_give_what_it_says(
    city: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "init", "hefei", "--year", "2024")[0] == 0
    (version,) = [
        b for b in blocks(README, "policy") if b.startswith('policy hefei version "2025"')
    ]
    (city / "policies/hefei/2025.policy").write_text(version, encoding="utf-8")
    code, out, _ = run(capsys, "check", "policies/hefei")
    assert code == 0 and "2025.policy: ok (0 errors, 0 warnings)" in out

    (whatif,) = commands(section("测算"))
    code, out, err = run(capsys, *whatif)
    assert code == 0, err
    words = section("测算")
    for amount in ("225,908.44", "417,117.48"):
        assert amount in words and amount in out
    moved = sum(int(n) for n in re.findall(r"(\d+) cases low → normal", out))
    assert f"{moved} 个病例由低倍率变为正常病例" in words

    explain, versus = commands(section("解释一个病例"))
    assert run(capsys, *explain)[0] == 0
    code, out, _ = run(capsys, *versus)
    assert code == 0
    first = next(line for line in out.splitlines() if line.startswith("▶ first difference"))
    assert first == "▶ first difference: category (病例类型), on the payment's path"
    assert "277.081" in out and "277.081" in section("解释一个病例")


def test_the_example_shown_is_the_starting_one(city: Path) -> None:
    (shown,) = blocks(section("示例测试"), "yaml")
    starter = {
        line.strip()
        for line in template_files("hefei", "points", 2024)["examples/starter.yaml"].splitlines()
    }
    for line in shown.splitlines():
        assert line.strip() in starter, line


def test_every_command_shown_is_one_drgpolicy_takes() -> None:
    parser = build_parser()
    shown = commands(README)
    assert len(shown) >= 15
    for args in (a for a in shown if a != ["--help"]):
        parser.parse_args(args)  # exits (fails the test) on an unknown command or option


def test_the_months_read_the_month_before_and_the_year_end_takes_the_twelve() -> None:
    """运行监测 shows the fund office's year: each month settled with `--previous` (its growth
    rates; the loop had none, and an `--any-date` Wuxi 2024 does not need), `monitor` over the
    months alone, and the year end with `--earlier` for each month's folder (it was not shown)."""
    monitoring = section("运行监测")
    (loop, year_end) = blocks(monitoring, "sh")
    assert "--any-date" not in loop
    assert 'previous="--previous out/wuxi-2024-$m"' in loop and "$previous" in loop
    assert "drgpolicy monitor out/wuxi-2024-* " in loop
    (line,) = [line for line in year_end.splitlines() if line.startswith("drgpolicy ")]
    args = shlex.split(line)[1:]
    word = next(a for a in args if a.startswith("--earlier="))
    stem, months = re.fullmatch(r"--earlier=(.*)\{(.*)\}", word).groups()  # type: ignore[union-attr]
    expanded = [a for a in args if a != word] + [f"--earlier={stem}{m}" for m in months.split(",")]
    parsed = build_parser().parse_args(expanded)
    assert parsed.earlier == [Path(f"out/wuxi-2024-{m:02d}") for m in range(1, 13)]
    assert (parsed.period, parsed.out) == ("2024", Path("out/wuxi-2024"))
