"""`RunSlots`: the bookkeeping of runs of small chunks, one definition for the viewer's
workers (`viewer.ingest.batch_runs.BatchRuns`) and the decode helper
(`viewer.log.helper_runs.HelperRuns`), so both join messages by the same rules.

A run holds adjacent messages (other entities' messages may sit between them) of one entity
and one run key (`viewer.log.sorbet.run_key`: the schema message without the chunk's id),
copied into one reused `JoinedStream`, up to ``max_bytes`` of IPC data and, once the rows
per byte of its run key are known from an earlier run, about ``max_rows`` rows. Up to
`MAX_OPEN_RUNS` runs are open at once, one per entity; a message of an entity whose open run
has another key closes that run first; one more run closes the oldest. A message that
joins no run closes every open run first and takes its place after them. What a run
becomes (`_build`, the subclass's) goes out in the place of its first message, so results
leave in the order of their first message and each entity's rows keep their order.
``max_hold``: a run still open that many messages after its first closes (the helper has
no natural end of a turn; the workers end their runs whenever their inbox runs dry).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from viewer.log.arrow import stream_entity_path
from viewer.log.joined_stream import JoinedStream

__all__ = ["MAX_OPEN_RUNS", "Run", "RunSlots"]

#: Runs open at once (entities taking turns); one more closes the oldest.
MAX_OPEN_RUNS = 16


@dataclass(slots=True)
class Run:
    """One open run, or (``built`` set) what it became, waiting for its turn to go out."""

    key: Hashable  # what it is open under (run key, and the caller's other parts)
    entity: bytes  # its entity path (two runs of one entity are never open at once)
    run_key: bytes
    stream: JoinedStream | None
    cap: int  # IPC bytes it may take
    first: int  # the sequence number of its first message
    items: list[Any] = field(default_factory=list)
    nbytes: int = 0
    # (the workers') the first part waits outside the stream until a second joins it, so a
    # message that stays alone is built from its own buffer
    deferred: bool = False
    built: list[Any] | None = None


class RunSlots:
    """Open runs and what waits to go out; subclasses build (`_build`) and add parts."""

    def __init__(self, max_bytes: int, max_rows: int = 0, max_hold: int | None = None) -> None:
        self.max_bytes = max_bytes
        self.max_rows = max_rows
        self.max_hold = max_hold
        #: IPC bytes per row of each run key seen in a run.
        self._row_bytes: dict[bytes, float] = {}
        #: The entity path of each run key seen (read from the schema once per key).
        self._entities: dict[bytes, bytes] = {}
        # open runs by key, oldest first; and by entity
        self._open: dict[Hashable, Run] = {}
        self._by_entity: dict[bytes, Hashable] = {}
        # runs and single results in the order of their first message, until they go out
        self._slots: deque[Run] = deque()
        self._spare: list[JoinedStream] = []  # streams of closed runs, reused
        self._seq = 0  # messages seen

    def takes(self, nbytes: int) -> bool:
        """Whether a part of ``nbytes`` may join a run at all (at most half the byte cap)."""
        return self.max_bytes > 0 and nbytes * 2 <= self.max_bytes

    def flush(self) -> list[Any]:
        """Close every open run: all results, in order."""
        self._close_all()
        return self._ready()

    # ------------------------------------------------------------------ for subclasses
    def _build(self, run: Run) -> list[Any]:
        """What a closed run becomes (its stream is recycled after this returns)."""
        raise NotImplementedError

    def _run_for(self, key: Hashable, run_key: bytes, data: pa.Buffer, nbytes: int) -> Run:
        """The open run a part of ``nbytes`` under ``key`` goes into (a full one closes)."""
        self._seq += 1
        run = self._open.get(key)
        if run is not None and run.nbytes + nbytes > run.cap:
            self._close(key)
            run = None
        if run is None:
            run = self._start(key, run_key, data)
        return run

    def _place(self, make: Callable[[], list[Any]]) -> list[Any]:
        """A result that joins no run, in its place: every open run closes first (its
        entity is not known here), then ``make()`` gives it."""
        self._seq += 1
        self._close_all()
        self._slots.append(Run(None, b"", b"", None, 0, self._seq, built=make()))
        return self._ready()

    def _drop_empty(self, run: Run) -> None:
        """Forget a run that got no part (its first one could not be joined)."""
        del self._open[run.key]
        self._by_entity.pop(run.entity, None)
        self._slots.remove(run)
        self._recycle(run)

    def _learn_rows(self, run_key: bytes, nbytes: int, rows: int) -> None:
        if rows:
            if len(self._row_bytes) >= 1024:
                self._row_bytes.clear()
            self._row_bytes[run_key] = nbytes / rows

    def _ready(self) -> list[Any]:
        slots = self._slots
        out: list[Any] = []
        while slots:
            head = slots[0]
            if head.built is None:
                hold = self.max_hold
                if hold is None or self._seq - head.first <= hold:
                    break
                self._close(head.key)  # open too long: it holds back the runs behind it
            out.extend(slots.popleft().built)  # type: ignore[arg-type]
        return out

    # ------------------------------------------------------------------ runs
    def _start(self, key: Hashable, run_key: bytes, data: pa.Buffer) -> Run:
        entity = self._entity_of(run_key, data)
        other = self._by_entity.get(entity)
        if other is not None:  # the entity's run of another schema: its rows go first
            self._close(other)
        if len(self._open) >= MAX_OPEN_RUNS:
            self._close(next(iter(self._open)))
        per_row = self._row_bytes.get(run_key) if self.max_rows else None
        cap = (self.max_bytes if per_row is None
               else min(self.max_bytes, max(int(per_row * self.max_rows), 1)))
        run = Run(key, entity, run_key, self._spare.pop() if self._spare else JoinedStream(),
                  cap, self._seq)
        self._open[key] = run
        self._by_entity[entity] = key
        self._slots.append(run)
        return run

    def _entity_of(self, run_key: bytes, data: pa.Buffer) -> bytes:
        entity = self._entities.get(run_key)
        if entity is None:
            # no path: a key of its own (the build reports what is wrong)
            entity = stream_entity_path(data) or b"\0" + run_key
            if len(self._entities) >= 4096:
                self._entities.clear()
            self._entities[run_key] = entity
        return entity

    def _close(self, key: Hashable) -> None:
        run = self._open.pop(key)
        if self._by_entity.get(run.entity) == key:
            del self._by_entity[run.entity]
        run.built = self._build(run)
        self._recycle(run)

    def _close_all(self) -> None:
        for key in list(self._open):
            self._close(key)

    def _recycle(self, run: Run) -> None:
        if run.stream is not None and len(self._spare) < MAX_OPEN_RUNS:
            self._spare.append(run.stream)
        run.stream = None
