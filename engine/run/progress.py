"""Progress of long work (进度): the steps of a run with their elapsed time, on stderr.

On a terminal the steps are drawn live by `rich` (a spinner, a bar where the count is known,
the elapsed time); elsewhere (a log, a pipe, a CI job) each step is a plain line when it starts
and when it ends, with a line of progress at most every `PLAIN_EVERY` seconds in between; with
`--quiet`, nothing. Every run not quiet ends with one line of its timings per step. Stdout is
never written: what a command prints there (`--json`) stays machine-readable.

Library code reports through the progress of the run it is part of, without taking it as an
argument: a command makes one (`progress_for(args)`) and runs under it (`with reporting(p):`);
`step("attribution", total=12)` then reports to it, and to nothing outside a command (the
Python API, the studio, the tests):

    with step("exposure", total=len(thresholds)) as counting:
        for threshold in thresholds:
            ...
            counting.advance()
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import IO, Literal

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from engine.run.stops import STOPS

Mode = Literal["live", "plain", "quiet"]

#: Seconds between two lines of progress of one step in plain mode.
PLAIN_EVERY = 10.0
#: How deep a step may lie within others and still be shown (0: a command's own steps).
SHOWN_DEPTH = 1


def stop_if_asked() -> None:
    """Raise the stop asked for (`STOPS`: `engine.run.stops`) that a library swallowed, if
    any."""
    if STOPS:
        raise STOPS[0]


@dataclass
class Timing:
    """How long a step took; `depth` 1 for a step within another."""

    name: str
    depth: int
    seconds: float = 0.0


@dataclass
class Counting:
    """A step under way: `advance()` once per unit of its work (a clause, a threshold)."""

    run: Run
    name: str
    total: int | None
    started: float
    done: int = 0
    task: TaskID | None = None
    last_line: float = 0.0
    shown: bool = True

    def advance(self, units: int = 1) -> None:
        stop_if_asked()
        self.done += units
        self.run.advanced(self)


@dataclass
class Run:
    """The progress of one command: its display, and the time each step took, in order."""

    mode: Mode
    stream: IO[str] = field(default_factory=lambda: sys.stderr)
    console: Console | None = None
    #: each step as it started: its name, depth (0: not within another step) and seconds
    timings: list[Timing] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    _live: Progress | None = None
    #: the steps under way, outermost first
    _open: list[Counting] = field(default_factory=list)

    @contextlib.contextmanager
    def step(self, name: str, total: int | None = None) -> Iterator[Counting]:
        """Report the step `name` (of `total` units, if known) while the block runs. Only
        steps at most `SHOWN_DEPTH` deep are shown and timed, and none within a counted step
        (the units of a loop: its count is what is shown)."""
        stop_if_asked()
        counting = Counting(self, name, total, time.perf_counter())
        counting.last_line = counting.started
        shown = len(self._open) <= SHOWN_DEPTH and all(c.total is None for c in self._open)
        counting.shown = shown
        timing = Timing(name, len(self._open))
        if shown:
            self.timings.append(timing)
            self._begin(counting)
        self._open.append(counting)
        finished = False
        try:
            yield counting
            stop_if_asked()
            finished = True
        finally:
            self._open.pop()
            timing.seconds = time.perf_counter() - counting.started
            if shown:
                self._end(counting, timing.seconds, finished)

    def _begin(self, counting: Counting) -> None:
        if self.mode == "live":
            indent = "  " * len(self._open)
            counting.task = self._display().add_task(indent + counting.name, total=counting.total)
        elif self.mode == "plain":
            of = f" ({counting.total})" if counting.total is not None else ""
            self._line(f"… {counting.name}{of}")

    def advanced(self, counting: Counting) -> None:
        if not counting.shown:
            return
        if self.mode == "live" and self._live is not None and counting.task is not None:
            self._live.update(counting.task, completed=counting.done)
        elif self.mode == "plain":
            now = time.perf_counter()
            if now - counting.last_line >= PLAIN_EVERY:
                counting.last_line = now
                self._line(f"… {counting.name} {_count(counting)} ({now - counting.started:.1f} s)")

    def _end(self, counting: Counting, seconds: float, finished: bool = True) -> None:
        """A step that ended: ✓ when it finished; one stopped by an error, Ctrl-C or SIGTERM is
        said so — never ✓ (the writing of the outputs stopped is not outputs written)."""
        counted = f" {_count(counting)}" if counting.total is not None else ""
        if self.mode == "live" and self._live is not None and counting.task is not None:
            if finished:
                total = counting.total if counting.total is not None else 1
                self._live.update(counting.task, total=total, completed=max(counting.done, total))
            else:
                indent = "  " * len(self._open)
                self._live.update(counting.task, description=f"{indent}✗ {counting.name} stopped")
        elif self.mode == "plain" and finished:
            self._line(f"✓ {counting.name}{counted} in {seconds:.2f} s")
        elif self.mode == "plain":
            self._line(f"✗ {counting.name}{counted} stopped after {seconds:.2f} s")

    def _display(self) -> Progress:
        if self._live is None:
            self._live = Progress(
                SpinnerColumn(finished_text="✓"),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console or Console(file=self.stream),
                redirect_stdout=False,  # stdout is the command's result (`--json`)
                redirect_stderr=True,  # notes printed meanwhile go above the display
            )
            self._live.start()
        return self._live

    def _line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def close(self, completed: bool = True) -> None:
        """Stop the live display and, for a run that completed, say how long each step took
        (not when quiet: a failed run ends with its error)."""
        if self._live is not None:
            self._live.stop()
            self._live = None
        if self.mode != "quiet" and completed:
            self._line(timings_line(self.timings, time.perf_counter() - self.started))


def _count(counting: Counting) -> str:
    return f"{counting.done}/{counting.total}" if counting.total is not None else ""


def timings_line(timings: list[Timing], total: float) -> str:
    """`timings: read 0.41 s · settle 1.02 s (stage monthly 0.70 s) · total 1.43 s`: each
    step, the steps within it in brackets."""
    steps: list[list[str]] = []
    for timing in timings:
        text = f"{timing.name} {timing.seconds:.2f} s"
        if timing.depth == 0 or not steps:
            steps.append([text])
        else:
            steps[-1].append(text)
    shown = [head + (f" ({', '.join(inner)})" if inner else "") for head, *inner in steps]
    return "timings: " + " · ".join([*shown, f"total {total:.2f} s"])


_CURRENT: ContextVar[Run | None] = ContextVar("drgpolicy_progress", default=None)


@contextlib.contextmanager
def reporting(run: Run) -> Iterator[Run]:
    """Make `run` the progress that `step` reports to while the block runs; close it after
    (with the timings line when the block completed)."""
    token = _CURRENT.set(run)
    completed = False
    try:
        yield run
        completed = True
    finally:
        _CURRENT.reset(token)
        run.close(completed)


@contextlib.contextmanager
def step(name: str, total: int | None = None) -> Iterator[Counting]:
    """Report a step to the current run's progress (or to nothing outside a command)."""
    run = _CURRENT.get() or Run("quiet")
    with run.step(name, total) as counting:
        yield counting


def add_quiet_argument(parser: argparse.ArgumentParser) -> None:
    """`--quiet`: no progress display and no timings (errors and warnings are still shown)."""
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no progress display and no timings on stderr (errors and notes still shown)",
    )


def progress_for(args: argparse.Namespace, stream: IO[str] | None = None) -> Run:
    """The progress of a command: live on a terminal, plain lines elsewhere, none if `--quiet`."""
    stream = stream or sys.stderr
    if getattr(args, "quiet", False):
        return Run("quiet", stream)
    console = Console(file=stream)
    return Run("live" if console.is_terminal else "plain", stream, console)


__all__ = [
    "STOPS",
    "Counting",
    "Run",
    "Timing",
    "add_quiet_argument",
    "progress_for",
    "reporting",
    "step",
    "stop_if_asked",
    "timings_line",
]
