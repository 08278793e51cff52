"""Numpy passes over a long array on two threads: half the rows each (numpy lets go of the
GIL over an array), where the engine would otherwise run them on the one thread that calls
it while polars' threads wait. The results are those of one pass over all the rows: each
row's value depends on that row alone."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

#: Arrays shorter than this are done in one pass (a thread's hand-over costs tens of µs).
HALVES_ROWS = 200_000

_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="drgpolicy-halves")


def in_halves(rows: int, work: Callable[[slice], None]) -> None:
    """`work(rows)` over `slice(0, rows)`, as `work` on each half of it: the second on a
    worker thread while this one does the first (one pass where there are fewer than
    `HALVES_ROWS` rows)."""
    if rows < HALVES_ROWS:
        work(slice(0, rows))
        return
    middle = rows // 2
    second = _POOL.submit(work, slice(middle, rows))
    work(slice(0, middle))
    second.result()
