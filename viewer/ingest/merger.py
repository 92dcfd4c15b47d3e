"""`ChunkMerger`: joins runs of adjacent small chunks of one entity into one chunk.

Applying a chunk costs the UI thread a few µs whatever its size, so a stream of tiny chunks
is cheaper to apply as fewer bigger ones. The merger only ever joins chunks that are
*adjacent* in one store's FIFO, from one source, of one entity (`Chunk.can_concat`): the
merged chunk takes the place of its first part, so per-store order holds. Big chunks pass
through alone (merging copies; their apply cost is already negligible).

It knows nothing about queues or threads: `add` and `flush` return the items to emit, which
keeps it testable on its own. The worker calls `flush` before every non-chunk item and at
the end of every `process()` call, so merging never waits for more input.
"""

from __future__ import annotations

from collections.abc import Callable

from viewer.ingest.items import ItemKind, ItemSource, ReadyItem
from viewer.store.chunk import Chunk
from viewer.tracing import TRACER

# Read once: an enum member read from its class costs ~150 ns on Python 3.11
# (docs/platform-facts.md), this code runs per message.
_CHUNK = ItemKind.CHUNK


class ChunkMerger:
    """Collects a run of small chunks; ``max_rows = 0`` disables merging."""

    def __init__(self, max_rows: int, max_bytes: int, *, trace_args: dict | None = None,
                 before_merge: Callable[[], None] | None = None) -> None:
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        #: Called before a concat, the longest step (the worker waits for the UI gate there).
        self.before_merge = before_merge
        self._trace_args = trace_args or {}
        self._run: list[Chunk] = []
        self._counts: list[int] = []  # input messages behind each chunk of the run
        self._rows = 0
        self._bytes = 0
        self._t_read = 0.0
        self._source: ItemSource | None = None
        self.merged_chunks = 0  # chunks that went into merged chunks (a counter for stats)

    def add(self, chunk: Chunk, t_read: float, source: ItemSource | None,
            n_msgs: int = 1) -> list[ReadyItem]:
        """Take one decoded chunk (made of ``n_msgs`` input messages); returns the items
        that are complete now, in order."""
        rows, nbytes = chunk.num_rows, chunk.nbytes
        if not (self.max_rows and rows < self.max_rows and nbytes < self.max_bytes):
            out = self.flush() if self._run else []
            out.append(ReadyItem(_CHUNK, chunk, n_msgs, t_read, source))
            return out
        out = []
        run = self._run
        if run and (self._rows + rows > self.max_rows or self._bytes + nbytes > self.max_bytes
                    or self._source is not source or not Chunk.can_concat(run[0], chunk)):
            out = self.flush()
            run = self._run
        if not run:
            self._t_read, self._source = t_read, source
        run.append(chunk)
        self._counts.append(n_msgs)
        self._rows += rows
        self._bytes += nbytes
        if self._rows >= self.max_rows:
            out.extend(self.flush())
        return out

    def flush(self) -> list[ReadyItem]:
        """End the current run: one merged item (or the parts if merging failed)."""
        run = self._run
        if not run:
            return []
        counts = self._counts
        self._run, self._counts, self._rows, self._bytes = [], [], 0, 0
        t_read, source = self._t_read, self._source
        if len(run) == 1:
            return [ReadyItem(_CHUNK, run[0], counts[0], t_read, source)]
        if self.before_merge is not None:
            self.before_merge()
        try:
            with TRACER.scope("merge", "worker", lambda: {**self._trace_args, "chunks": len(run)}):
                merged = Chunk.concat(run)
        except Exception:  # merging is an optimisation: fall back to the parts
            return [ReadyItem(_CHUNK, c, n, t_read, source)
                    for c, n in zip(run, counts, strict=True)]
        self.merged_chunks += len(run)
        return [ReadyItem(_CHUNK, merged, sum(counts), t_read, source)]
