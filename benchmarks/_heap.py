"""The heap settled between timed samples: one place for every benchmark script."""

from __future__ import annotations

import gc


def settle_heap() -> None:
    """Collect garbage and make the allocator finish the frees it deferred, outside any clock.

    glibc keeps freed small chunks in "fastbins" and merges them only at a later request for a
    large chunk (or the free of one). Freeing a parsed tree of 1,000 devices leaves some
    milliseconds of that work, which the next sample's first large allocation paid: whichever
    measure came next. One 64 KiB allocation (below glibc's mmap threshold, so served from the
    heap) triggers the merge here instead. On other allocators it is a harmless allocation.
    See "Measurement notes" in docs/benchmarks.md for the figures.
    """
    gc.collect()
    scratch = bytearray(1 << 16)  # the large request that makes glibc merge its fastbins
    del scratch
