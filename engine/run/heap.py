"""glibc's heap keeps a settlement's freed arrays for the next ones (释放的数组留给下一次分配).

A settlement's numpy passes (exact sums' grid parts, a `cv`'s tallies, the split of a budget)
allocate arrays of every case and free them soon after, one after another. glibc's malloc
serves an array of more than 128 KB (rising, freed one by one, as far as 32 MB) from a mapping
of its own, handed back to the system when freed, and trims free memory at the top of its heap
above twice that: the next array of the same size is faulted in anew, page by page, on the
calling thread (1M cases, Xuancheng 2024: 45-55 thousand page faults and about a third of the
engine's CPU in system time). `keep_freed_pages` has every array come from the heap — no
mapping of its own, whatever its size (`mallopt`'s threshold stops at 32 MB: 4M doubles; at 10M
cases every such array was mapped: the three definitions that make them took 2.7 of a
settlement's 4.9 s of CPU, most of it system time, against 0.6 s from the heap) — and freed
memory stay there up to `TRIM_THRESHOLD`, so that later arrays reuse its pages (the price: a 10M
`drgpolicy settle` peaks 0.39 GB higher, docs/speed.md, fourteenth round). Polars' memory is
jemalloc's (`engine.cli.ALLOCATOR`), not touched here.

Process-wide and once for all, so a batch job's choice, not a library call's: the command
line's `settle` sets it (`engine.cli.KEEP_FREED_PAGES`; not whatif: unmeasured) and so do the
benchmarks, which time them; `settle()` itself does not — a long-lived process (the studio, a
notebook) would keep the pages of its largest settlement for good (freed arrays in the middle of
the heap are never handed back, whatever `TRIM_THRESHOLD`). Nothing is done where the
environment sets glibc's malloc itself (`MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`,
`MALLOC_MMAP_MAX_`, `GLIBC_TUNABLES`), or the C library is not glibc (no `mallopt`).
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys

#: `mallopt`'s parameters (glibc's malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
#: How many arrays may have a mapping of their own at once: none. (Where the heap cannot grow,
#: glibc still maps memory for it.)
MMAP_MAX = 0
#: Free memory at the top of the heap is kept up to this much: the most `mallopt` takes (a C
#: `int`). At 1M cases, 256 MB still handed a fifth of the pages back (42 against 32 thousand
#: faults a settlement); with 8 GB the peak was 802-805 MB against 788-798 without any of this
#: (three settlements in a process).
TRIM_THRESHOLD = 2**31 - 1
#: The environment's settings of glibc's malloc, kept where given.
ENVIRONMENT = (
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_MMAP_MAX_",
    "GLIBC_TUNABLES",
)


@functools.cache
def keep_freed_pages() -> bool:
    """Set glibc's thresholds (once a process); whether they were set."""
    if not sys.platform.startswith("linux") or any(v in os.environ for v in ENVIRONMENT):
        return False
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return False
    return bool(mallopt(M_MMAP_MAX, MMAP_MAX)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
