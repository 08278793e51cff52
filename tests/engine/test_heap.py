"""glibc's heap thresholds set by the batch commands (`engine.run.heap`)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.run import heap

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    heap.keep_freed_pages.cache_clear()
    yield
    heap.keep_freed_pages.cache_clear()


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_the_thresholds_are_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in heap.ENVIRONMENT:
        monkeypatch.delenv(variable, raising=False)
    assert heap.keep_freed_pages()


#: In a process of its own (the setting is for good): whether an array of 10M doubles (80 MB) lies
#: in glibc's heap rather than in a mapping of its own.
IN_THE_HEAP = """
from pathlib import Path
import numpy as np
from engine.run import heap
assert heap.keep_freed_pages()
address = np.ones(10_000_000).__array_interface__["data"][0]
regions = Path("/proc/self/maps").read_text().splitlines()
heaps = [[int(b, 16) for b in r.split()[0].split("-")] for r in regions if r.endswith("[heap]")]
print(any(start <= address < end for start, end in heaps))
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_an_array_of_ten_million_cases_comes_from_the_heap() -> None:
    """Above glibc's largest mapping threshold (32 MB), an array had a mapping of its own, given
    back when freed and faulted in anew for the next: every array of a 10M settlement."""
    environment = {k: v for k, v in os.environ.items() if k not in heap.ENVIRONMENT}
    environment["PYTHONPATH"] = str(ROOT)
    found = subprocess.run(
        [sys.executable, "-c", IN_THE_HEAP], env=environment, capture_output=True, text=True
    )
    assert found.stdout.strip() == "True", found.stderr


@pytest.mark.parametrize("variable", heap.ENVIRONMENT)
def test_the_environments_settings_are_kept(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "131072" if variable.startswith("MALLOC") else "glibc.malloc.x=1")
    assert not heap.keep_freed_pages()


def test_the_settle_command_sets_it_and_a_library_settlement_does_not(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Process-wide memory behaviour is the job's choice: `drgpolicy settle` makes it, a
    `settle()` from a long-lived process (the studio) does not, nor does another command.
    Whoever calls `keep_freed_pages`, it reaches glibc through `heap.ctypes`: recorded here."""
    from engine import cli
    from engine.inputs.rundata import Period
    from engine.run.settle import load_data, load_policy, settle
    from tests.conftest import POLICIES, SAMPLE

    calls: list[object] = []

    class Glibc:
        @staticmethod
        def CDLL(name: object) -> object:
            calls.append(name)
            return object()  # no mallopt: nothing is set

    for variable in heap.ENVIRONMENT:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(heap, "ctypes", Glibc)
    monkeypatch.setattr(sys, "platform", "linux")
    policy = POLICIES / "wuhan" / "2024.policy"
    settle(load_policy(policy), load_data(SAMPLE, load_policy(policy)), Period.parse("2024-01"))
    cli.main(["validate", "--policy", str(policy), "--data", str(SAMPLE)])
    assert calls == []
    missing = str(tmp_path / "nowhere.policy")
    args = ["--data", str(SAMPLE), "--period", "2024", "--out", str(tmp_path / "out")]
    assert cli.main(["settle", "--policy", missing, *args]) != 0
    assert calls == [None]  # before anything else: the batch command's choice
