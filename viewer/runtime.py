"""Process-wide runtime settings, applied once by each entry point before it starts a hub.

The window (`viewer.ui.app.run_gui`), ``viewer ingest`` (`viewer.commands.ingest`) and every
benchmark that builds an `IngestHub` itself call `apply_process_settings`, so they all run
under the same settings and a benchmark reproduces what a user gets. Each setting below
states the measurement that earned it. What belongs to a running hub (the GIL switch
interval while its threads run, GC pacing, collecting on the UI thread only) stays in
`viewer.ingest.gc_tuning`: the hub sets and restores it.

Qt-free and imports nothing of the viewer, so any layer and any script may call it.
"""

from __future__ import annotations

import gc
import os


def freeze_startup_objects() -> None:
    """Move every object alive now out of the garbage collector's scans (``gc.freeze``).

    After importing PySide6, pyarrow and numpy tens of thousands of objects are tracked, and
    a full collection scans them all in whichever thread triggered it: 10-30 ms mid-frame.
    Frozen objects are still freed by reference counting. Together with the hub's GC pacing
    this took threaded ingestion of 10 stores from a frame max of 314 ms to 20-36 ms
    (docs/benchmarks/ingest-frames.md, "GC pacing"). Calling it again freezes what was
    created since, which is harmless.
    """
    gc.collect()
    gc.freeze()


def use_system_arrow_allocator() -> None:
    """Make pyarrow allocate with malloc instead of its bundled jemalloc/mimalloc.

    With jemalloc (and also mimalloc) about 1 % of chunk decodes stalled ~5 ms instead of
    ~0.09 ms, the allocator returning and re-faulting memory; with malloc the slowest of
    4 000 decodes was 0.5 ms, and web mode's UI ingest p99 went from 12.1-12.9 ms to 9.6 ms
    (docs/benchmarks/ingest-frames.md, "System allocator for pyarrow"). Buffers allocated
    before the switch stay valid. ARROW_DEFAULT_MEMORY_POOL, when set, wins.
    """
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    import pyarrow as pa

    if pa.default_memory_pool().backend_name != "system":
        pa.set_memory_pool(pa.system_memory_pool())


def no_numpy_huge_pages() -> None:
    """Big numpy arrays in 4 KB pages (GUI only).

    numpy asks Linux for transparent huge pages on large arrays; the first touch of each
    huge page can then stall while the kernel compacts memory, and growing a plot's series
    took 10-19 ms on the UI thread instead of 4-5 ms. ``scripts/bench_gui.py --cases scalars
    --ablate small-pages``: frame p99 median 20.6 ms with 4 KB pages, 22.5 ms with huge pages
    (docs/benchmarks/gui.md and docs/benchmarks/README.md). A viewer wants no such stalls
    more than it wants fewer TLB misses. The public switch, NUMPY_MADVISE_HUGEPAGE=0, only
    works before numpy is imported, so this uses numpy's runtime setter when it has one.
    """
    import numpy as np

    core = getattr(np, "_core", None)  # numpy >= 2
    setter = getattr(getattr(core, "multiarray", None), "_set_madvise_hugepage", None)
    if setter is not None:
        setter(False)


def apply_process_settings(*, gui: bool) -> None:
    """Apply every process-wide setting; call once, after start-up imports, before the hub
    starts (what is alive then is what `freeze_startup_objects` freezes)."""
    use_system_arrow_allocator()
    if gui:
        no_numpy_huge_pages()
    freeze_startup_objects()
