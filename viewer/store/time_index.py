"""`TimelineIndex`: the chunks of one entity on one timeline, ordered by their min time.

Inserting is a list append (a bisect when a chunk arrives out of time order), cheap enough
for the UI thread once per chunk; the numpy views queries need (maxs and their running
max, which lets a latest-at stop at the first chunk that cannot beat the best time found)
are built lazily after inserts. Removal is batched for eviction (`remove_many`);
compaction swaps merged parts for their merged chunk (`replace`).
"""

from __future__ import annotations

import bisect

import numpy as np

from viewer.store.chunk import Chunk


class TimelineIndex:
    """Chunks of one entity on one timeline, ordered by their min time (parallel lists)."""

    __slots__ = ("_np_maxs", "_np_prefmax", "chunks", "maxs", "mins")

    def __init__(self) -> None:
        self.mins: list[int] = []
        self.maxs: list[int] = []
        self.chunks: list[Chunk] = []
        self._np_maxs: np.ndarray | None = None
        self._np_prefmax: np.ndarray | None = None

    def add(self, chunk: Chunk, lo: int, hi: int) -> None:
        mins = self.mins
        if not mins or lo >= mins[-1]:
            mins.append(lo)
            self.maxs.append(hi)
            self.chunks.append(chunk)
        else:
            i = bisect.bisect_right(mins, lo)
            mins.insert(i, lo)
            self.maxs.insert(i, hi)
            self.chunks.insert(i, chunk)
        self._np_maxs = None

    def remove_many(self, gone: set[int], count: int) -> None:
        """Remove the ``count`` chunks of this index whose ``id()`` is in ``gone`` (batch
        eviction). Costs O(position of the last one): evicted chunks are the oldest, so
        usually near the front, and the rest of the lists is only moved, not visited."""
        pos = positions(self.chunks, gone, count)
        if pos:
            delete_positions(self.mins, pos)
            delete_positions(self.maxs, pos)
            delete_positions(self.chunks, pos)
            self._np_maxs = None

    def replace(self, gone: set[int], count: int, merged: Chunk, lo: int, hi: int) -> None:
        """Compaction: the ``count`` chunks whose ``id()`` is in ``gone`` become ``merged``
        (time range ``lo``..``hi``). They are among the newest inserted, so the scan runs
        from the end of the lists."""
        for i in reversed(positions_from_end(self.chunks, gone, count)):
            del self.mins[i], self.maxs[i], self.chunks[i]  # near the end: short moves
        self.add(merged, lo, hi)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(maxs, running max of maxs) as numpy, rebuilt after inserts."""
        if self._np_maxs is None:
            self._np_maxs = np.array(self.maxs, dtype=np.int64)
            self._np_prefmax = np.maximum.accumulate(self._np_maxs)
        assert self._np_prefmax is not None
        return self._np_maxs, self._np_prefmax


def positions(items: list[Chunk], gone: set[int], count: int) -> list[int]:
    """Indices of the first ``count`` items whose ``id()`` is in ``gone`` (scan stops there)."""
    out: list[int] = []
    if count <= 0:
        return out
    for i, item in enumerate(items):
        if id(item) in gone:
            out.append(i)
            if len(out) == count:
                break
    return out


def positions_from_end(items: list[Chunk], gone: set[int], count: int) -> list[int]:
    """Like `positions`, scanning from the end (for the newest items); sorted ascending."""
    out: list[int] = []
    if count <= 0:
        return out
    for i in range(len(items) - 1, -1, -1):
        if id(items[i]) in gone:
            out.append(i)
            if len(out) == count:
                break
    out.reverse()
    return out


def delete_positions(items: list, where: list[int]) -> None:
    """Delete the sorted positions ``where``: rebuild only the prefix up to the last one
    (one memmove for the tail instead of one per deleted item)."""
    end = where[-1] + 1
    drop = set(where)
    items[:end] = [x for i, x in enumerate(items[:end]) if i not in drop]
