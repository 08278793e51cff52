"""Ctrl-C or SIGTERM received while a command runs (`engine.cli`). The exception the signal
raised may be swallowed where it lands — in a finalizer the garbage collector runs (py4j's, on
Spark: "Exception ignored in …"), and the run went on to write its outputs, exit 0 — so it is
kept here, and the next step, or the next unit of a counted step, raises it again
(`engine.run.progress.stop_if_asked`). A module of its own, importing nothing: the command line
sets its handlers before it imports the command's modules (polars, rich), so that a stop during
those imports is said too."""

from __future__ import annotations

STOPS: list[KeyboardInterrupt] = []
