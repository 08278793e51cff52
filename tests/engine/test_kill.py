"""The kill test: `drgpolicy settle` killed with SIGKILL at chosen points — while it reads and
settles, while it writes, while it swaps the new folder in — on one policy and on a policy
folder. After every kill `--out` holds the complete old outputs or the complete new ones (every
byte compared), and the next run leaves nothing beside it: no staging folder, no lock file.

The points are found by watching the run (its lock file, its staging folder, the manifest that
ends the writing) and the delays after them are seeded, so a failure can be replayed. The swap
itself lasts a few milliseconds, so a small driver also stops the run at exact points of it:
before and after the exchange, and — as where there is no one-step exchange (not Linux) —
between its two renames, where `out` is then missing and the next run puts the old back.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from engine.cli import main
from engine.run import atomic
from engine.run.run_lock import lock_path
from tests.conftest import POLICIES, ROOT, SAMPLE
from tests.engine.folders import beside, settled

SEED = 20241231
XUANCHENG = POLICIES / "xuancheng" / "2024.policy"


def settle_command(policy: Path, period: str, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "engine.cli", "settle", "--policy", str(policy),
        "--data", str(SAMPLE), "--period", period, "--out", str(out),
    ]  # fmt: skip


def completed(policy: Path, period: str, out: Path) -> dict[str, bytes]:
    """An undisturbed run (in this process: only the runs to kill need one of their own)."""
    assert main(settle_command(policy, period, out)[3:]) == 0
    return settled(out)


class Watched:
    """A settle run in its own process, watched from outside until the point to kill it."""

    def __init__(
        self, policy: Path, period: str, out: Path, last_manifest: str, stderr: int | None = None
    ) -> None:
        self.out, self.last_manifest = out, last_manifest
        self.process = subprocess.Popen(
            settle_command(policy, period, out),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL if stderr is None else stderr,
            text=True,
        )

    def locked(self) -> bool:
        """The run holds `--out`'s lock: it reads and settles from now on."""
        try:
            return lock_path(self.out).read_text() == f"{self.process.pid}\n"
        except OSError:
            return False

    def staging(self) -> Path | None:
        prefix = f".{self.out.name}.{self.process.pid}."
        found = [p for p in self.out.parent.iterdir() if p.name.startswith(prefix)]
        return found[0] if found else None

    def writing(self) -> bool:
        return self.staging() is not None

    def swapping(self) -> bool:
        """Every table and the (last) manifest are written: it flushes and swaps."""
        staging = self.staging()
        return staging is not None and (staging / self.last_manifest).is_file()

    def kill_at(self, point: str, delay: float) -> bool:
        """Kill the run `delay` seconds after `point` is reached, or sooner if it reaches the
        next point first (so that the kill falls in the phase chosen); False if it ended first."""
        phases = ["locked", "writing", "swapping"]
        reached: Callable[[], bool] = getattr(self, point)
        following = phases[phases.index(point) + 1 :]
        after: Callable[[], bool] = getattr(self, following[0]) if following else lambda: False
        while self.process.poll() is None and not reached():
            time.sleep(0.0005)
        deadline = time.perf_counter() + delay
        while time.perf_counter() < deadline and not after():
            time.sleep(0.0005)
        alive = self.process.poll() is None
        self.process.kill()
        self.process.wait()
        return alive


