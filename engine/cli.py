"""`drgpolicy`: one command line for analysts and settlement jobs.

Each subcommand lives in `engine/commands/<name>.py` and exposes `register(subparsers)`, which
adds its parser and sets `run` (args → exit code); its one-line summary is `COMMANDS[name]`. Only
the module of the command given is imported (the others are listed by their summary), so that
`drgpolicy --help` starts without polars, lark or pydantic: measure with
`python -X importtime -m engine.cli --help`. Results go to stdout, errors to stderr; any
`PolicyError` ends the command with exit code 1 and its message, never a traceback. When the
reader of stdout goes away (`drgpolicy diff … | head`), the command stops quietly with 141, as a
program killed by SIGPIPE does. Ctrl-C (SIGINT) and SIGTERM — a scheduler's timeout, `kill`, a
container stopped — stop a run alike: what it was writing is removed, what `--out` held is kept,
and it ends with `interrupted` (130) or `terminated` (143).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from engine.run.heap import keep_freed_pages
from engine.run.stops import STOPS
from policy_dsl.errors import PolicyError

#: Every command (its module is `engine.commands.<name>`) and its one-line summary, in the order
#: `drgpolicy --help` lists them.
COMMANDS = {
    "init": "start a new city: a policy that checks and settles, an example, a sources folder",
    "check": "check policy files: names, grains, units, tables, versions",
    "fmt": "rewrite policy files in the canonical layout",
    "schema": "print a JSON Schema: the IR or an input file",
    "versions": "list a city's policy versions, or the version in force on a date",
    "diff": "compare two policy versions by meaning",
    "validate": "say what the data contract would reject in a data folder, before settling it",
    "settle": "settle cases under a policy and write the results",
    "explain": "explain one case step by step",
    "sample": "generate a synthetic city for tests, demos and benchmarks",
    "test": "run the example tests (policies/<city>/examples/*.yaml)",
    "whatif": "compare two versions on the same data: impact, attribution, exposure, sweeps",
    "monitor": "put the indicators of a city's runs side by side: trends, targets, outliers",
    "render": "write a policy as a document to sign (HTML, and PDF where Chromium is installed)",
    "studio": "open the studio in the browser (needs the `studio` extra: streamlit)",
}


#: Polars' allocator (jemalloc) settings for a command that settles the same cases many times
#: over — `whatif`: both versions, each clause, each threshold's step (41 settlements of
#: Xuancheng) — where each run frees arrays of every case that the next allocates again: the
#: freed pages are kept for them instead of going back to the system and being faulted in anew
#: (measured at 1M: system time 5.2 → 2.4 s, peak 1.10 → 1.37 GB). Read once, when polars is
#: first imported; a value set in the environment is kept.
ALLOCATOR = {"whatif": "dirty_decay_ms:-1,muzzy_decay_ms:-1"}
ALLOCATOR_VARIABLE = "_RJEM_MALLOC_CONF"
#: The batch commands whose numpy passes reuse freed pages (`engine.run.heap`): settle, where
#: it was measured; not whatif, whose own allocator setting (`ALLOCATOR`) measured better alone.
KEEP_FREED_PAGES = ("settle",)


#: The exit code of a run stopped by SIGTERM: 128 + 15, as a shell reports a program it ended.
TERMINATED = 143


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the run is (as SIGINT raises `KeyboardInterrupt`), so that it
    unwinds as Ctrl-C does: the staging folder and lock removed, the old outputs kept."""


@contextlib.contextmanager
def _stop_signals() -> Iterator[list[KeyboardInterrupt]]:
    """While the block runs, SIGINT raises `KeyboardInterrupt` and SIGTERM `Terminated`, each
    also kept in the list yielded: a library may turn it into its own error (DuckDB: "Query
    interrupted"), and the run is still said to be stopped; or swallow it (py4j's finalizers,
    run by the garbage collector, print "Exception ignored" and go on): the list is
    `engine.run.stops.STOPS`, and the run's next step raises it again. A signal ignored (a
    background job) stays ignored; outside the main thread nothing is set. The handlers before
    are put back."""
    stopped = STOPS

    def stop(signum: int, frame: object) -> None:
        stopped.append(Terminated() if signum == signal.SIGTERM else KeyboardInterrupt())
        raise stopped[-1]

    before = {}
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(signum) is not signal.SIG_IGN:
                before[signum] = signal.signal(signum, stop)
    except ValueError:  # not the main thread: no handler can be set
        pass
    try:
        yield stopped
    finally:
        stopped.clear()
        for signum, handler in before.items():
            signal.signal(signum, handler)


class _Summarised:
    """The subparsers as a command module sees them: its parser gets the summary of `COMMANDS`."""

    def __init__(self, subparsers: Any) -> None:
        self._subparsers = subparsers

    def add_parser(self, name: str, **options: Any) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = self._subparsers.add_parser(
            name, help=COMMANDS[name], **options
        )
        return parser


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command (`command` None), or of `command` alone with the others
    listed by name and summary (`""`: only listed — what `--help` needs)."""
    parser = argparse.ArgumentParser(
        prog="drgpolicy",
        description="DRG payment policies as data: check, format, compare and settle them.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, summary in COMMANDS.items():
        if command is None or name == command:
            module = importlib.import_module(f"engine.commands.{name}")
            module.register(_Summarised(subparsers))
        else:
            subparsers.add_parser(name, help=summary, add_help=False)
    return parser


def given_command(argv: Sequence[str]) -> str:
    """The command named by the arguments (`""` if none is: `--help`, a misspelt name)."""
    first = next(iter(argv), "")
    return first if first in COMMANDS else ""


def freeze_imported() -> None:
    """Leave what is alive now — the command's modules, imported: polars, pydantic's models,
    lark — out of the cyclic collector's later passes (`gc.freeze`). They live as long as the
    process, but each full collection walked them all again: a first compile afresh
    allocates enough to set one off, about 50 ms of CPU of its ~145 (docs/speed.md, "Compiling
    afresh in a fresh process"). Process-wide, so the command line's choice and the
    benchmarks' that time it, not a library call's (as `engine.run.heap`)."""
    gc.freeze()


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    command = given_command(arguments)
    if command in ALLOCATOR:
        os.environ.setdefault(ALLOCATOR_VARIABLE, ALLOCATOR[command])
    if command in KEEP_FREED_PAGES:
        keep_freed_pages()
    try:
        # set before the command's modules are imported (2–3 s on a loaded machine): a stop
        # then is said too, not a silent -15 or an import's traceback
        with _stop_signals() as stopped:
            args = build_parser(command).parse_args(arguments)
            if argv is None:  # the process is the command (not a caller's: a test, a notebook)
                freeze_imported()
            try:
                code: int = args.run(args)
            except Exception:
                if stopped:  # what a library made of the signal: the run was stopped
                    raise stopped[0] from None
                raise
    except PolicyError as exc:
        from engine.inputs.terms import shown_lines  # a control character typed: escaped

        print(shown_lines(str(exc)), file=sys.stderr)
        return 1
    except Terminated:
        print("terminated", file=sys.stderr)
        return TERMINATED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 141
    except OSError as exc:  # a disk full or read-only where a run takes its lock or writes
        from engine.run.atomic import out_of_room

        if (why := out_of_room(exc)) is None:
            raise
        print(f"{exc.filename or 'the outputs'} could not be written: {why}", file=sys.stderr)
        return 1
    return code


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit does not fail again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    sys.exit(main())
