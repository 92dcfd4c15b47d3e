"""Sources feed messages into the hub: files (read on their own thread, or pulled on the UI
thread in web mode) and push streams (gRPC handler threads call `submit`).

A source routes every message to its store's inbox in the order it read/received them, so
per-store order equals send order. A full inbox blocks a threaded source (backpressure);
in web mode a file source just stops pulling for this frame and keeps the message it holds.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from PySide6.QtCore import QThread

from viewer.ingest import thread_registry
from viewer.ingest.state import IngestState, SourceClosed
from viewer.log.inputs import STDIN
from viewer.log.messages import LogMsg, StoreId, message_nbytes
from viewer.log.reader import ReadError, RrdReader
from viewer.tracing import TRACER

__all__ = ["FileSource", "Source", "SourceClosed", "SourceState", "StreamSource"]

#: Added to the queued bytes (and the largest message so far, which may be the one being
#: decoded) to get the release distance.
_RELEASE_SLACK = 2 << 20


class SourceState(enum.Enum):
    LOADING = "loading"  # a file being read
    LIVE = "live"  # a stream open and receiving
    DONE = "done"  # read / finished (errors, if any, are in `errors`)
    FAILED = "failed"  # nothing usable: missing, unreadable, not an .rrd, or finished with error
    CLOSED = "closed"  # aborted (hub shut down)


class Source:
    """What the UI shows per opened file or stream. Counters are written by the source's
    own thread and read anywhere (plain attribute reads). It talks to the hub only through
    the `IngestState` it was given."""

    kind = "?"

    def __init__(self, state: IngestState, name: str) -> None:
        self._state = state
        self.name = name
        self.state = SourceState.LOADING
        self.bytes_read = 0
        self.total_bytes = 0
        self.errors: list[ReadError] = []
        self._stores: dict[StoreId, None] = {}  # insertion-ordered set
        self._ignored: set[StoreId] = set()  # stores closed while this source was open
        self.messages_sent = 0
        self.dropped_messages = 0  # sent to a store that was closed meanwhile

    @property
    def store_ids(self) -> list[StoreId]:
        return list(self._stores)

    def sends_to(self, store_id: StoreId) -> None:
        """Routing saw a message of this source for the store (first one: remembered)."""
        if store_id not in self._stores:
            self._stores[store_id] = None

    def ignores(self, store_id: StoreId) -> bool:
        """The store was closed while this source was open: drop its messages."""
        return store_id in self._ignored

    def ignore(self, store_id: StoreId) -> None:
        self._ignored.add(store_id)

    @property
    def finished(self) -> bool:
        return self.state not in (SourceState.LOADING, SourceState.LIVE)

    def _set_state(self, state: SourceState) -> None:
        if self.finished:
            return  # terminal states stay
        self.state = state

    def abort(self) -> None:
        """Stop sending (hub shutdown). Overridden by sources with a thread."""
        self._set_state(SourceState.CLOSED)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} {self.state.value}>"


class FileSource(Source):
    kind = "file"

    def __init__(self, state: IngestState, path: str | Path, release_behind: int) -> None:
        # "-" is standard input (viewer/log/inputs.py): named so in panels and errors
        super().__init__(state, "standard input" if str(path) == STDIN else str(path))
        self.path = Path(path)
        self._reader: RrdReader | None = None
        self._entries: Iterator[tuple[int, LogMsg]] | None = None
        self._pending: tuple[int, LogMsg, float] | None = None  # web mode: inbox was full
        self._errors_seen = 0
        self._errors_before = -1  # reader errors at or before this offset were reported
        self._thread: QThread | None = None
        self._aborted = False
        if self.path.is_dir():
            self._fail(f"is a folder, not an .rrd file: {self.path}")
            return
        # release mapped pages once the worker is surely past them (``release_behind``: the
        # inbox bound + slack), so RSS stays bounded while reading a file larger than the
        # memory limit; the reader thread narrows the distance to what is really queued
        # (`_read_all`)
        reader = RrdReader(self.path, release_behind=release_behind)
        self.total_bytes = reader.total_bytes
        self._reader = reader
        self._entries = reader.entries()
        if reader.errors:  # could not open
            self._sync_reader()
            self._finish()

    def _fail(self, message: str) -> None:
        err = ReadError(self.name, 0, message)
        self.errors.append(err)
        self._state.report_error(err)
        self._set_state(SourceState.FAILED)

    # -- threaded ------------------------------------------------------------------------
    def start_thread(self) -> None:
        if self.finished:
            return
        self._thread = thread_registry.start_background(self._read_all,
                                                        f"read {self.path.name}")

    def _read_all(self) -> None:
        """Reader thread: route every message, blocking on full inboxes."""
        try:
            assert self._entries is not None
            state = self._state
            gate = state.ui_gate
            entries = self._entries
            reader = self._reader
            queued_bytes = state.queued_bytes
            stores = self._stores
            largest = 0
            if TRACER.enabled:  # --profile: wraps the iterator once, not a per-call fork
                entries = _traced_reads(entries, self.path.name)
            for offset, msg in entries:
                if self._aborted:
                    break
                gate.pause(lambda: self._aborted)  # the UI thread is in its frame
                self._sync_reader()
                try:
                    state.route(self, msg, offset, time.monotonic(), block=True)
                except SourceClosed:
                    break
                if reader is not None:
                    # the decoders are no further behind than what this source's stores
                    # still have queued (+ the message each one is decoding): pages before
                    # that are done with. Fewer resident file pages (docs/benchmarks/
                    # vs-rerun.md notes); a misjudged page is only read again from the cache.
                    size = message_nbytes(msg)
                    if size > largest:
                        largest = size
                    reader.release_behind = queued_bytes(stores) + largest + _RELEASE_SLACK
            self._sync_reader()
        except Exception as exc:  # never let a reader bug kill the process silently
            self._fail(f"reading stopped: {type(exc).__name__}: {exc}")
        self._finish()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.wait()

    # -- web mode ------------------------------------------------------------------------
    def pump(self, deadline: float) -> int:
        """Route messages until ``deadline`` or a full inbox; never blocks. Returns how many."""
        n = 0
        with TRACER.scope("read slice", "source", lambda: {"file": self.path.name,
                                                          "messages": n}):
            n = self._pump(deadline)
        return n

    def _pump(self, deadline: float) -> int:
        if self.finished or self._entries is None:
            return 0
        n = 0
        monotonic = time.monotonic
        try:
            while True:
                if self._pending is not None:
                    offset, msg, t_read = self._pending
                else:
                    try:
                        offset, msg = next(self._entries)
                    except StopIteration:
                        self._sync_reader()
                        self._finish()
                        return n
                    t_read = monotonic()
                if not self._state.route(self, msg, offset, t_read, block=False):
                    self._pending = (offset, msg, t_read)  # inbox full: stop for this frame
                    return n
                self._pending = None
                n += 1
                if (n & 7) == 0:
                    self._sync_reader()
                    if monotonic() >= deadline:
                        return n
        except SourceClosed:
            self._finish()
        return n

    # -- shared --------------------------------------------------------------------------
    def _sync_reader(self) -> None:
        reader = self._reader
        if reader is None:
            return
        self.bytes_read = reader.bytes_read
        errors = reader.errors
        while self._errors_seen < len(errors):
            err = errors[self._errors_seen]
            self._errors_seen += 1
            if err.offset <= self._errors_before:
                continue
            self.errors.append(err)
            self._state.report_error(err)

    def _finish(self) -> None:
        if self._aborted:
            self._set_state(SourceState.CLOSED)
        elif self.messages_sent == 0 and self.errors:
            self._set_state(SourceState.FAILED)
        else:
            self._set_state(SourceState.DONE)
        self._entries = None
        self._pending = None
        if self._reader is not None:
            # (a helper may have read the file instead: the larger count holds)
            self.bytes_read = max(self.bytes_read, self._reader.bytes_read)
            self._reader.close()  # payloads already routed keep the map alive
            self._reader = None

    def abort(self) -> None:
        self._aborted = True
        if self._thread is None:  # web mode or never started: finish right here
            self._finish()


def _traced_reads(entries: Iterator[tuple[int, LogMsg]],
                  name: str) -> Iterator[tuple[int, LogMsg]]:
    """--profile: each message read from the file in its own "read" scope; the gaps between
    them on the reader thread are routing, i.e. waiting on full inboxes or the UI gate."""
    args = {"file": name}
    while True:
        with TRACER.scope("read", "source", args):
            try:
                entry = next(entries)
            except StopIteration:
                return
        yield entry


class StreamSource(Source):
    """A push source (one gRPC call): `submit` from any thread, then `finish`."""

    kind = "stream"

    def __init__(self, state: IngestState, name: str) -> None:
        super().__init__(state, name)
        self.state = SourceState.LIVE
        self._submit_lock = threading.Lock()  # keeps order if several threads submit

    def submit(self, msg: LogMsg) -> None:
        """Route one message; blocks while the store's inbox is full (backpressure).

        Raises `SourceClosed` once the hub is shut down or this source was finished.
        Messages for a store that the user closed are dropped and counted.
        """
        if self.finished:
            raise SourceClosed(f"{self.name} is {self.state.value}")
        with self._submit_lock:
            self._state.route(self, msg, -1, time.monotonic(), block=True)

    def finish(self, error: str | None = None) -> None:
        """The stream ended (cleanly, or with ``error``)."""
        if self.finished:
            return
        if error:
            err = ReadError(self.name, -1, error)
            self.errors.append(err)
            self._state.report_error(err)
            self._set_state(SourceState.FAILED)
        else:
            self._set_state(SourceState.DONE)