def test_a_killed_settlement_leaves_the_old_or_the_new_outputs_and_no_leftovers(
    tmp_path: Path,
) -> None:
    rng = random.Random(SEED)
    folder = tmp_path / "policies"
    for city in ("wuhan", "xuancheng"):
        shutil.copytree(POLICIES / city, folder / city)
    runs = {  # one policy, a policy folder: (policy, the periods it alternates, last manifest)
        "one": (XUANCHENG, ("2024-03", "2024-04"), "manifest.json"),
        "folder": (folder, ("2024-03", "2024-04"), "xuancheng-2024/manifest.json"),
    }
    plan = [  # (run, point, longest delay after it)
        ("one", "locked", 0.5),
        ("one", "locked", 0.5),
        ("one", "writing", 0.2),
        ("one", "writing", 0.2),
        ("one", "swapping", 0.0),
        ("one", "swapping", 0.01),
        ("folder", "writing", 0.4),
        ("folder", "swapping", 0.0),
    ]
    expected = {
        (name, period): completed(policy, period, tmp_path / "expected" / f"{name}-{period}")
        for name, (policy, periods, _) in runs.items()
        for period in periods
    }
    for name, (_, periods, _) in runs.items():
        assert expected[name, periods[0]] != expected[name, periods[1]]
        shutil.copytree(tmp_path / "expected" / f"{name}-{periods[0]}", tmp_path / name / "out")
    killed, left_over = [], 0
    for name, point, longest in plan:
        policy, periods, last = runs[name]
        out = tmp_path / name / "out"
        before = settled(out)
        period = periods[1] if before == expected[name, periods[0]] else periods[0]
        watched = Watched(policy, period, out, last)
        if watched.kill_at(point, rng.uniform(0, longest)):
            killed.append(point)
        assert settled(out) in (before, expected[name, period]), (name, point)
        left_over += bool(beside(out))
    assert killed.count("locked") == 2 and killed.count("writing") >= 2
    assert left_over >= 3  # the kills did leave something to clean up
    for name, (policy, periods, _) in runs.items():
        out = tmp_path / name / "out"
        assert completed(policy, periods[1], out) == expected[name, periods[1]]
        assert beside(out) == []


@pytest.mark.parametrize("point", ["locked", "writing"])
def test_a_terminated_settlement_says_so_keeps_the_old_outputs_and_leaves_nothing(
    tmp_path: Path, point: str
) -> None:
    """SIGTERM (a scheduler's timeout, `kill`) stops a run as Ctrl-C does: its staging folder
    and lock removed, the old outputs kept, `terminated` and 143. On main it died at once,
    its staging folder left beside `--out` until the next run, and said nothing."""
    out = tmp_path / "runs" / "out"
    old = completed(XUANCHENG, "2024-03", out)
    watched = Watched(XUANCHENG, "2024-04", out, "manifest.json", stderr=subprocess.PIPE)
    reached: Callable[[], bool] = getattr(watched, point)
    while watched.process.poll() is None and not reached():
        time.sleep(0.0005)
    watched.process.send_signal(signal.SIGTERM)
    _, err = watched.process.communicate()
    assert watched.process.returncode == 128 + signal.SIGTERM, err
    assert err.endswith("terminated\n"), err  # after a step's line left open, or on its own
    assert settled(out) == old
    assert beside(out) == []


class _Parser:
    """A parser whose command is `run` (what `main` needs of `build_parser`)."""

    def __init__(self, run: Callable[[argparse.Namespace], int]) -> None:
        self.run = run

    def parse_args(self, arguments: list[str]) -> argparse.Namespace:
        return argparse.Namespace(run=self.run)


