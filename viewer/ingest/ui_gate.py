"""`UiGate`: background ingestion threads pause while the UI thread is busy.

Threaded mode runs the reader and decoder threads next to the UI thread, on a 2-core machine
and under one GIL. Each Python callback the UI thread makes while painting (every pyqtgraph
item's ``paint``, every event handler) has to take the GIL back from a decoder, and a decoder
also takes a core: a plot repaint of ~6 ms of CPU took 10-20 ms of wall time while a file
loaded (docs/benchmarks/gui.md). The frame driver closes the gate when a frame starts and
opens it when the UI thread goes idle (the event loop is about to block); the background
threads check it between messages. A gate closed for longer than ``max_hold_s`` counts as
open, so a UI thread that never idles slows ingestion down but cannot stop it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

#: Longest a closed gate holds the background threads back.
MAX_HOLD_S = 0.05


class UiGate:
    """`threading.Event`-like: set = background threads may run."""

    def __init__(self, max_hold_s: float = MAX_HOLD_S) -> None:
        self._open = threading.Event()
        self._open.set()
        self._closed_at: float | None = None
        self._max_hold = max_hold_s

    def clear(self) -> None:
        """Close (the UI thread starts its work). A gate whose hold ran out closes anew (a
        UI thread busy without a break still lets the background run between frames)."""
        if self.is_set():
            self._closed_at = time.monotonic()
            self._open.clear()

    def set(self) -> None:
        """Open (the UI thread is idle)."""
        self._open.set()
        self._closed_at = None

    def is_set(self) -> bool:
        if self._open.is_set():
            return True
        closed_at = self._closed_at
        return closed_at is None or time.monotonic() - closed_at >= self._max_hold

    def wait(self, timeout: float) -> bool:
        """Wait until open (or held for ``max_hold_s``), at most ``timeout`` seconds."""
        closed_at = self._closed_at
        if closed_at is not None:
            timeout = min(timeout, max(0.0, closed_at + self._max_hold - time.monotonic()))
        return self._open.wait(timeout) or self.is_set()

    def pause(self, stop: Callable[[], bool]) -> None:
        """A background thread's check between messages: block while the gate is closed
        (at most its hold) or until ``stop()`` says the thread is being stopped."""
        while not self.is_set() and not stop():
            self.wait(0.05)
