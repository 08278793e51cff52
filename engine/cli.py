"""`drgpolicy`: one command line for analysts and settlement jobs.

Each subcommand lives in `engine/commands/<name>.py` and exposes `register(subparsers)`, which
adds its parser and sets `run` (args → exit code). Results go to stdout, errors to stderr; any
`PolicyError` ends the command with exit code 1 and its message, never a traceback. When the
reader of stdout goes away (`drgpolicy diff … | head`), the command stops quietly with 141, as a
program killed by SIGPIPE does.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence

from policy_dsl.errors import PolicyError

COMMANDS = (
    "init",
    "check",
    "fmt",
    "schema",
    "versions",
    "diff",
    "validate",
    "settle",
    "explain",
    "sample",
    "test",
    "whatif",
    "monitor",
    "render",
    "studio",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="drgpolicy",
        description="DRG payment policies as data: check, format, compare and settle them.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"engine.commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except PolicyError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 141
    return code


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit does not fail again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    sys.exit(main())
