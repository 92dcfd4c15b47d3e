"""`BoundedQueue`: a FIFO bounded by item count AND bytes.

Producers (file reader threads, gRPC handler threads) call the blocking `put`; a full queue
makes them wait, which is the backpressure that reaches the file read loop or HTTP/2 flow
control. Consumers only use the non-blocking `take` / `take_many`, so the UI thread can never
block on a queue. Order: items come out exactly in the order `put`/`try_put` accepted them.

Producers are woken when the queue has drained to half its bounds (hysteresis: one
burst per wake-up instead of a thread hand-off per item). Never deadlocks on a large item:
an item bigger than the byte bound is accepted whenever the queue is empty. `close()` wakes every waiting producer with `QueueClosed`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any


class QueueClosed(Exception):
    """The queue was closed (store closed or hub shut down) while putting into it."""


class BoundedQueue:
    def __init__(self, max_items: int, max_bytes: int, *, name: str = "") -> None:
        if max_items < 1 or max_bytes < 1:
            raise ValueError("a queue needs room for at least one item and one byte")
        self.max_items = max_items
        self.max_bytes = max_bytes
        self.name = name
        self._items: deque[tuple[Any, int]] = deque()
        self._nbytes = 0
        self._closed = False
        self._lock = threading.Lock()
        self._space = threading.Condition(self._lock)
        #: Called (outside the lock) after an item was added; used to wake a consumer.
        self.on_put: Callable[[], None] | None = None
        #: Called (outside the lock) after items were taken; used to wake a waiting producer.
        self.on_take: Callable[[], None] | None = None
        self.total_put = 0  # items ever accepted (monotonic, for idle accounting)
        self.peak_bytes = 0
        self.peak_items = 0
        self.blocked_s = 0.0  # total time producers spent waiting for space

    # -- producers -------------------------------------------------------------------------
    def put(self, item: Any, nbytes: int, timeout: float | None = None, *,
            help_while_full: Callable[[], bool] | None = None, count: int = 1) -> bool:
        """Append, waiting while full. False on timeout; raises `QueueClosed` if closed.

        ``help_while_full``: called (outside the lock) while there is no room, before
        waiting; it returns False once it has nothing left to do. ``count``: how many
        messages the item stands for in `total_put` (one slot of the bound all the same)."""
        if help_while_full is not None:
            while not self._closed and not self._has_room(nbytes) and help_while_full():
                pass
        with self._lock:
            if not self._fits(nbytes):
                t0 = time.monotonic()
                deadline = None if timeout is None else t0 + timeout
                while not self._fits(nbytes):
                    if self._closed:
                        break
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        self.blocked_s += time.monotonic() - t0
                        return False
                    self._space.wait(remaining)
                self.blocked_s += time.monotonic() - t0
            if self._closed:
                raise QueueClosed(self.name)
            self._append(item, nbytes, count)
        if self.on_put is not None:
            self.on_put()
        return True

    def try_put(self, item: Any, nbytes: int, count: int = 1) -> bool:
        """Append if there is room now; never waits. Raises `QueueClosed` if closed."""
        with self._lock:
            if self._closed:
                raise QueueClosed(self.name)
            if not self._fits(nbytes):
                return False
            self._append(item, nbytes, count)
        if self.on_put is not None:
            self.on_put()
        return True

    def force_put(self, item: Any, nbytes: int) -> None:
        """Append even when full (a consumer that checked `is_full` before taking input and
        must not lose its result). Silently dropped when closed: nobody will read it."""
        with self._lock:
            if self._closed:
                return
            self._append(item, nbytes)
        if self.on_put is not None:
            self.on_put()

    def _has_room(self, nbytes: int) -> bool:
        with self._lock:
            return self._fits(nbytes)

    def _fits(self, nbytes: int) -> bool:
        if not self._items:
            return True  # never deadlock on an item larger than the byte bound
        return len(self._items) < self.max_items and self._nbytes + nbytes <= self.max_bytes

    def _append(self, item: Any, nbytes: int, count: int = 1) -> None:
        self._items.append((item, nbytes))
        self._nbytes += nbytes
        self.total_put += count
        if self._nbytes > self.peak_bytes:
            self.peak_bytes = self._nbytes
        if len(self._items) > self.peak_items:
            self.peak_items = len(self._items)

    # -- consumers (never block) -----------------------------------------------------------
    def take(self) -> Any | None:
        """The oldest item, or None when empty."""
        with self._lock:
            if not self._items:
                return None
            item, nbytes = self._items.popleft()
            self._nbytes -= nbytes
            self._wake_producers()
        if self.on_take is not None:
            self.on_take()
        return item

    def take_many(self, max_items: int) -> list[Any]:
        """Up to ``max_items`` oldest items (possibly none)."""
        with self._lock:
            n = min(max_items, len(self._items))
            if n == 0:
                return []
            out = []
            popleft = self._items.popleft
            freed = 0
            for _ in range(n):
                item, nbytes = popleft()
                freed += nbytes
                out.append(item)
            self._nbytes -= freed
            self._wake_producers()
        if self.on_take is not None:
            self.on_take()
        return out

    def _wake_producers(self) -> None:
        """Under the lock. Wake waiting producers only once the queue drained to half (or
        empty): they then refill in one burst instead of one GIL hand-off per item."""
        if (len(self._items) <= self.max_items // 2 and self._nbytes <= self.max_bytes // 2) \
                or not self._items:
            self._space.notify_all()

    # -- state -----------------------------------------------------------------------------
    def is_full(self) -> bool:
        with self._lock:
            return bool(self._items) and (
                len(self._items) >= self.max_items or self._nbytes >= self.max_bytes
            )

    def close(self) -> None:
        """Refuse further puts, wake every waiting producer, drop what is queued."""
        with self._lock:
            self._closed = True
            self._items.clear()
            self._nbytes = 0
            self._space.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def nbytes(self) -> int:
        return self._nbytes

    def __len__(self) -> int:
        return len(self._items)
