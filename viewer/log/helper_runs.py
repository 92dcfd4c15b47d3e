"""`HelperRuns`: the decode helper's grouping of small chunks into runs, combined into one
record batch each before they cross to the viewer.

The viewer builds one chunk from a run of same-schema messages of one entity
(`viewer.ingest.batch_runs`); reading the joined stream and combining its columns is most of
its decoding thread's time on a file of small chunks. Here the helper does that work on its
own core: the viewer receives one single-batch IPC stream per run, which it only has to
wrap (`ArrowMsg.parts` says how many messages it stands for).

The rules are the viewer's, minus anything about chunk semantics: a run holds adjacent
messages (in file order, other entities' messages may sit between them) of one store,
entity, schema (`run_key`: the schema message without the chunk's id) and staticness, up to
``max_bytes`` of IPC data and, once a schema's rows per byte are known, about ``max_rows``
rows. At most `MAX_OPEN` runs are open, one per entity; a message of an entity with an
open run of another schema closes that run first. Anything that does not join (another
kind of message, an unkeyed or big payload) closes every open run first. Runs go out in the
order of their first message, so per-entity order and the barriers hold; a run open for
`MAX_HOLD` messages closes, so a lone message of some entity cannot hold back the rest. A
run whose
combined batch cannot be made is passed on part by part, for the viewer to decode (and
report) each as if the helper had not been there.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from viewer.log.arrow import schema_message
from viewer.log.joined_stream import JoinedStream, StreamFramingError
from viewer.log.messages import ArrowMsg
from viewer.log.sorbet import ENTITY_PATH_KEY

__all__ = ["MAX_OPEN", "HelperRuns", "Part", "run_key_of"]

MAX_OPEN = 16
#: A run still open this many messages after its first part closes: it holds back every
#: run behind it (the viewer's worker ends its runs whenever its inbox runs dry).
MAX_HOLD = 256


def run_key_of(data: pa.Buffer | memoryview, msg: ArrowMsg) -> bytes | None:
    """The schema message of ``data`` without the chunk id's text (None: it never joins)."""
    key = schema_message(data)
    if key is None or msg.chunk_id is None:
        return None
    raw_id = f"chunk_{msg.chunk_id}".encode()
    if key.count(raw_id) != 1:
        return None
    return key.replace(raw_id, b"")


@dataclass(slots=True)
class Part:
    """One message of a run: where it is in the file and what it says."""

    offset: int
    msg: ArrowMsg


@dataclass(slots=True)
class _Run:
    entity: bytes
    stream: JoinedStream | None
    cap: int
    run_key: bytes
    first: int  # the sequence number of its first message
    parts: list[Part] = field(default_factory=list)
    nbytes: int = 0
    closed: bool = False


#: What goes out, in order: ("run", parts, the combined record batch or None when it could
#: not be made) or ("one", part, its decompressed stream).
Out = tuple[str, Any, Any]


