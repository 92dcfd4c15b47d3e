"""`IngestionWorker`: everything heavy about one store, off the UI thread.

One worker per store (`StoreId`). Its inbox receives that store's messages in send order;
`process()` turns them into ready items (decoded and sorted chunks, store infos, blueprint
activations, errors) and appends them to its outbox. The UI thread then only applies ready
items (a few µs each).

Ordering guarantees:

- Non-chunk items and errors leave the outbox in the order their messages entered the
  inbox, after every chunk that came before them (they are barriers).
- Between two barriers, the rows of each entity leave in input order; `BatchRuns` joins the
  messages of entities taking turns into one run per entity, and a run's chunk takes the
  place of its first part, so chunks of different entities may swap (no store query sees
  it). Chunk merging only joins chunks that are *adjacent*, of the same entity. Runs are
  flushed at the end of every `process()` call, so joining never waits for more input (no
  added latency).
- A message that fails to decode becomes an error item in its place; later messages of the
  store continue.
- Merging itself is `merger.ChunkMerger`; this module only feeds it and the outbox.

`process()` never blocks: it stops when the inbox is empty, the outbox is full, its time or
message budget is spent, or the worker was aborted. The same code runs on a worker QThread
(threaded mode, see `pool.py`) and on the UI thread inside a frame budget (web mode).
"""

from __future__ import annotations

import threading
import time

from viewer.ingest.batch_runs import BatchRuns, Built, Payload
from viewer.ingest.decompress_jobs import JobBoard
from viewer.ingest.items import InboxEntry, ItemKind, ItemSource, ReadyItem
from viewer.ingest.merger import ChunkMerger
from viewer.ingest.queues import BoundedQueue
from viewer.ingest.settings import IngestSettings
from viewer.ingest.ui_gate import UiGate
from viewer.log.messages import (
    ArrowMsg,
    BlueprintActivationCommand,
    SetStoreInfo,
    StoreId,
)
from viewer.log.reader import ReadError
from viewer.store.chunk import Chunk
from viewer.tracing import TRACER

__all__ = ["IngestionWorker", "ItemKind", "ReadyItem"]

_SMALL_ITEM_BYTES = 128  # outbox bytes counted for an item that is not a chunk
# Read once: an enum member read from its class costs ~150 ns on Python 3.11
# (docs/platform-facts.md), this code runs per message.
_CHUNK = ItemKind.CHUNK


