"""`AppendBuffer`: an append-only numpy column that never copies itself all at once.

A column that doubles its capacity when full copies all of its rows into fresh memory in
one step; at a million rows that step (16 MB of first-touch pages, with the kernel
compacting huge pages) took 10-20 ms, on the UI thread, in the middle of a plot update
(docs/benchmarks/gui.md). Here the bigger buffer is made when the column is half full and
each append copies twice as many old rows as it adds, so the move is finished by the time
the old buffer is full: the same total work, spread over the appends.
"""

from __future__ import annotations

import numpy as np

_MIN_CAPACITY = 1024


class AppendBuffer:
    """Rows ``[0, len)`` of a growing 1-D array; ``view()`` is read-only and stays valid
    (appends only write past the end of earlier views)."""

    __slots__ = ("_buf", "_copied", "_n", "_next")

    def __init__(self, dtype: np.dtype | type, capacity: int = _MIN_CAPACITY) -> None:
        self._buf = np.empty(max(1, capacity), dtype=dtype)
        self._n = 0
        self._next: np.ndarray | None = None  # the bigger buffer being filled
        self._copied = 0  # rows already copied into ``_next``

    @classmethod
    def of(cls, values: np.ndarray) -> AppendBuffer:
        """A buffer holding ``values`` (which it takes over, without copying)."""
        buf = cls.__new__(cls)
        buf._buf = values
        buf._n = len(values)
        buf._next = None
        buf._copied = 0
        return buf

    def __len__(self) -> int:
        return self._n

    @property
    def capacity(self) -> int:
        return len(self._buf)

    def view(self) -> np.ndarray:
        out = self._buf[: self._n]
        out.flags.writeable = False
        return out

    def append(self, values: np.ndarray) -> None:
        k = len(values)
        n = self._n
        if n + k > len(self._buf):
            self._move(n + k)
        self._buf[n : n + k] = values
        self._n = n + k
        if self._next is None and self._n * 2 >= len(self._buf):
            self._next = np.empty(2 * len(self._buf), dtype=self._buf.dtype)
            self._copied = 0
        if self._next is not None:
            # Two old rows per new one: done before this buffer is full.
            end = min(self._n, self._copied + 2 * k)
            self._next[self._copied : end] = self._buf[self._copied : end]
            self._copied = end

    def _move(self, needed: int) -> None:
        """Switch to the bigger buffer (copying what the appends have not yet)."""
        nxt = self._next
        if nxt is None or len(nxt) < needed:
            nxt = np.empty(max(2 * len(self._buf), needed, _MIN_CAPACITY), dtype=self._buf.dtype)
            self._copied = 0
        if self._copied < self._n:
            nxt[self._copied : self._n] = self._buf[self._copied : self._n]
        self._buf = nxt
        self._next = None
        self._copied = 0
