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

What the hub shares with its frame driver and sources is one `IngestState` (`state.py`);
the hub itself owns the threads (worker pools, reader threads) and the process tweaks tied
to a running hub (`gc_tuning`). Process-wide settings are not the hub's: entry points apply
them once (`viewer.runtime.apply_process_settings`) before they start a hub.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, QTimer, Signal

from viewer.ingest.changes import FrameChanges
from viewer.ingest.decode_process import helper_available
from viewer.ingest.frame_budget import FrameBudget
from viewer.ingest.frame_driver import FrameDriver, frame_budget_for
from viewer.ingest.gc_tuning import GcPacer, SwitchInterval, UiThreadGc
from viewer.ingest.helper_source import HelperFileSource
from viewer.ingest.memory_governor import MemoryGovernor
from viewer.ingest.pool import WorkerPool
from viewer.ingest.settings import IngestSettings
from viewer.ingest.sources import FileSource, Source, SourceClosed, SourceState, StreamSource
from viewer.ingest.state import IngestState
from viewer.ingest.stats import IngestStats
from viewer.ingest.worker import IngestionWorker
from viewer.log import helper_launch
from viewer.log.inputs import STDIN
from viewer.log.messages import StoreId
from viewer.log.reader import ReadError
from viewer.store.entity_db import EntityDb

__all__ = ["IngestHub", "Source", "SourceClosed", "SourceState"]

#: A file's mapped pages are released this far behind the reader at most (the inbox bound
#: plus this slack); the reader narrows it to what is really queued.
_RELEASE_SLACK = 4 << 20


class IngestHub(QObject):
    #: One `FrameChanges` per frame in which anything changed.
    frame_applied = Signal(object)

    def __init__(self, settings: IngestSettings | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.settings = settings or IngestSettings()
        #: Keeps stores + queues under `settings.memory_limit_bytes`; totals for the overlay.
        self.memory = MemoryGovernor(self.settings.memory_limit_bytes)
        #: Workers, stores, sources and errors, shared with the frame driver and sources.
        self.state = IngestState(self._create_worker, self.memory.limit_bytes)
        self._shared_pool: WorkerPool | None = None
        self._own_pools: dict[StoreId, WorkerPool] = {}
        self._switch_interval = SwitchInterval(self.settings.gil_switch_interval_ms)
        self.gc_pacer = GcPacer(self.settings.gc_freeze_every_chunks)
        self.ui_gc = UiThreadGc()
        #: One frame's UI-thread time: in web mode shared by ingestion and the views, which
        #: ask it how long a redraw may work (`FrameBudget.redraw_allowance_s`).
        self.frame_budget: FrameBudget = frame_budget_for(self.settings)
        self.frame_driver = FrameDriver(self.state, self.settings, IngestStats(), self.memory,
                                        self.gc_pacer, self.ui_gc, self._emit_changes, self,
                                        budget=self.frame_budget)
        self._stopped = False

    # ------------------------------------------------------------------ public API
    @property
    def stats(self) -> IngestStats:
        """Frame, apply and queue measurements (a benchmark may set a bigger one)."""
        return self.frame_driver.stats

    @stats.setter
    def stats(self, stats: IngestStats) -> None:
        self.frame_driver.stats = stats

    def start(self) -> None:
        """Start the frame timer (call on the UI thread, with a Qt application)."""
        if self._stopped or self.frame_driver.active:
            return
        if not self.settings.web_mode:
            self._switch_interval.apply()
        self.ui_gc.acquire()
        self.frame_driver.start()

    def open_file(self, path: str | Path) -> Source:
        """Read a .rrd/.rbl in the background. Bad files give a FAILED source, not an error."""
        behind = self.settings.queue_max_bytes + _RELEASE_SLACK
        if not self.settings.web_mode and _wants_helper(path, self.settings):
            src: FileSource = HelperFileSource(self.state, path, behind,
                                               self.settings.run_caps())
        else:
            src = FileSource(self.state, path, behind)
        if not self.state.add_source(src):
            src.abort()
        if not self.settings.web_mode and not src.finished:
            src.start_thread()
        return src

    def open_stream(self, name: str) -> StreamSource:
        """A push source for one live stream. Thread-safe (gRPC handler threads)."""
        src = StreamSource(self.state, name)
        if not self.state.add_source(src):
            src.abort()
        return src

    def sources(self) -> list[Source]:
        return self.state.sources  # type: ignore[return-value]  # all are `Source`s

    def dbs(self) -> dict[StoreId, EntityDb]:
        """Stores in a deterministic order (UI thread): by the first source, in opening
        order, that sent to the store, then by that source's first message for it. Files read
        in parallel thus list their stores as if read one after the other."""
        dbs = self.state.dbs
        out: dict[StoreId, EntityDb] = {}
        for src in self.state.sources:
            for sid in src.store_ids:  # a copy: a source thread may be adding one right now
                db = dbs.get(sid)
                if db is not None and sid not in out:
                    out[sid] = db
        if len(out) != len(dbs):
            for sid, db in dbs.items():
                out.setdefault(sid, db)
        return out

    def db(self, store_id: StoreId) -> EntityDb | None:
        return self.state.db(store_id)

    def errors(self) -> list[ReadError]:
        return list(self.state.errors)

    def close_store(self, store_id: StoreId) -> None:
        """Stop and join the store's worker, free its queues, drop its EntityDb."""
        with self.state.lock:
            worker = self.state.remove_store(store_id)
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
        self.state.drop_db(store_id, had_worker=worker is not None)
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
        for src in self.state.sources:
            if src.kind == "file" and not src.finished:
                return False
        for w in self.state.workers:
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
        stopping = self.state.shut_down()
        if stopping is None:
            return
        workers, sources = stopping
        self._stopped = True
        with self.state.lock:
            pools = list(self._own_pools.values())
            if self._shared_pool is not None:
                pools.append(self._shared_pool)
        self.frame_driver.stop()
        self.state.ui_gate.set()
        for src in sources:
            src.abort()
        for w in workers:
            w.abort()  # closes the inboxes: blocked sources wake with SourceClosed
        for pool in pools:
            pool.stop()
        for src in sources:
            if isinstance(src, FileSource):
                src.join()
        helper_launch.discard_spare()  # started for a file that did not want it
        self._switch_interval.restore()
        self.ui_gc.release()

    # ------------------------------------------------------------------ internals
    def _create_worker(self, store_id: StoreId) -> IngestionWorker:
        """A new store's worker, attached to its pool (threaded mode). Called by
        `IngestState.route` under the state's lock."""
        s = self.settings
        worker = IngestionWorker(store_id, s, None if s.web_mode else self.state.ui_gate)
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
        return worker

    def _emit_changes(self, changes: FrameChanges) -> None:
        self.frame_applied.emit(changes)


def _wants_helper(path: str | Path, settings: IngestSettings) -> bool:
    """A regular file big enough for the decode helper to pay for its start-up."""
    return (str(path) != STDIN and helper_launch.wants_helper(path, settings.decode_helper_min_bytes)
            and helper_available())
