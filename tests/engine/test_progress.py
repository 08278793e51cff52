"""Progress on long work: steps with elapsed time on stderr — live on a terminal, plain lines
elsewhere, nothing with `--quiet` — and every run ends with its timings per step; stdout keeps
what it had (`--json` stays JSON)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from engine.run.progress import Run, Timing, reporting, step, timings_line
from tests.conftest import POLICIES, SAMPLE
from tests.conftest import run_cli as run

XUANCHENG = POLICIES / "xuancheng"
TIMINGS = re.compile(r"^timings: .* · total \d+\.\d\d s$")


def settle_args(out: Path, *more: str) -> list[str]:
    return [
        "settle",
        "--policy",
        str(XUANCHENG / "2024.policy"),
        "--data",
        str(SAMPLE),
        "--period",
        "2024",
        "--out",
        str(out),
        *more,
    ]


def test_settle_off_a_terminal_prints_plain_lines_and_ends_with_its_timings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, *settle_args(tmp_path / "out", "--json"))
    assert code == 0
    json.loads(out)  # stdout is still the JSON summary, nothing else
    lines = err.splitlines()
    for name in ("read", "settle 2024", "write the outputs"):
        started = next(
            i for i, line in enumerate(lines) if line.startswith(f"… xuancheng 2024: {name}")
        )
        ended = next(
            i for i, line in enumerate(lines) if line.startswith(f"✓ xuancheng 2024: {name}")
        )
        assert started < ended
        assert re.search(r" in \d+\.\d\d s$", lines[ended])
    assert "✓ stage settlement in " in err  # the stage, within the settlement
    assert TIMINGS.match(lines[-1]), lines[-1]
    assert "xuancheng 2024: settle 2024 " in lines[-1]
    assert "(stage settlement " in lines[-1]  # a step within another, in brackets


def test_quiet_shows_no_progress_and_no_timings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, *settle_args(tmp_path / "out", "--quiet"))
    assert code == 0
    assert "timings:" not in err
    assert not [line for line in err.splitlines() if line[:2] in ("… ", "✓ ")]
    assert "case rows read = " in err  # the accounting of the rows is no progress: kept


def test_a_refused_run_ends_with_its_error_not_with_timings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, *settle_args(tmp_path / "out", "--set", "low_ratio_grassroots=40"))
    assert code == 1
    assert "timings:" not in err
    assert err.rstrip().splitlines()[-1].startswith("--set low_ratio_grassroots")


def test_whatif_counts_the_clauses_and_thresholds_it_settles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys,
        "whatif",
        "--base",
        str(XUANCHENG / "2023.policy"),
        "--new",
        str(XUANCHENG / "2024.policy"),
        "--data",
        str(SAMPLE),
        "--period",
        "2024",
        "--out",
        str(tmp_path / "report"),
        "--set",
        "low_ratio_grassroots=0.25,0.3,0.35",
        "--json",
    )
    assert code == 0
    report = json.loads(out)
    clauses = len(report["attribution"]["parts"])
    assert f"… attribution: each changed clause alone ({clauses})" in err
    assert f"✓ attribution: each changed clause alone {clauses}/{clauses} in " in err
    assert "✓ parameter sweep 3/3 in " in err
    assert re.search(r"✓ threshold exposure (\d+)/\1 in ", err)
    assert TIMINGS.match(err.splitlines()[-1])


def test_sample_shows_its_steps_and_quiet_hides_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "sample", "--out", str(tmp_path / "a"), "--cases", "200")
    assert code == 0 and json.loads(out)["cases"] == 200
    assert "✓ generate 200 cases in " in err
    assert "✓ write the tables 5/5 in " in err
    assert TIMINGS.match(err.splitlines()[-1])
    code, _, err = run(capsys, "sample", "--out", str(tmp_path / "b"), "--cases", "200", "--quiet")
    assert code == 0 and err == ""


def test_on_a_terminal_the_steps_are_drawn_live_with_their_counts() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100, color_system=None)
    with reporting(Run("live", screen, console)):
        with step("settle both versions"):
            pass
        with step("attribution", total=3) as counting:
            for _ in range(3):
                counting.advance()
    shown = screen.getvalue()
    assert "settle both versions" in shown
    assert "attribution" in shown and "3/3" in shown
    assert "\x1b[" in shown  # drawn and redrawn in place, not printed line by line
    assert TIMINGS.match(shown.rstrip().splitlines()[-1].removeprefix("\x1b[?25h"))  # cursor back


def test_steps_within_a_counted_step_are_neither_shown_nor_timed() -> None:
    stream = io.StringIO()
    progress = Run("plain", stream)
    with reporting(progress), step("exposure", total=2) as counting:
        for _ in range(2):
            with step("stage settlement"):
                pass
            counting.advance()
    assert [t.name for t in progress.timings] == ["exposure"]
    assert "stage settlement" not in stream.getvalue()


def test_outside_a_command_steps_report_to_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with step("settle", total=2) as counting:
        counting.advance(2)
    assert capsys.readouterr() == ("", "")


def test_the_timings_line_puts_the_steps_within_a_step_in_brackets() -> None:
    timings = [
        Timing("read", 0, 0.41),
        Timing("settle", 0, 1.02),
        Timing("stage monthly", 1, 0.7),
        Timing("stage year_end", 1, 0.25),
        Timing("write", 0, 1.2),
    ]
    assert timings_line(timings, 2.7) == (
        "timings: read 0.41 s · settle 1.02 s (stage monthly 0.70 s, stage year_end 0.25 s) "
        "· write 1.20 s · total 2.70 s"
    )


@pytest.mark.parametrize("mode", ["plain", "live"])
@pytest.mark.parametrize("stop", [KeyboardInterrupt, OSError], ids=["Ctrl-C or SIGTERM", "error"])
def test_a_step_stopped_is_said_stopped_never_done(mode: str, stop: type[BaseException]) -> None:
    """SIGTERM while the outputs were written printed `✓ xuancheng 2024: write the outputs in
    2.48 s` and then `terminated` (on mend30): a log said the outputs were written when none
    were. A step that ends by an exception is said stopped, with its time, and its line ends
    before the command's last word (`terminated`, the error)."""
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100, color_system=None)
    progress = Run("plain", screen) if mode == "plain" else Run("live", screen, console)
    with (
        pytest.raises(stop),
        reporting(progress),
        step("xuancheng 2024: read"),
        step("write the outputs", total=4) as counting,
    ):
        counting.advance()
        raise stop()
    shown = screen.getvalue()
    assert "✓ write the outputs" not in shown and "✓ xuancheng 2024: read" not in shown
    assert "✗ write the outputs" in shown and "✗ xuancheng 2024: read" in shown
    if mode == "plain":
        assert re.search(r"^✗ write the outputs 1/4 stopped after \d+\.\d\d s$", shown, re.M)
    assert shown.removesuffix("\x1b[?25h").endswith("\n") and "timings:" not in shown
