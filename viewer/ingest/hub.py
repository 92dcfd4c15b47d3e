"""`IngestHub`: the one object the UI, the CLI and the network receiver talk to.

It routes every message by store id (`msg.store_id`; the blueprint id for activation
commands) to that store's `IngestionWorker`, created lazily on the store's first message,
and owns the workers, their threads and the `EntityDb`s.

Guarantees (see docs/architecture.md):

- **Per-store order**: every message kind of a store travels one FIFO (inbox -> worker ->
  outbox -> apply), so a store's messages are applied exactly in its source's send order;
  a repeated SetStoreInfo is applied in place (latest wins, none dropped) and a blueprint
  activation only after every earlier chunk of that blueprint store.
- **No order across stores**: each store has its own queues; a slow or broken store does
  not hold the others back.
- **Backpressure**: full inboxes block source threads; the UI thread never waits on a queue.
- **Closed stores**: `close_store` stops the worker, frees its queues and drops its
  EntityDb. Sources that were already open and still send to that store have those
  messages dropped and counted (`Source.dropped_messages`); a source opened later (e.g. the
  same file opened again) creates the store afresh.
- Threaded and web mode differ only inside this package; callers never branch on it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, QTimer, Signal

from viewer.ingest.changes import FrameChanges
from viewer.ingest.frame_driver import FrameDriver
from viewer.ingest.gc_tuning import (
    GcPacer,
    SwitchInterval,
    UiThreadGc,
    freeze_startup_objects,
    use_system_arrow_allocator,
)
from viewer.ingest.memory_governor import MemoryGovernor
from viewer.ingest.pool import WorkerPool
from viewer.ingest.queues import QueueClosed
from viewer.ingest.settings import IngestSettings
from viewer.ingest.sources import FileSource, Source, SourceClosed, SourceState, StreamSource
from viewer.ingest.stats import IngestStats
from viewer.ingest.ui_gate import UiGate
from viewer.ingest.worker import IngestionWorker
from viewer.log.arrow import prepare_output
from viewer.log.messages import LogMsg, StoreId, decoded_claim, message_nbytes
from viewer.log.reader import ReadError
from viewer.store.entity_db import EntityDb
from viewer.store.memory import format_bytes

__all__ = ["IngestHub", "Source", "SourceClosed", "SourceState"]


class IngestHub(QObject):
    #: One `FrameChanges` per frame in which anything changed.
    frame_applied = Signal(object)

    def __init__(self, settings: IngestSettings | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.settings = settings or IngestSettings()
        self.stats = IngestStats()
        #: Keeps stores + queues under `settings.memory_limit_bytes`; totals for the overlay.
        self.memory = MemoryGovernor(self.settings.memory_limit_bytes)
        self._lock = threading.Lock()
        self._workers: dict[StoreId, IngestionWorker] = {}
        self._workers_snapshot: tuple[IngestionWorker, ...] = ()  # copy-on-write for the UI
        self._dbs: dict[StoreId, EntityDb] = {}  # UI thread only
        self._sources: list[Source] = []  # append-only
        self._errors: list[ReadError] = []  # append-only
        self._closed_pending: list[StoreId] = []
        self._shared_pool: WorkerPool | None = None
        self._own_pools: dict[StoreId, WorkerPool] = {}
        self._shut_down = False
        self.frame_driver = FrameDriver(self, self._emit_changes)
        self._switch_interval = SwitchInterval(self.settings.gil_switch_interval_ms)
        self.gc_pacer = GcPacer(self.settings.gc_freeze_every_chunks)
        self.ui_gc = UiThreadGc()
        self._ui_gate = UiGate()  # set = background threads may run Python
        self._ui_gate.set()

    # ------------------------------------------------------------------ public API
    def start(self) -> None:
        """Start the frame timer (call on the UI thread, with a Qt application)."""
        if self._shut_down or self.frame_driver.active:
            return
        if self.settings.arrow_system_allocator:
            use_system_arrow_allocator()
        if self.settings.freeze_gc_at_start:
            freeze_startup_objects()
        if not self.settings.web_mode:
            self._switch_interval.apply()
        self.ui_gc.acquire()
        self.frame_driver.start()

    def open_file(self, path: str | Path) -> Source:
        """Read a .rrd/.rbl in the background. Bad files give a FAILED source, not an error."""
        src = FileSource(self, path)
        with self._lock:
            if self._shut_down:
                src.abort()
            self._sources.append(src)
        if not self.settings.web_mode and not src.finished:
            src.start_thread()
        return src

    def open_stream(self, name: str) -> StreamSource:
        """A push source for one live stream. Thread-safe (gRPC handler threads)."""
        src = StreamSource(self, name)
        with self._lock:
            if self._shut_down:
                src.abort()
            self._sources.append(src)
        return src

    def sources(self) -> list[Source]:
        return list(self._sources)

    def dbs(self) -> dict[StoreId, EntityDb]:
        """Stores in a deterministic order (UI thread): by the first source, in opening
        order, that sent to the store, then by that source's first message for it. Files read
        in parallel thus list their stores as if read one after the other."""
        dbs = self._dbs
        out: dict[StoreId, EntityDb] = {}
        for src in self._sources:
            for sid in list(src._stores):  # a source thread may be adding one right now
                db = dbs.get(sid)
                if db is not None and sid not in out:
                    out[sid] = db
        if len(out) != len(dbs):
            for sid, db in dbs.items():
                out.setdefault(sid, db)
        return out

    def db(self, store_id: StoreId) -> EntityDb | None:
        return self._dbs.get(store_id)

    def errors(self) -> list[ReadError]:
        return list(self._errors)

    def close_store(self, store_id: StoreId) -> None:
        """Stop and join the store's worker, free its queues, drop its EntityDb."""
        with self._lock:
            for src in self._sources:
                if store_id in src._stores:
                    src._ignored.add(store_id)
            worker = self._workers.pop(store_id, None)
            self._workers_snapshot = tuple(self._workers.values())
            own_pool = self._own_pools.pop(store_id, None)
        if worker is not None:
            if own_pool is not None:
                own_pool.detach(worker)
                own_pool.stop()
            elif self._shared_pool is not None:
                self._shared_pool.detach(worker)
            else:
                worker.abort()
        self.frame_driver.forget_store(store_id)
        if self._dbs.pop(store_id, None) is not None or worker is not None:
            self._closed_pending.append(store_id)
        del worker
        self.gc_pacer.full_collect()  # frees cycles among the store's (frozen) objects

    def hold_background(self) -> None:
        """The UI thread is about to do heavy work outside a frame tick: background threads
        pause at their next message until it has handled its pending events (threaded
        mode; the UI gate, `ui_gate.UiGate`). A no-op when the hub is not running."""
        self.frame_driver.hold_gate()

    def is_idle(self) -> bool:
        """All file sources finished, all queues empty, everything applied and reported,
        and the memory limit met (or nothing more to evict)."""
        if self.memory.busy:
            return False
        for src in self._sources:
            if src.kind == "file" and not src.finished:
                return False
        for w in self._workers_snapshot:
            if w.inbox.total_put != w.applied_msgs:
                return False
        return not self.frame_driver.has_unreported()

    def run_until_idle(self, timeout_s: float) -> bool:
        """Spin the Qt event loop until `is_idle()` or the timeout. True when idle."""
        if QCoreApplication.instance() is None:
            raise RuntimeError("run_until_idle needs a QCoreApplication (or QApplication)")
        self.start()
        if self.is_idle():
            return True
        deadline = time.monotonic() + timeout_s
        loop = QEventLoop()
        check = QTimer()
        check.setInterval(2)

        def _check() -> None:
            if self.is_idle() or time.monotonic() >= deadline:
                loop.quit()

        check.timeout.connect(_check)
        check.start()
        loop.exec()
        check.stop()
        return self.is_idle()

    def shutdown(self) -> None:
        """Abort sources, stop and join every thread. Idempotent; call on quit."""
        with self._lock:
            if self._shut_down:
                return
            self._shut_down = True
            workers = list(self._workers.values())
            sources = list(self._sources)
            pools = list(self._own_pools.values())
            if self._shared_pool is not None:
                pools.append(self._shared_pool)
        self.frame_driver.stop()
        self._ui_gate.set()
        for src in sources:
            src.abort()
        for w in workers:
            w.abort()  # closes the inboxes: blocked sources wake with SourceClosed
        for pool in pools:
            pool.stop()
        for src in sources:
            if isinstance(src, FileSource):
                src.join()
        self._switch_interval.restore()
        self.ui_gc.release()

    @property
    def is_shut_down(self) -> bool:
        return self._shut_down

    # ------------------------------------------------------------------ internals
    def _route(self, source: Source, msg: LogMsg, offset: int, t_read: float,
               *, block: bool) -> bool:
        """Put one message into its store's inbox. Called on source threads.

        Returns False only when ``block`` is False and the inbox is full (web mode).
        Raises `SourceClosed` once the hub is shut down.
        """
        store_id = msg.store_id
        worker = self._workers.get(store_id)
        if worker is None:
            with self._lock:
                if self._shut_down:
                    raise SourceClosed("the ingest hub was shut down")
                if store_id in source._ignored:
                    source.dropped_messages += 1
                    return True
                worker = self._workers.get(store_id)
                if worker is None:
                    worker = self._create_worker(store_id)
        elif store_id in source._ignored:
            source.dropped_messages += 1
            return True
        if store_id not in source._stores:
            source._stores[store_id] = None
        claim = decoded_claim(msg)
        limit = self.memory.limit_bytes
        if limit and claim > limit:
            # Never allocated: no honest chunk is bigger than all memory the viewer may use.
            err = ReadError(source.name, offset,
                            f"store {store_id}: a chunk claims {format_bytes(claim)} once "
                            f"decompressed, more than the memory limit "
                            f"({format_bytes(limit)}): skipped")
            source.errors.append(err)
            self._report_error(err)
            source.dropped_messages += 1
            return True
        # The decoded size counts in the inbox's byte bound before it is allocated.
        nbytes = message_nbytes(msg) + claim
        inbox = worker.inbox
        out = None
        if block and claim and inbox.nbytes + nbytes <= inbox.max_bytes:
            # Faulted in here, on the source thread, while the decoder works (arrow.py);
            # only when the inbox has room for it now, so a sender waiting for room holds
            # no buffer.
            out = prepare_output(msg)
        item: tuple[Any, ...] = ((msg, source, t_read, offset) if out is None
                                 else (msg, source, t_read, offset, out))
        try:
            if block:
                worker.inbox.put(item, nbytes)
            elif not worker.inbox.try_put(item, nbytes):
                return False
        except QueueClosed:
            if self._shut_down:
                raise SourceClosed("the ingest hub was shut down") from None
            source.dropped_messages += 1  # the store was closed meanwhile
            return True
        source.messages_sent += 1
        return True

    def _queued_bytes(self, store_ids: dict[StoreId, None]) -> int:
        """Bytes waiting in the inboxes of these stores (any thread; a racy sum is fine)."""
        workers = self._workers
        total = 0
        for sid in store_ids:
            w = workers.get(sid)
            if w is not None:
                total += w.inbox.nbytes
        return total

    def _create_worker(self, store_id: StoreId) -> IngestionWorker:
        """Under self._lock."""
        s = self.settings
        worker = IngestionWorker(store_id, s, None if s.web_mode else self._ui_gate)
        if not s.web_mode:
            if s.decode_threads == 0:
                pool = WorkerPool(1, name=f"ingest {store_id}")
                self._own_pools[store_id] = pool
            else:
                if self._shared_pool is None:
                    self._shared_pool = WorkerPool(s.decode_threads, name="ingest")
                pool = self._shared_pool
            pool.start()
            pool.attach(worker)
        self._workers[store_id] = worker
        self._workers_snapshot = tuple(self._workers.values())
        return worker

    def _ensure_db(self, store_id: StoreId) -> EntityDb:
        db = self._dbs.get(store_id)
        if db is None:
            db = self._dbs[store_id] = EntityDb(store_id)
        return db

    def _report_error(self, err: ReadError) -> None:
        self._errors.append(err)  # list.append is atomic; readers only slice

    def _pull_sources(self) -> list[FileSource]:
        """Web mode: file sources still to be pulled on the UI thread."""
        return [s for s in self._sources if isinstance(s, FileSource) and not s.finished]

    def _take_closed(self) -> list[StoreId]:
        closed, self._closed_pending = self._closed_pending, []
        return closed

    def _emit_changes(self, changes: FrameChanges) -> None:
        self.frame_applied.emit(changes)
