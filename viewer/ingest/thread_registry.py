"""Every QThread the ingest layer starts is registered here.

Tests use `running_threads()` to fail when a thread outlives its owner; `IngestHub.shutdown`
joins them all. Finished threads are pruned lazily.
"""

from __future__ import annotations

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


class BackgroundThread(QThread):
    """A reader or decoder thread running ``target``."""

    def __init__(self, target: Callable[[], None], name: str) -> None:
        super().__init__()
        self._target = target
        self.setObjectName(name)

    def run(self) -> None:  # noqa: D102 - QThread entry point
        self._target()


def start_background(target: Callable[[], None], name: str) -> BackgroundThread:
    """Start ``target`` on a registered `BackgroundThread` (joined by its owner)."""
    thread = BackgroundThread(target, name)
    register(thread)
    thread.start()
    return thread
