"""`IngestState`: what the hub owns and shares with its frame driver and sources.

One object holds the per-store workers, the `EntityDb`s, the sources, the errors and the
stores closed since the last frame. The hub creates it and hands it to the frame driver (UI
thread) and to the sources (their own threads), which use only its public methods:

- sources: `route()` a message to its store's inbox, `queued_bytes()` of their stores,
  `report_error()`, and the `ui_gate` they pause at;
- the frame driver: `workers`, `db()` / `ensure_db()`, `errors`, `sources`,
  `take_closed()`, `pull_sources()`.

Workers are created lazily, on a store's first message, by the factory the hub passes in
(threads and pools are the hub's business). Threading: `workers` is a copy-on-write tuple
(any thread may read it); `dbs` is touched on the UI thread only; `sources` and `errors`
are append-only lists (appends are atomic under the GIL, readers take copies or slices).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Protocol

from viewer.ingest.decompress_jobs import DecompressJob
from viewer.ingest.items import InboxEntry, ItemSource
from viewer.ingest.queues import QueueClosed
from viewer.ingest.ui_gate import UiGate
from viewer.log.arrow import is_big_lz4, prepare_output
from viewer.log.messages import ArrowMsg, LogMsg, StoreId, decoded_claim, message_nbytes
from viewer.log.reader import ReadError
from viewer.store.entity_db import EntityDb
from viewer.store.memory import format_bytes

if TYPE_CHECKING:
    from viewer.ingest.worker import IngestionWorker


class SourceClosed(Exception):
    """The hub was shut down, or this source was finished or closed: stop sending."""


class RoutedSource(ItemSource, Protocol):
    """What routing needs from a source (`sources.Source` is one)."""

    kind: str
    finished: bool
    messages_sent: int
    dropped_messages: int

    def sends_to(self, store_id: StoreId) -> None: ...

    def ignores(self, store_id: StoreId) -> bool: ...

    def ignore(self, store_id: StoreId) -> None: ...

    @property
    def store_ids(self) -> list[StoreId]: ...


class IngestState:
    def __init__(self, create_worker: Callable[[StoreId], IngestionWorker],
                 memory_limit_bytes: int | None) -> None:
        #: Guards creating and removing workers, adding sources and the shut-down flag.
        self.lock = threading.Lock()
        #: Set = background threads may run Python (closed by the frame driver).
        self.ui_gate = UiGate()
        self.memory_limit_bytes = memory_limit_bytes
        self._create_worker = create_worker
        self._workers: dict[StoreId, IngestionWorker] = {}
        self.workers: tuple[IngestionWorker, ...] = ()  # copy-on-write snapshot
        self._dbs: dict[StoreId, EntityDb] = {}
        self._sources: list[RoutedSource] = []
        self._errors: list[ReadError] = []
        self._closed: list[StoreId] = []
        self._shut_down = False

    # ------------------------------------------------------------------ sources
    def add_source(self, src: RoutedSource) -> bool:
        """Register a source; False when the hub is already shut down (abort it)."""
        with self.lock:
            self._sources.append(src)
            return not self._shut_down

    @property
    def sources(self) -> list[RoutedSource]:
        return list(self._sources)

    def route(self, source: RoutedSource, msg: LogMsg, offset: int, t_read: float,
              *, block: bool) -> bool:
        """Put one message into its store's inbox. Called on source threads.

        Returns False only when ``block`` is False and the inbox is full (web mode).
        Raises `SourceClosed` once the hub is shut down.
        """
        store_id = msg.store_id
        worker = self._workers.get(store_id)
        if worker is None:
            with self.lock:
                if self._shut_down:
                    raise SourceClosed("the ingest hub was shut down")
                if source.ignores(store_id):
                    source.dropped_messages += 1
                    return True
                worker = self._workers.get(store_id)
                if worker is None:
                    worker = self._workers[store_id] = self._create_worker(store_id)
                    self.workers = tuple(self._workers.values())
        elif source.ignores(store_id):
            source.dropped_messages += 1
            return True
        source.sends_to(store_id)
        claim = decoded_claim(msg)
        limit = self.memory_limit_bytes
        if limit and claim > limit:
            # Never allocated: no honest chunk is bigger than all memory the viewer may use.
            err = ReadError(source.name, offset,
                            f"store {store_id}: a chunk claims {format_bytes(claim)} once "
                            f"decompressed, more than the memory limit "
                            f"({format_bytes(limit)}): skipped")
            source.errors.append(err)
            self.report_error(err)
            source.dropped_messages += 1
            return True
        # The decoded size counts in the inbox's byte bound before it is allocated.
        nbytes = message_nbytes(msg) + claim
        inbox = worker.inbox
        entry = InboxEntry(msg, source, t_read, offset)
        if block and claim and inbox.nbytes + nbytes <= inbox.max_bytes:
            # Faulted in here, on the source thread, while the decoder works (arrow.py);
            # only when the inbox has room for it now, so a sender waiting for room holds
            # no buffer.
            entry.out = prepare_output(msg)
        jobs = worker.decompress_jobs
        if block and isinstance(msg, ArrowMsg) and is_big_lz4(msg):
            # this thread decompresses queued big payloads while it waits for room
            entry.job = DecompressJob(msg, entry.out)
            entry.out = None
        count = msg.parts if isinstance(msg, ArrowMsg) else 1
        try:
            if block:
                inbox.put(entry, nbytes, help_while_full=jobs.help_one if len(jobs) else None,
                          count=count)
                if entry.job is not None:
                    jobs.add(entry.job)
            elif not inbox.try_put(entry, nbytes, count):
                return False
        except QueueClosed:
            if self._shut_down:
                raise SourceClosed("the ingest hub was shut down") from None
            source.dropped_messages += 1  # the store was closed meanwhile
            return True
        source.messages_sent += count
        return True

    def queued_bytes(self, store_ids: Iterable[StoreId]) -> int:
        """Bytes waiting in the inboxes of these stores (any thread; a racy sum is fine)."""
        workers = self._workers
        total = 0
        for sid in store_ids:
            w = workers.get(sid)
            if w is not None:
                total += w.inbox.nbytes
        return total

    def report_error(self, err: ReadError) -> None:
        self._errors.append(err)  # list.append is atomic; readers only slice

    def pull_sources(self) -> list[RoutedSource]:
        """Web mode: file sources still to be pulled on the UI thread."""
        return [s for s in self._sources if s.kind == "file" and not s.finished]

    # ------------------------------------------------------------------ stores
    def worker(self, store_id: StoreId) -> IngestionWorker | None:
        return self._workers.get(store_id)

    @property
    def errors(self) -> list[ReadError]:
        """Every error so far, oldest first (append-only; do not modify)."""
        return self._errors

    @property
    def dbs(self) -> Mapping[StoreId, EntityDb]:
        """The stores (UI thread; read only)."""
        return self._dbs

    def db(self, store_id: StoreId) -> EntityDb | None:
        return self._dbs.get(store_id)

    def ensure_db(self, store_id: StoreId) -> EntityDb:
        db = self._dbs.get(store_id)
        if db is None:
            db = self._dbs[store_id] = EntityDb(store_id)
        return db

    def remove_store(self, store_id: StoreId) -> IngestionWorker | None:
        """Forget the store's worker (returned, for the caller to stop; under `lock`).
        Sources that sent to it drop their later messages for it."""
        for src in self._sources:
            if store_id in src.store_ids:
                src.ignore(store_id)
        worker = self._workers.pop(store_id, None)
        self.workers = tuple(self._workers.values())
        return worker

    def drop_db(self, store_id: StoreId, had_worker: bool) -> None:
        """Drop the store's EntityDb; the next frame reports it closed (UI thread)."""
        if self._dbs.pop(store_id, None) is not None or had_worker:
            self._closed.append(store_id)

    def take_closed(self) -> list[StoreId]:
        """Stores closed since the last call."""
        closed, self._closed = self._closed, []
        return closed

    def has_closed(self) -> bool:
        return bool(self._closed)

    # ------------------------------------------------------------------ shutdown
    def shut_down(self) -> tuple[list[IngestionWorker], list[RoutedSource]] | None:
        """Refuse new stores and sources; the workers and sources to stop (None: done
        before)."""
        with self.lock:
            if self._shut_down:
                return None
            self._shut_down = True
            return list(self._workers.values()), list(self._sources)
