"""`WorkerPool`: N QThreads that take turns processing workers with pending input.

A worker is served by at most one thread at a time (its per-store order holds), workers
are served round-robin (a ready queue), and a thread processes a bounded slice (a few ms or
K messages) before it puts the worker back at the end of the line, so one busy store
cannot starve the others. `decode_threads = 0` gives every store a private pool of one
thread; `decode_threads = N` shares one pool of N threads between all stores.

Threads never block while holding a lock the UI thread needs: the pool lock guards only
the ready queue and the per-worker scheduled/running flags.
"""

from __future__ import annotations

import contextlib
import threading
import time
import traceback
from collections import deque

from PySide6.QtCore import QThread

from viewer.ingest import thread_registry
from viewer.ingest.worker import IngestionWorker

SLICE_S = 0.005  # a thread serves one worker for at most ~5 ms ...
SLICE_MSGS = 256  # ... or this many messages, then moves on


class WorkerPool:
    def __init__(self, n_threads: int, name: str = "ingest") -> None:
        if n_threads < 1:
            raise ValueError("a pool needs at least one thread")
        self.name = name
        self.n_threads = n_threads
        self._cond = threading.Condition(threading.Lock())
        self._ready: deque[IngestionWorker] = deque()
        self._stopping = False
        self._threads: list[QThread] = []

    def start(self) -> None:
        with self._cond:
            if self._threads or self._stopping:
                return
            self._threads = [thread_registry.BackgroundThread(self._serve, f"{self.name}-{i}")
                             for i in range(self.n_threads)]
        for t in self._threads:
            thread_registry.register(t)
            t.start()

    # ------------------------------------------------------------------ scheduling
    def attach(self, worker: IngestionWorker) -> None:
        """Wake the pool whenever the worker gets input or its outbox gets room."""
        worker.inbox.on_put = lambda: self.notify(worker)
        worker.outbox.on_take = lambda: self.notify(worker)
        self.notify(worker)

    def notify(self, worker: IngestionWorker) -> None:
        """Cheap and callable from any thread (sources, UI)."""
        with self._cond:
            if worker.scheduled or worker.aborted or self._stopping:
                return
            if not worker.can_progress():
                return
            worker.scheduled = True
            self._ready.append(worker)
            self._cond.notify()

    def detach(self, worker: IngestionWorker) -> None:
        """Abort the worker and wait until no thread is processing it (≤ one message)."""
        worker.inbox.on_put = None
        worker.outbox.on_take = None
        with self._cond:
            worker.aborted = True
            with contextlib.suppress(ValueError):
                self._ready.remove(worker)
            worker.scheduled = False
            while worker.running:
                self._cond.wait(0.05)
        worker.abort()

    def _serve(self) -> None:
        cond = self._cond
        while True:
            with cond:
                while not self._ready and not self._stopping:
                    cond.wait()
                if self._stopping:
                    return
                worker = self._ready.popleft()
                worker.running = True
            try:
                worker.process(time.monotonic() + SLICE_S, SLICE_MSGS)
            except Exception:  # a bug must not kill the thread that serves every store
                traceback.print_exc()
            finally:
                with cond:
                    worker.running = False
                    if not self._stopping and worker.can_progress():
                        self._ready.append(worker)  # back of the line: round robin
                        cond.notify()
                    else:
                        worker.scheduled = False
                    cond.notify_all()  # a detach() may be waiting for this worker

    # ------------------------------------------------------------------ lifecycle
    def stop(self) -> None:
        """Stop every thread after its current slice and join them. Idempotent."""
        with self._cond:
            self._stopping = True
            self._ready.clear()
            self._cond.notify_all()
        for t in self._threads:
            t.wait()
        self._threads = []

    @property
    def threads(self) -> list[QThread]:
        return list(self._threads)