class IngestionWorker:
    def __init__(self, store_id: StoreId, settings: IngestSettings,
                 ui_gate: UiGate | None = None) -> None:
        self.store_id = store_id
        # Threaded mode: cleared while the UI thread runs its frame, so the worker pauses
        # between messages and the UI thread has the GIL to itself (see frame_driver.py).
        self.ui_gate = ui_gate
        self.inbox = BoundedQueue(settings.queue_max_messages, settings.queue_max_bytes,
                                  name=f"inbox {store_id}")
        self.outbox = BoundedQueue(settings.outbox_max_items, settings.outbox_max_bytes,
                                   name=f"outbox {store_id}")
        #: The queued big payloads a blocked source may decompress (`decompress_jobs`).
        self.decompress_jobs = JobBoard()
        self.aborted = False
        # Scheduling state, owned by the pool (guarded by the pool's lock).
        self.scheduled = False
        self.running = False
        # Counters (written by the processing thread only; read anywhere).
        self.busy_s = 0.0
        self.messages_processed = 0
        self.chunks_out = 0
        self.decode_errors = 0
        self.applied_msgs = 0  # written by the UI thread: input messages fully applied
        # Web mode merges nothing: there the concat would run on the UI thread, uninterruptible,
        # and cost more than the applies it saves (docs/benchmarks/README.md, merge suite:
        # UI ingest p99 9.4 ms without merging vs 13.9 ms with it).
        self._merger = ChunkMerger(0 if settings.web_mode else settings.merge_max_rows,
                                   settings.merge_max_bytes,
                                   trace_args={"store": str(store_id)},
                                   before_merge=self._wait_for_ui)
        # Runs of same-schema messages become one chunk before the merger sees them (one
        # build instead of a build per message plus a merge); off in web mode like merging.
        # merge_max_rows = 0 turns both off.
        self._runs = BatchRuns(*settings.run_caps(),
                               before_build=self._wait_for_ui,
                               trace_args={"store": str(store_id)})
        self._lock = threading.Lock()  # serialises process() (web mode safety net)

    @property
    def merged_chunks(self) -> int:
        """Parts that went into merged chunks so far: batches joined into run chunks plus
        chunks joined by the merger (a run chunk that is merged again counts once more)."""
        return self._runs.joined_batches + self._merger.merged_chunks

    # ------------------------------------------------------------------ state
    def can_progress(self) -> bool:
        """There is input and room to put its result."""
        return not self.aborted and len(self.inbox) > 0 and not self.outbox.is_full()

    def abort(self) -> None:
        """Stop between messages and free the queues (wakes blocked sources)."""
        self.aborted = True
        self.inbox.close()
        self.outbox.close()
        self.decompress_jobs.clear()

    # ------------------------------------------------------------------ the work
    def process(self, deadline: float, max_msgs: int = 1 << 30) -> int:
        """Process input until ``deadline`` (monotonic s) or ``max_msgs``; never blocks.

        Returns the number of input messages consumed.
        """
        if not self._lock.acquire(blocking=False):
            return 0  # someone else is processing this worker right now
        t0 = time.perf_counter()
        consumed = 0
        try:
            with TRACER.scope("process", "worker", lambda: {"store": str(self.store_id)}):
                consumed = self._process(deadline, max_msgs)
        finally:
            self.busy_s += time.perf_counter() - t0
            self.messages_processed += consumed
            self._lock.release()
        return consumed

    def _wait_for_ui(self) -> None:
        """Pause while the UI gate is closed (threaded mode; see `ui_gate.UiGate`)."""
        if self.ui_gate is not None:
            self.ui_gate.pause(lambda: self.aborted)

    def _process(self, deadline: float, max_msgs: int) -> int:
        inbox, outbox = self.inbox, self.outbox
        consumed = 0
        monotonic = time.monotonic
        while consumed < max_msgs and not self.aborted:
            self._wait_for_ui()  # the UI thread is in its frame: let it have the GIL
            if self.aborted:
                break
            if outbox.is_full():
                break
            entry: InboxEntry | None = inbox.take()
            if entry is None:
                break
            consumed += 1
            msg = entry.msg
            if isinstance(msg, ArrowMsg):
                payload = self._decode(entry, msg)
                if payload is not None:  # else the error item went out after the run before it
                    self._take_all(self._runs.add(payload))
            else:
                self._flush()
                if isinstance(msg, SetStoreInfo):
                    self._emit(ReadyItem(ItemKind.STORE_INFO, msg.info, 1, entry.t_read,
                                         entry.source))
                elif isinstance(msg, BlueprintActivationCommand):
                    self._emit(ReadyItem(ItemKind.ACTIVATION, msg, 1, entry.t_read,
                                         entry.source))
                else:
                    self._emit_error(entry, f"unknown message type {type(msg).__name__}")
            if monotonic() >= deadline:
                break
        self._flush()
        return consumed

    def _decode(self, entry: InboxEntry, msg: ArrowMsg) -> Payload | None:
        """The entry's decompressed payload, or None after emitting an error item in its
        place (reading the IPC stream waits for the run it joins)."""
        payload: Payload | None = None
        with TRACER.scope("decode", "worker", lambda: {
                "store": str(self.store_id), "bytes": msg.payload_size}):
            try:
                payload = self._runs.decode(entry, msg)
            except Exception as exc:  # ArrowDecodeError, or anything unexpected
                self._flush()  # the error takes its place in order
                self._emit_decode_error(entry, msg, exc)
        return payload

    def _flush(self) -> None:
        """End the open run and the merger's run (before anything that is not a chunk)."""
        self._take_all(self._runs.flush())
        self._emit_all(self._merger.flush())

    def _take_all(self, built: list[Built]) -> None:
        merger = self._merger
        for entry, result, n_msgs in built:
            if isinstance(result, Chunk):
                self._emit_all(merger.add(result, entry.t_read, entry.source, n_msgs))
            else:
                self._emit_all(merger.flush())  # the error takes its place in order
                msg = entry.msg
                assert isinstance(msg, ArrowMsg)
                self._emit_decode_error(entry, msg, result)

    def _emit_decode_error(self, entry: InboxEntry, msg: ArrowMsg, exc: Exception) -> None:
        what = f"chunk {msg.chunk_id}" if msg.chunk_id is not None else "chunk"
        self._emit_error(entry, f"{what}: {exc}")

    def _emit_all(self, items: list[ReadyItem]) -> None:
        for item in items:
            self._emit(item)

    def _emit(self, item: ReadyItem) -> None:
        if item.kind is _CHUNK:
            self.chunks_out += 1
            nbytes = item.payload.nbytes
        else:
            nbytes = _SMALL_ITEM_BYTES
        self.outbox.force_put(item, nbytes)

    def _emit_error(self, entry: InboxEntry, reason: str) -> None:
        self.decode_errors += 1
        source: ItemSource | None = entry.source
        name = source.name if source is not None else "?"
        err = ReadError(name, entry.offset, f"store {self.store_id}: {reason}")
        parts = entry.msg.parts if isinstance(entry.msg, ArrowMsg) else 1
        self._emit(ReadyItem(ItemKind.ERROR, err, parts, entry.t_read, source))