def test_a_ctrl_c_that_duckdb_turns_into_its_own_error_is_said_as_a_stop(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """DuckDB answers a signal in a query with `RuntimeError: Query interrupted`; on main that
    was a traceback and exit 1 (`--backend duckdb`, Ctrl-C or SIGTERM while it settles)."""

    def run(args: argparse.Namespace) -> int:
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
        joined = "select count(*) from range(30000000) a(i) join range(30000000) b(j) on i = j"
        duckdb.connect(config={"threads": 1}).execute(joined)  # seconds; stopped in 1
        return 0

    monkeypatch.setattr("engine.cli.build_parser", lambda command: _Parser(run))
    assert main(["settle"]) == 130
    assert capsys.readouterr().err == "interrupted\n"


DRIVER = """
import os, signal, sys
from engine.run import atomic
from engine.cli import main

point, args = sys.argv[1], sys.argv[2:]
real_exchange, real_replace = atomic._exchange, os.replace
renames = []


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def exchange(first, second):
    if point == "before the exchange":   # every file written and flushed
        die()
    if point == "between the two renames":   # as where renameat2 is missing
        return False
    real_exchange(first, second)
    die()   # after it: the new folder in place, the old one still beside it


def replace(source, target):
    renames.append(target)
    if len(renames) == 2:   # the old folder is aside, the new one not yet in place
        die()
    real_replace(source, target)


atomic._exchange = exchange
atomic.os.replace = replace
sys.exit(main(args))
"""


@pytest.mark.parametrize(
    ("point", "left"),
    [
        ("before the exchange", "old"),
        ("after the exchange", "new"),
        ("between the two renames", "missing"),
    ],
)
def test_killed_while_it_swaps_out_holds_the_old_or_the_new_and_the_next_run_cleans_up(
    tmp_path: Path, point: str, left: str
) -> None:
    """Killed at exact points of the swap by a driver that stops itself there. Between the two
    renames (without a one-step exchange) `out` is missing, its old content beside it; the next
    run puts it back before anything else."""
    out, expected = tmp_path / "out", tmp_path / "expected"
    old = completed(XUANCHENG, "2024-03", out)
    new = completed(XUANCHENG, "2024-04", expected)
    command = settle_command(XUANCHENG, "2024-04", out)
    killed = subprocess.run(
        [sys.executable, "-c", DRIVER, point, *command[3:]], cwd=ROOT, capture_output=True,
        check=False,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert beside(out) != ["expected"]  # it left something behind
    if left == "missing":
        assert not out.exists()
        (aside,) = [p for p in tmp_path.iterdir() if p.name.endswith(".new.previous")]
        assert settled(aside) == old
        atomic.repair(out)
    assert settled(out) == (new if left == "new" else old)
    assert completed(XUANCHENG, "2024-03", out) == old
    assert beside(out) == ["expected"]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the swallowing
def test_a_stop_a_library_swallows_still_stops_the_run_at_its_next_step(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGTERM that lands in a finalizer the garbage collector runs (py4j's, on Spark) is
    printed as "Exception ignored" and swallowed: on mend30 `settle --backend spark` went on
    for 4 minutes, wrote its outputs and exited 0. The run stops at its next step instead."""
    from engine.run.progress import progress_for, reporting, step

    class Finalized:
        def __del__(self) -> None:
            os.kill(os.getpid(), signal.SIGTERM)  # the handler runs here, in the finalizer
            for _ in range(1000):
                pass

    went_on: list[str] = []

    def run(args: argparse.Namespace) -> int:
        with reporting(progress_for(argparse.Namespace(quiet=True))):
            Finalized()  # dropped at once: its __del__ swallows the stop
            went_on.append("after the finalizer")
            with step("write the outputs"):
                went_on.append("wrote the outputs")
        return 0

    monkeypatch.setattr("engine.cli.build_parser", lambda command: _Parser(run))
    assert main(["settle"]) == 143
    assert went_on == ["after the finalizer"]
    assert capsys.readouterr().err.endswith("terminated\n")


@pytest.mark.parametrize(
    ("signum", "code", "words"), [(15, 143, "terminated"), (2, 130, "interrupted")]
)
def test_a_stop_while_the_command_is_imported_is_said(signum: int, code: int, words: str) -> None:
    """SIGTERM or Ctrl-C while the command's modules are imported (polars, rich: 2–3 s on a
    loaded machine). On main the handlers were set after: SIGTERM ended the process with -15 and
    no word, Ctrl-C with a traceback from the middle of an import."""
    script = (
        "import os, sys, engine.cli as cli\n"
        "built = cli.build_parser\n"
        "def build(command):\n"
        f"    os.kill(os.getpid(), {signum})\n"
        "    return built(command)\n"
        "cli.build_parser = build\n"
        "sys.exit(cli.main())\n"
    )
    argv = [sys.executable, "-c", script, "check", str(XUANCHENG)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert (done.returncode, done.stderr) == (code, f"{words}\n")