class HelperRuns:
    """Collects runs; `add` / `barrier` return what is ready to go out, in order."""

    def __init__(self, max_bytes: int, max_rows: int,
                 on_combined: Callable[[int], None] | None = None) -> None:
        self.max_bytes = max_bytes
        self.max_rows = max_rows
        self._row_bytes: dict[bytes, float] = {}
        self._entities: dict[bytes, bytes] = {}
        self._open: dict[tuple[bytes, Any, bool], _Run] = {}
        self._by_entity: dict[bytes, tuple[bytes, Any, bool]] = {}
        self._slots: deque[_Run | Out] = deque()
        self._spare: list[JoinedStream] = []
        self._on_combined = on_combined
        self._seq = 0  # messages seen

    def takes(self, nbytes: int) -> bool:
        """Whether a decompressed stream of this size may join a run at all."""
        return self.max_bytes > 0 and nbytes * 2 <= self.max_bytes

    def add(self, part: Part, data: pa.Buffer, key: bytes) -> list[Out]:
        """A message that may join a run (``data`` is copied before this returns)."""
        self._seq += 1
        msg = part.msg
        rkey = (key, msg.store_id, bool(msg.is_static))
        run = self._open.get(rkey)
        nbytes = data.size
        if run is not None and run.nbytes + nbytes > run.cap:
            self._close(rkey)
            run = None
        if run is None:
            run = self._start(rkey, data)
        try:
            run.stream.add(data)  # type: ignore[union-attr]
        except StreamFramingError:
            if not run.parts:
                self._drop(rkey, run)
            return self.single(part, data)
        run.parts.append(part)
        run.nbytes += nbytes
        return self._ready()

    def single(self, part: Part, data: pa.Buffer | None) -> list[Out]:
        """A message that goes out alone, in its place (every open run closes first)."""
        self._seq += 1
        self._close_all()
        self._slots.append(("one", part, data))
        return self._ready()

    def barrier(self) -> list[Out]:
        """Close every open run (before any other kind of message, and at the end)."""
        self._close_all()
        return self._ready()

    @property
    def open_offsets(self) -> list[int]:
        """Offsets of the messages held in runs not sent yet."""
        return [p.offset for slot in self._slots if isinstance(slot, _Run) for p in slot.parts]

    # ------------------------------------------------------------------ runs
    def _start(self, rkey: tuple[bytes, Any, bool], data: pa.Buffer) -> _Run:
        key = rkey[0]
        entity = self._entity_of(key, data)
        other = self._by_entity.get(entity)
        if other is not None:
            self._close(other)
        if len(self._open) >= MAX_OPEN:
            self._close(next(iter(self._open)))
        per_row = self._row_bytes.get(key) if self.max_rows else None
        cap = (self.max_bytes if per_row is None
               else min(self.max_bytes, max(int(per_row * self.max_rows), 1)))
        run = _Run(entity, self._spare.pop() if self._spare else JoinedStream(), cap, key,
                   self._seq)
        self._open[rkey] = run
        self._by_entity[entity] = rkey
        self._slots.append(run)
        return run

    def _entity_of(self, key: bytes, data: pa.Buffer) -> bytes:
        entity = self._entities.get(key)
        if entity is None:
            try:
                meta = pa.ipc.read_schema(pa.BufferReader(data)).metadata or {}
            except (pa.ArrowException, ValueError):
                meta = {}
            entity = meta.get(ENTITY_PATH_KEY) or b"\0" + key
            if len(self._entities) >= 4096:
                self._entities.clear()
            self._entities[key] = entity
        return entity

    def _drop(self, rkey: tuple[bytes, Any, bool], run: _Run) -> None:
        del self._open[rkey]
        self._by_entity.pop(run.entity, None)
        self._slots.remove(run)
        self._recycle(run)

    def _close(self, rkey: tuple[bytes, Any, bool]) -> None:
        run = self._open.pop(rkey)
        if self._by_entity.get(run.entity) == rkey:
            del self._by_entity[run.entity]
        run.closed = True

    def _close_all(self) -> None:
        for rkey in list(self._open):
            self._close(rkey)

    def _recycle(self, run: _Run) -> None:
        if run.stream is not None and len(self._spare) < MAX_OPEN:
            self._spare.append(run.stream)
        run.stream = None

    def _ready(self) -> list[Out]:
        out: list[Out] = []
        slots = self._slots
        while slots:
            head = slots[0]
            if isinstance(head, _Run):
                if not head.closed and self._seq - head.first > MAX_HOLD:
                    self._close(next(k for k, r in self._open.items() if r is head))
                if not head.closed:
                    break
                out.append(self._finish(head))
            else:
                out.append(head)
            slots.popleft()
        return out

    def _finish(self, run: _Run) -> Out:
        """A closed run as it goes out: one part alone, or its combined stream."""
        stream = run.stream
        assert stream is not None
        try:
            if len(run.parts) == 1:
                return "one", run.parts[0], stream.single()
            return "run", run.parts, self._combine(run, stream)
        finally:
            stream.release(())
            self._recycle(run)

    def _combine(self, run: _Run, stream: JoinedStream) -> pa.RecordBatch | None:
        """The run's batches as one record batch (its own buffers, not the stream's), or
        None when they cannot be combined (the viewer then decodes each part and reports
        what is wrong with it)."""
        try:
            table = stream.read()
            table.validate(full=True)  # a corrupt offset must not reach the combine
            batches = table.combine_chunks().to_batches()
            del table
        except (pa.ArrowException, ValueError, StreamFramingError):
            return None
        if len(batches) != 1:
            return None
        batch = batches[0]
        if batch.num_rows:
            if len(self._row_bytes) >= 1024:
                self._row_bytes.clear()
            self._row_bytes[run.run_key] = stream.part_bytes / batch.num_rows
        if self._on_combined is not None:
            self._on_combined(len(run.parts))
        return batch
