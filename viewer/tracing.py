"""Chrome trace-event capture (``--profile trace.json``), near-zero cost when off.

Scopes are recorded as complete events (``"ph": "X"``) with microsecond timestamps from one
monotonic clock, so UI frames, per-store apply steps and worker decode work line up in
Perfetto / chrome://tracing. Counters (``"ph": "C"``) track queue depth and memory.

When tracing is off, ``scope()`` returns one shared no-op context manager and ``counter()``
returns at once: one attribute check per call site, so call sites never branch on
``enabled`` themselves. Arguments that cost something to build are passed as a callable:
it is called only when tracing is on, at the end of the scope, so it may also report
results of the scope's work (``lambda: {"rows": chunk.num_rows}``). Appending to a list is
atomic under the GIL, so worker threads record without a lock.

Lives at the top of the package (imports nothing from it) so that every layer may use it.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

#: Scope arguments: a dict, or a callable building it (called only while tracing).
ScopeArgs = dict[str, Any] | Callable[[], dict[str, Any]] | None
#: At most this many events are kept (~100-200 MB of JSON); then recording stops.
MAX_EVENTS = 2_000_000


class _NullScope(AbstractContextManager):
    """What `Tracer.scope` returns while tracing is off: does nothing."""

    __slots__ = ()

    def __enter__(self) -> _NullScope:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


_NULL = _NullScope()


class _Scope(AbstractContextManager):
    __slots__ = ("_tracer", "_name", "_cat", "_args", "_t0")

    def __init__(self, tracer: Tracer, name: str, cat: str, args: ScopeArgs) -> None:
        self._tracer, self._name, self._cat, self._args = tracer, name, cat, args

    def __enter__(self) -> _Scope:
        self._t0 = time.perf_counter_ns()
        return self

    def __exit__(self, *exc: object) -> None:
        t1 = time.perf_counter_ns()
        args = self._args
        if callable(args):
            args = args()
        self._tracer._complete(self._name, self._cat, self._t0, t1, args)


class Tracer:
    """Collects trace events in memory and writes them as Chrome trace JSON."""

    def __init__(self) -> None:
        self.enabled = False
        self.truncated = False
        # dicts, or (name, cat, tid, t0_ns, t1_ns, args) tuples for scopes: building the
        # JSON dict is left to events(), which keeps a traced scope at ~1-2 µs
        self._events: list[Any] = []
        self._pid = os.getpid()
        self._named_threads: set[int] = set()
        self._origin_ns = time.perf_counter_ns()
        self._last_rss_s = float("-inf")

    def start(self) -> None:
        self._events = []
        self._named_threads = set()
        self._origin_ns = time.perf_counter_ns()
        self._last_rss_s = float("-inf")
        self.truncated = False
        self.enabled = True

    def stop(self) -> None:
        self.enabled = False

    def scope(self, name: str, cat: str = "viewer", args: ScopeArgs = None) -> _NullScope | _Scope:
        """``with TRACER.scope("apply", "ui", lambda: {"store": str(s)}):`` — a no-op when
        disabled (a callable ``args`` is then never called; else at the scope's end)."""
        if not self.enabled:
            return _NULL
        return _Scope(self, name, cat, args)

    def counter(self, name: str, values: dict[str, float]) -> None:
        if not self.enabled:
            return
        self._append({"name": name, "ph": "C", "pid": self._pid, "tid": self._tid(),
                             "ts": self._us(time.perf_counter_ns()), "args": values})

    def instant(self, name: str, cat: str = "viewer", args: dict[str, Any] | None = None) -> None:
        if not self.enabled:
            return
        self._append({"name": name, "cat": cat, "ph": "i", "s": "t", "pid": self._pid,
                             "tid": self._tid(), "ts": self._us(time.perf_counter_ns()),
                             "args": args or {}})

    def queue_counters(self, workers: Iterable[Any]) -> None:
        """One counter track per store: inbox/outbox depth in messages and bytes."""
        if not self.enabled:
            return
        for w in workers:
            self.counter(f"queue {w.store_id}", {
                "inbox_msgs": len(w.inbox), "inbox_bytes": w.inbox.nbytes,
                "outbox_items": len(w.outbox), "outbox_bytes": w.outbox.nbytes})

    def sample_memory(self, min_interval_s: float = 0.25) -> None:
        """Process RSS as a counter, at most once per ``min_interval_s`` (reading it costs
        ~10 µs, too much for every frame)."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self._last_rss_s < min_interval_s:
            return
        self._last_rss_s = now
        self.counter("memory", {"rss_mb": round(_rss_bytes() / 1e6, 2)})

    def events(self) -> list[dict[str, Any]]:
        out = []
        for ev in list(self._events):
            if isinstance(ev, tuple):
                name, cat, tid, t0, t1, args = ev
                ev = {"name": name, "cat": cat, "ph": "X", "pid": self._pid, "tid": tid,
                      "ts": self._us(t0), "dur": (t1 - t0) / 1000.0}
                if args:
                    ev["args"] = args
            out.append(ev)
        return out

    def save(self, path: str | Path) -> None:
        doc = {"traceEvents": self.events(), "displayTimeUnit": "ms",
               "otherData": {"producer": "rrd-viewer", "truncated": self.truncated}}
        Path(path).write_text(json.dumps(doc))

    # -- internals -------------------------------------------------------------------------
    def _us(self, t_ns: int) -> float:
        return (t_ns - self._origin_ns) / 1000.0

    def _tid(self) -> int:
        tid = threading.get_ident()
        if tid not in self._named_threads:
            self._named_threads.add(tid)
            self._append({"name": "thread_name", "ph": "M", "pid": self._pid, "tid": tid,
                                 "args": {"name": threading.current_thread().name}})
        return tid

    def _append(self, event: Any) -> None:
        """Record one event; past `MAX_EVENTS` stop recording (a long GUI session must not
        grow without bound) and mark the trace as truncated."""
        events = self._events
        if len(events) >= MAX_EVENTS:
            if self.enabled:
                self.enabled = False
                self.truncated = True
            return
        events.append(event)

    def _complete(self, name: str, cat: str, t0: int, t1: int, args: dict[str, Any] | None) -> None:
        self._append((name, cat, self._tid(), t0, t1, args))


def _rss_bytes() -> int:
    """Resident set size now (not the peak): /proc on Linux, psutil elsewhere."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        import psutil

        return int(psutil.Process().memory_info().rss)


_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

#: The process-wide tracer. Off unless ``--profile`` is given.
TRACER = Tracer()
