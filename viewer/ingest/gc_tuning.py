"""Runtime tweaks tied to a running hub: the hub applies them while it runs and undoes them
when it shuts down. Process-wide settings applied once at start-up (``gc.freeze`` of the
start-up objects, pyarrow's allocator, numpy's page size) are in `viewer.runtime`.

- **GIL hand-off.** The UI thread waits for the GIL up to the switch interval (5 ms by
  default) each time it re-enters Python while a worker thread decodes; a 1 ms interval
  bounds that wait (frame p99 ~30-40 ms -> ~18-22 ms, docs/benchmarks/ingest-frames.md).
  Only set in threaded mode (web mode has no competing threads).
- **GC pacing** (`GcPacer`) and **collection on the UI thread only** (`UiThreadGc`): below.
"""

from __future__ import annotations

import gc
import sys


class SwitchInterval:
    """Set `sys.setswitchinterval` while ingestion threads run; restore it afterwards."""

    def __init__(self, interval_ms: float | None) -> None:
        self._interval = None if not interval_ms else interval_ms / 1000.0
        self._previous: float | None = None

    def apply(self) -> None:
        if self._interval is not None and self._previous is None:
            self._previous = sys.getswitchinterval()
            sys.setswitchinterval(self._interval)

    def restore(self) -> None:
        if self._previous is not None:
            sys.setswitchinterval(self._previous)
            self._previous = None


class GcPacer:
    """Keep full collections short while chunks keep arriving.

    Every chunk adds a dozen GC-tracked objects (pyarrow arrays, dicts, small records)
    that live as long as the recording. Left alone, CPython's full collections scan all
    of them: with 10 stores of 4 000 chunks a pause of 100–300 ms, in whichever thread
    triggered it. So after every ``every_chunks`` applied chunks the frame driver collects
    the young generations (cheap: only objects since the last time) and freezes the
    survivors: later full collections skip them. Reference counting still frees frozen
    objects; only *cycles* among them wait for `full_collect` (called when a store closes).
    """

    def __init__(self, every_chunks: int) -> None:
        self.every_chunks = every_chunks
        self._since = 0
        self.freezes = 0

    def after_apply(self, chunks: int, time_left_s: float) -> None:
        """Count applied items; collect + freeze when due and the frame has ~1.5 ms left
        (or when long overdue), so the pause fits the frame budget."""
        if self.every_chunks <= 0:
            return
        self._since += chunks
        due = self._since >= self.every_chunks
        if due and (time_left_s >= 0.0015 or self._since >= 4 * self.every_chunks):
            self._since = 0
            gc.collect(1)
            gc.freeze()
            self.freezes += 1

    def full_collect(self) -> None:
        """Collect everything, frozen objects included (one pause; on user actions only)."""
        if self.every_chunks <= 0 and gc.get_freeze_count() == 0:
            return
        gc.unfreeze()
        gc.collect()
        gc.freeze()


class UiThreadGc:
    """While a hub runs, cyclic garbage is collected on the UI thread only.

    CPython runs an automatic collection in whichever thread crosses the allocation
    threshold: with reader, decoder and gRPC threads allocating all the time, that is
    usually not the UI thread. A collection finalizes every unreachable cycle, and cycles
    can hold Qt objects (a closed view, a timer, a model) that Qt requires to be destroyed
    on the thread that owns them; destroyed elsewhere they crash the process. So automatic
    collection is switched off while any hub runs, and the frame driver calls `tick()` once
    per frame on the UI thread, which collects what the thresholds say is due — the same
    generations the automatic collector would have run, just on the right thread.
    Reference counting, which frees almost everything, is unaffected.
    """

    _holders = 0
    _we_disabled = False

    def __init__(self) -> None:
        self._held = False

    def acquire(self) -> None:
        if self._held:
            return
        self._held = True
        cls = type(self)
        if cls._holders == 0 and gc.isenabled():
            gc.disable()
            cls._we_disabled = True
        cls._holders += 1

    def release(self) -> None:
        if not self._held:
            return
        self._held = False
        cls = type(self)
        cls._holders -= 1
        if cls._holders == 0 and cls._we_disabled:
            cls._we_disabled = False
            gc.enable()

    @staticmethod
    def tick() -> int:
        """Collect the generations that are due; returns the generation collected or -1."""
        t0, t1, t2 = gc.get_threshold()
        c0, c1, c2 = gc.get_count()
        if t0 <= 0 or c0 < t0:
            return -1
        generation = 2 if (c1 >= t1 and c2 >= t2) else 1 if c1 >= t1 else 0
        gc.collect(generation)
        return generation
