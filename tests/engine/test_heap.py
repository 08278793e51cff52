"""glibc's heap thresholds set by a settlement (`engine.run.heap`)."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from engine.run import heap


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    heap.keep_freed_pages.cache_clear()
    yield
    heap.keep_freed_pages.cache_clear()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_the_thresholds_are_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in heap.ENVIRONMENT:
        monkeypatch.delenv(variable, raising=False)
    assert heap.keep_freed_pages()


@pytest.mark.parametrize("variable", heap.ENVIRONMENT)
def test_the_environments_settings_are_kept(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "131072" if variable.startswith("MALLOC") else "glibc.malloc.x=1")
    assert not heap.keep_freed_pages()
