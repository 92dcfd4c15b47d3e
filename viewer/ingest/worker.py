"""`IngestionWorker`: everything heavy about one store, off the UI thread.

One worker per store (`StoreId`). Its inbox receives that store's messages in send order;
`process()` turns them into ready items (decoded and sorted chunks, store infos, blueprint
activations, errors) and appends them to its outbox **in input order**. The UI thread then
only applies ready items (a few µs each).

Ordering guarantees:

- Items leave the outbox in the order their messages entered the inbox.
- Chunk merging only joins chunks that are *adjacent* in the inbox, of the same entity, and
  never across a non-chunk message or an error; the merged chunk takes the place of its first
  part. A run is flushed at the end of every `process()` call, so merging never waits for
  more input (no added latency).
- A message that fails to decode becomes an error item in its place; later messages of the
  store continue.

`process()` never blocks: it stops when the inbox is empty, the outbox is full, its time or
message budget is spent, or the worker was aborted. The same code runs on a worker QThread
(threaded mode, see `pool.py`) and on the UI thread inside a frame budget (web mode).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
from viewer.store.decode import chunk_from_msg
from viewer.tracing import TRACER

if TYPE_CHECKING:
    from viewer.ingest.sources import Source

# Ready item kinds (ints: compared on the UI thread for every item).
CHUNK, STORE_INFO, ACTIVATION, ERROR = 0, 1, 2, 3

_SMALL_ITEM_BYTES = 128


@dataclass(slots=True)
class ReadyItem:
    """One result in the outbox. ``n_msgs`` input messages stand behind it (merged chunks)."""

    kind: int
    payload: Any  # Chunk | StoreInfo | BlueprintActivationCommand | ReadError
    n_msgs: int
    t_read: float  # monotonic time the (first) source message was read or received
    source: Source | None = None


class IngestionWorker:
    def __init__(self, store_id: StoreId, settings: IngestSettings,
                 ui_gate: UiGate | None = None) -> None:
        self.store_id = store_id
        self.settings = settings
        # Threaded mode: cleared while the UI thread runs its frame, so the worker pauses
        # between messages and the UI thread has the GIL to itself (see frame_driver.py).
        self.ui_gate = ui_gate
        self.inbox = BoundedQueue(settings.queue_max_messages, settings.queue_max_bytes,
                                  name=f"inbox {store_id}")
        self.outbox = BoundedQueue(settings.outbox_max_items, settings.outbox_max_bytes,
                                   name=f"outbox {store_id}")
        self.aborted = False
        # Scheduling state, owned by the pool (guarded by the pool's lock).
        self.scheduled = False
        self.running = False
        # Counters (written by the processing thread only; read anywhere).
        self.busy_s = 0.0
        self.messages_processed = 0
        self.chunks_out = 0
        self.merged_chunks = 0
        self.decode_errors = 0
        self.applied_msgs = 0  # written by the UI thread: input messages fully applied
        self._lock = threading.Lock()  # serialises process() (web mode safety net)

    # ------------------------------------------------------------------ state
    def can_progress(self) -> bool:
        """There is input and room to put its result."""
        return not self.aborted and len(self.inbox) > 0 and not self.outbox.is_full()

    def abort(self) -> None:
        """Stop between messages and free the queues (wakes blocked sources)."""
        self.aborted = True
        self.inbox.close()
        self.outbox.close()

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
            if TRACER.enabled:  # checked once per call: the untraced path stays as it was
                with TRACER.scope("process", "worker", {"store": str(self.store_id)}):
                    consumed = self._process(deadline, max_msgs, traced=True)
            else:
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

    def _process(self, deadline: float, max_msgs: int, traced: bool = False) -> int:
        inbox, outbox = self.inbox, self.outbox
        # Web mode merges nothing: there the concat would run on the UI thread, uninterruptible,
        # and cost more than the applies it saves (docs/benchmarks/README.md, merge suite:
        # UI ingest p99 9.4 ms without merging vs 13.9 ms with it).
        merge_max = 0 if self.settings.web_mode else self.settings.merge_max_rows
        merge_max_bytes = self.settings.merge_max_bytes
        run: list[Any] = []  # adjacent small chunks of one entity awaiting a merge
        run_rows = 0
        run_bytes = 0
        run_t = 0.0
        run_src: Source | None = None
        consumed = 0
        monotonic = time.monotonic

        def flush() -> None:
            nonlocal run, run_rows, run_bytes
            if not run:
                return
            if len(run) == 1:
                self._emit(ReadyItem(CHUNK, run[0], 1, run_t, run_src), run[0].nbytes)
            else:
                self._wait_for_ui()  # a merge is the longest step: not during a UI frame
                try:
                    if traced:
                        with TRACER.scope("merge", "worker", {"store": str(self.store_id),
                                                              "chunks": len(run)}):
                            merged = Chunk.concat(run)
                    else:
                        merged = Chunk.concat(run)
                except Exception:  # merging is an optimisation: fall back to the parts
                    for c in run:
                        self._emit(ReadyItem(CHUNK, c, 1, run_t, run_src), c.nbytes)
                else:
                    self.merged_chunks += len(run)
                    self._emit(ReadyItem(CHUNK, merged, len(run), run_t, run_src), merged.nbytes)
            run = []
            run_rows = 0
            run_bytes = 0

        while consumed < max_msgs and not self.aborted:
            self._wait_for_ui()  # the UI thread is in its frame: let it have the GIL
            if self.aborted:
                break
            if outbox.is_full():
                break
            entry = inbox.take()
            if entry is None:
                break
            consumed += 1
            msg, source, t_read, offset = entry[:4]
            if isinstance(msg, ArrowMsg):
                out = entry[4] if len(entry) > 4 else None  # hub._route: prepare_output
                if traced:
                    chunk = self._decode_traced(msg, source, t_read, offset, out)
                else:
                    chunk = self._decode(msg, source, t_read, offset, out)
                if chunk is None:
                    flush()
                    continue
                rows = chunk.num_rows
                nbytes = chunk.nbytes
                # Only small chunks are merged: merging copies, and for big chunks (images,
                # large point clouds) the per-chunk apply cost is already negligible.
                if merge_max and rows < merge_max and nbytes < merge_max_bytes:
                    if run and (run_rows + rows > merge_max or run_bytes + nbytes > merge_max_bytes
                                or run_src is not source or not Chunk.can_concat(run[0], chunk)):
                        flush()
                    if not run:
                        run_t, run_src = t_read, source
                    run.append(chunk)
                    run_rows += rows
                    run_bytes += nbytes
                    if run_rows >= merge_max:
                        flush()
                else:
                    flush()
                    self._emit(ReadyItem(CHUNK, chunk, 1, t_read, source), chunk.nbytes)
            else:
                flush()
                if isinstance(msg, SetStoreInfo):
                    self._emit(ReadyItem(STORE_INFO, msg.info, 1, t_read, source),
                               _SMALL_ITEM_BYTES)
                elif isinstance(msg, BlueprintActivationCommand):
                    self._emit(ReadyItem(ACTIVATION, msg, 1, t_read, source), _SMALL_ITEM_BYTES)
                else:
                    self._emit_error(source, t_read, offset,
                                     f"unknown message type {type(msg).__name__}")
            if monotonic() >= deadline:
                break
        flush()
        return consumed

    def _decode(self, msg: ArrowMsg, source: Source | None, t_read: float, offset: int,
                out: Any = None) -> Any:
        try:
            return chunk_from_msg(msg, out)
        except Exception as exc:  # ArrowDecodeError, ChunkError, or anything unexpected
            what = f"chunk {msg.chunk_id}" if msg.chunk_id is not None else "chunk"
            self._emit_error(source, t_read, offset, f"{what}: {exc}")
            return None

    def _decode_traced(self, msg: ArrowMsg, source: Source | None, t_read: float,
                       offset: int, out: Any = None) -> Any:
        """`_decode` inside a "decode" scope (store, payload bytes, rows) for --profile."""
        args: dict[str, Any] = {"store": str(self.store_id), "bytes": msg.payload_size}
        with TRACER.scope("decode", "worker", args):
            chunk = self._decode(msg, source, t_read, offset, out)
            args["rows"] = chunk.num_rows if chunk is not None else 0
        return chunk

    def _emit(self, item: ReadyItem, nbytes: int) -> None:
        if item.kind == CHUNK:
            self.chunks_out += 1
        self.outbox.force_put(item, nbytes)

    def _emit_error(self, source: Source | None, t_read: float, offset: int, reason: str) -> None:
        self.decode_errors += 1
        name = source.name if source is not None else "?"
        err = ReadError(name, offset, f"store {self.store_id}: {reason}")
        self._emit(ReadyItem(ERROR, err, 1, t_read, source), _SMALL_ITEM_BYTES)
