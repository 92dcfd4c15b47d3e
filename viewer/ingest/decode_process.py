"""The viewer's side of the decode helper's ring (`viewer.log.decode_helper`).

Each ring payload becomes a pyarrow buffer over the shared memory (`RingLeases.lease`)
whose bytes are lent to the pipeline: when the last buffer over them is gone, the lease
gives them back, and the helper hears of the space given back in steps of a sixteenth of
the ring. Leases end in any order (stores decode on their own threads); the space returned
is always the oldest contiguous part of the ring.
"""

from __future__ import annotations

import mmap
import os
import threading
from collections import deque

import pyarrow as pa

from viewer.log.arrow import liblz4
from viewer.log.decode_helper import TAIL

__all__ = ["RingLeases", "helper_available"]


def helper_available() -> bool:
    """Linux with memfd and liblz4: what the helper needs to be worth starting."""
    return hasattr(os, "memfd_create") and liblz4() is not None


class _Lease:
    """The base object of one ring payload's buffer: gives its bytes back when dropped."""

    __slots__ = ("end", "leases")

    def __init__(self, leases: RingLeases, end: int) -> None:
        self.leases = leases
        self.end = end

    def __del__(self) -> None:
        self.leases.give_back(self.end)


class RingLeases:
    """Which parts of the ring the pipeline still uses; reports freed space to the helper
    through ``ctl_fd`` (non-blocking; closed by `close`)."""

    def __init__(self, ring: mmap.mmap, ctl_fd: int) -> None:
        self._ring = ring  # the leases' buffers point into it: it lives as long as they do
        self.size = len(ring)
        self.report_step = self.size // 16  # small against the ring: see decode_helper
        self._address = pa.py_buffer(ring).address
        self._ctl = ctl_fd
        self._lock = threading.Lock()
        self._ends: deque[int] = deque()  # ends of the leases out, in ring order
        self._freed: set[int] = set()  # ends given back out of order
        self.tail = 0  # everything before this total is back
        self._sent = 0

    def lease(self, end: int, n: int) -> pa.Buffer:
        """The ``n`` bytes that end at total ``end`` (as the helper numbers them)."""
        with self._lock:
            self._ends.append(end)
        pos = (end - n) % self.size
        return pa.foreign_buffer(self._address + pos, n, base=_Lease(self, end))

    def give_back(self, end: int) -> None:
        with self._lock:
            ends = self._ends
            if not ends or ends[0] != end:
                self._freed.add(end)
                return
            ends.popleft()
            freed = self._freed
            while ends and ends[0] in freed:
                end = ends.popleft()
                freed.discard(end)
            self.tail = end
            if end - self._sent >= self.report_step and self._ctl >= 0:
                try:
                    os.write(self._ctl, TAIL.pack(end))
                except BlockingIOError:  # the helper is not reading: it is not waiting
                    return
                except OSError:  # the helper is gone
                    self._ctl = -1
                self._sent = end

    @property
    def outstanding(self) -> int:
        """Leases not given back yet (tests: the pipeline keeps none after a load)."""
        with self._lock:
            return len(self._ends) - len(self._freed)

    def close(self) -> None:
        """Stop reporting (the helper finished or was stopped); leases may still end."""
        with self._lock:
            fd, self._ctl = self._ctl, -1
        if fd >= 0:
            os.close(fd)
