"""`BatchRuns`: builds one chunk from a run of same-schema messages.

A file written with many small chunks (`send_columns` in slices of a few hundred rows, or
the SDK's batcher flushing often) has long runs of messages of one entity with the same
schema. Reading each message's IPC stream and building a `Chunk` per message, then merging
them, costs ~60 µs per message of Python-level work plus copies. Here a run's decompressed
streams are copied into one reused buffer (`JoinedStream`), read as one table and become
one chunk that copies each column once (`Chunk.from_table`). Small payloads are
decompressed into a reused scratch buffer too (`decode`): only the chunk's own columns
touch fresh memory. The run ends at a different schema (`Chunk.run_key`), a different
source or staticness, the row or byte cap, and whenever the worker flushes (any non-chunk
message, an error, the end of a `process()` call), so order and latency are as with the
`ChunkMerger`, which still joins what this leaves (e.g. chunks whose schemas differ by a
component).

Like the merger it knows nothing about queues or threads: `add` and `flush` return the
results to emit, in order. A run whose combined build fails is built part by part, so a bad
message gets its own error in its place and the others load.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

from viewer.ingest.items import InboxEntry
from viewer.log.arrow import (
    DecodeScratch,
    decompress_payload,
    read_single_batch,
    schema_message,
)
from viewer.log.joined_stream import StreamFramingError
from viewer.log.messages import ArrowMsg
from viewer.log.protobuf import as_byte_view
from viewer.log.run_slots import Run, RunSlots
from viewer.log.sorbet import raw_chunk_id, run_key
from viewer.store.chunk import Chunk, ChunkError
from viewer.tracing import TRACER


@dataclass(slots=True)
class Payload:
    """One message, decompressed, waiting to become (part of) a chunk."""

    entry: InboxEntry
    msg: ArrowMsg
    data: pa.Buffer  # its Arrow IPC stream
    owned: pa.Buffer | None  # ``data`` when private to it (row ids swapped in place)
    schema_key: bytes | None  # its schema message
    run_key: bytes | None  # what a run shares (`run_key`); None: it never joins one
    transient: bool = False  # ``data`` is a scratch buffer, valid until the next decode

    @classmethod
    def of(cls, entry: InboxEntry, msg: ArrowMsg, scratch: DecodeScratch | None = None
           ) -> Payload:
        """Decompress ``msg`` (raises `ArrowDecodeError`) and work out its run key; into
        ``scratch`` when it takes the message (then the payload is `transient`)."""
        out = None
        if entry.job is not None:  # a big payload: maybe decompressed by its source already
            data, owned = entry.job.take()
        elif scratch is not None and (out := scratch.output_for(msg)) is not None:
            data, _ = decompress_payload(msg, out)
            owned = None
        else:
            data, owned = decompress_payload(msg, entry.out)
        key = schema_message(data)
        # the text `chunk_id_to_str` makes of the id's bytes, from the Tuid directly
        raw_id = raw_chunk_id(msg.chunk_id) if msg.chunk_id is not None else None
        # (a run the decode helper joined already is built alone: it counts its parts)
        joins = run_key(key, raw_id) if msg.parts == 1 else None
        return cls(entry, msg, data, owned, key, joins, out is not None or msg.transient)

    def private(self) -> Payload:
        """This payload with ``data`` in a buffer of its own (a chunk built from it keeps
        it; a scratch buffer is reused)."""
        if not self.transient:
            return self
        fresh = pa.allocate_buffer(self.data.size)
        as_byte_view(fresh)[:] = as_byte_view(self.data)
        return Payload(self.entry, self.msg, fresh, fresh, self.schema_key, self.run_key)


#: What a run yields: the (first) entry, its chunk or why it failed, and the number of
#: input messages behind it.
Built = tuple[InboxEntry, Chunk | Exception, int]


class BatchRuns(RunSlots):
    """Collects runs of payloads (`RunSlots`: the rules, shared with the decode helper),
    each up to ``max_bytes`` of IPC data and, once the rows per byte of its schema are known
    from an earlier run, about ``max_rows`` rows (rows are not known before reading: the
    chunks it builds stay the size the merger's would, the size the UI's apply budget was
    measured with); ``max_bytes = 0`` builds every message alone.

    Up to `MAX_OPEN_RUNS` runs are open at once, one per entity: a file whose entities take
    turns (the SDK's batcher flushes all of them together) still gets runs. A run's chunk
    goes out in the place of its first part, so results leave in the order of their first
    message; the rows of one entity keep their order (a message whose schema differs from
    its entity's open run closes that run first). Chunks of different entities may thus go
    out in another order than their messages came, which no store query can see (they order
    rows by time and row id)."""

    def __init__(self, max_bytes: int, max_rows: int = 0, *,
                 before_build: Callable[[], None] | None = None,
                 trace_args: dict | None = None) -> None:
        super().__init__(max_bytes, max_rows)
        #: Called before a combined build, the longest step (the worker waits for the UI).
        self.before_build = before_build
        self._trace_args = trace_args or {}
        # what a run can take: a part of more than half the byte cap is built alone
        self._scratch = DecodeScratch(max_bytes // 2) if max_bytes else None
        # The last run closed was a single message (e.g. many entities, each once): decode
        # the next one into a buffer of its own, not the scratch, as it will likely stay
        # alone too.
        self._expect_single = False
        self.joined_batches = 0  # messages that went into combined chunks (for stats)

    def decode(self, entry: InboxEntry, msg: ArrowMsg) -> Payload:
        """`Payload.of` through this object's scratch buffer: the payload must be given to
        `add` before the next `decode`."""
        return Payload.of(entry, msg, None if self._expect_single else self._scratch)

    def add(self, item: Payload) -> list[Built]:
        """Take one decompressed message; returns what is complete now, in order."""
        nbytes = item.data.size
        if item.run_key is None or not self.takes(nbytes):
            return self._alone(item)
        key = (item.run_key, id(item.entry.source), item.msg.is_static)
        run = self._run_for(key, item.run_key, item.data, nbytes)
        try:
            if run.deferred:  # a second part: the first goes in now
                run.stream.add(run.items[0].data)  # type: ignore[union-attr]
                run.deferred = False
            if run.items or item.transient:  # (the scratch is reused by the next decode)
                run.stream.add(item.data)  # type: ignore[union-attr]
            else:
                run.deferred = True
        except StreamFramingError:  # not framed for joining: alone, in its place
            if not run.items:
                self._drop_empty(run)
            return self._alone(item)
        run.items.append(item)
        run.nbytes += nbytes
        return self._ready()

    # ------------------------------------------------------------------ runs
    def _alone(self, item: Payload) -> list[Built]:
        """``item`` built alone, in its place (after every open run)."""
        return self._place(lambda: [self._build_one(item)])

    def _build(self, run: Run) -> list[Built]:
        return self._build_run(run)

    def _build_run(self, run: Run) -> list[Built]:
        """One chunk for a closed run (or one per part if that fails)."""
        items = run.items
        stream = run.stream
        assert stream is not None
        self._expect_single = len(items) == 1
        if len(items) == 1:
            (item,) = items
            if item.transient:  # its scratch is gone: the stream's copy, in its own buffer
                data = stream.single()
                item = Payload(item.entry, item.msg, data, data, item.schema_key, item.run_key)
            stream.release(())
            return [self._build_one(item)]
        if self.before_build is not None:
            self.before_build()
        head = items[0]
        run_bytes = stream.part_bytes
        chunk: Chunk | None = None
        try:
            with TRACER.scope("build", "worker", lambda: {
                    **self._trace_args, "messages": len(items),
                    "rows": chunk.num_rows if chunk is not None else 0}):
                table = stream.read()
                chunk = Chunk.from_table(table, head.schema_key,  # type: ignore[arg-type]
                                         is_static=head.msg.is_static)
                del table
        except (ChunkError, pa.ArrowException, ValueError):
            stream.release(())
            # each part gets its own verdict, decoded again (its scratch copy is gone)
            return [self._build_one(item if not item.transient
                                    else Payload.of(item.entry, item.msg)) for item in items]
        stream.release(chunk.arrow_columns())
        self._learn_rows(run.run_key, run_bytes, chunk.num_rows)
        self.joined_batches += len(items)
        return [(head.entry, chunk, len(items))]

    def _build_one(self, item: Payload) -> Built:
        item = item.private()
        msg = item.msg
        chunk: Chunk | None = None
        with TRACER.scope("build", "worker", lambda: {
                **self._trace_args, "messages": 1,
                "rows": chunk.num_rows if chunk is not None else 0}):
            try:
                chunk = Chunk.from_record_batch(
                    read_single_batch(item.data), is_static=msg.is_static,
                    chunk_id=msg.chunk_id.to_bytes() if msg.chunk_id is not None else None,
                    schema_key=item.schema_key, owned_buffer=item.owned,
                    source_chunks=msg.parts)
            except Exception as exc:  # ArrowDecodeError, ChunkError, or anything unexpected
                return item.entry, exc, msg.parts
        return item.entry, chunk, msg.parts
