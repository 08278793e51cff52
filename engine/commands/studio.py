"""`drgpolicy studio`: open the studio (editor, versions, what-if, explain, examples) in the
browser, served by Streamlit on this machine only (localhost)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.commands.check import add_sources_argument
from policy_dsl.errors import PolicyError
from policy_dsl.sources import ENV

APP = Path(__file__).resolve().parent.parent.parent / "studio" / "app.py"


class StudioError(PolicyError):
    """The studio cannot start (Streamlit missing, or a folder that is not there)."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "studio",
        description="Serve the studio on localhost: edit policy versions with live diagnostics, "
        "compare versions, measure a change on every hospital, explain a case, run examples.",
    )
    parser.add_argument("--port", type=int, default=8501, help="port (default 8501)")
    parser.add_argument(
        "--policies", type=Path, default=Path("policies"), help="policies folder (default policies)"
    )
    parser.add_argument(
        "--data", type=Path, default=Path("sample"), help="bundled data folder (default sample)"
    )
    add_sources_argument(parser, ": for the passages of quotes and their check in the editor")
    parser.add_argument(
        "--print-command", action="store_true", help="print the streamlit command, do not run it"
    )
    parser.set_defaults(run=run)


def command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address=localhost",
        f"--server.port={port}",
        "--server.headless=true",
        "--browser.gatherUsageStats=false",
        "--server.fileWatcherType=none",
        "--client.toolbarMode=minimal",
    ]


def environment(policies: Path, data: Path, sources: Sequence[Path] = ()) -> dict[str, str]:
    """The studio's environment: its folders, the `--sources` folders before those already in
    `DRGPOLICY_SOURCES`."""
    if not policies.is_dir():
        raise StudioError(f"policies folder {policies} not found")
    if not data.is_dir():
        raise StudioError(f"data folder {data} not found")
    for folder in sources:
        if not folder.is_dir():
            raise StudioError(f"--sources {folder}: no such folder")
    listed = [str(f.resolve()) for f in sources] + [os.environ.get(ENV, "")]
    return {
        **os.environ,
        "DRGPOLICY_POLICIES": str(policies.resolve()),
        "DRGPOLICY_DATA": str(data.resolve()),
        ENV: os.pathsep.join(p for p in listed if p),
    }


def run(args: argparse.Namespace) -> int:
    env = environment(args.policies, args.data, args.sources)
    argv = command(args.port)
    if args.print_command:
        print(" ".join(argv))
        return 0
    try:
        import streamlit  # noqa: F401
    except ModuleNotFoundError:
        raise StudioError(
            "the studio needs streamlit: pip install -e '.[studio]' (make studio does it)"
        ) from None
    print(f"drgpolicy studio: http://localhost:{args.port}  (Ctrl+C to stop)", file=sys.stderr)
    sys.stderr.flush()
    os.execve(argv[0], argv, env)  # streamlit takes this process over (one process to stop)
