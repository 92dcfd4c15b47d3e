"""Every QThread the ingest layer starts is registered here.

Tests use `running_threads()` to fail when a thread outlives its owner; `IngestHub.shutdown`
joins them all. Finished threads are pruned lazily.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable

from PySide6.QtCore import QThread

_lock = threading.Lock()
_threads: list[QThread] = []


def register(thread: QThread) -> None:
    with _lock:
        _threads[:] = [t for t in _threads if _is_alive(t)]
        _threads.append(thread)


def running_threads() -> list[QThread]:
    """Registered threads that are still running (or about to start)."""
    with _lock:
        _threads[:] = [t for t in _threads if _is_alive(t)]
        return list(_threads)


def _is_alive(thread: QThread) -> bool:
    try:
        return thread.isRunning()
    except RuntimeError:  # the C++ object is gone
        return False


#: How much nicer (OS scheduling) reader and decoder threads are (Linux: per thread). With a reader,
#: a decoder and the UI thread runnable on 2 cores, a UI thread waking for its frame waited
#: for a core; at +10 the kernel hands it one first (frame p99 of a 2 M-row load with the
#: plot redrawing: median of 4 runs 28.5 -> 23.7 ms; docs/benchmarks/gui.md).
BACKGROUND_NICE = 10


def lower_current_thread_priority(nice: int = BACKGROUND_NICE) -> None:
    """Make the calling (background) thread yield the CPU to the UI thread. Best effort:
    a no-op where per-thread niceness is not available."""
    with contextlib.suppress(AttributeError, OSError):
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))


class BackgroundThread(QThread):
    """A reader or decoder thread: runs ``target`` below the UI thread's priority."""

    def __init__(self, target: Callable[[], None], name: str) -> None:
        super().__init__()
        self._target = target
        self.setObjectName(name)

    def run(self) -> None:  # noqa: D102 - QThread entry point
        lower_current_thread_priority()  # the UI thread gets a core first
        self._target()


def start_background(target: Callable[[], None], name: str) -> BackgroundThread:
    """Start ``target`` on a registered `BackgroundThread` (joined by its owner)."""
    thread = BackgroundThread(target, name)
    register(thread)
    thread.start()
    return thread
