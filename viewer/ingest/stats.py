"""`IngestStats`: cheap, always-on measurements of the ingestion pipeline.

Fixed-size ring buffers (the last ~10 s at 60 Hz by default), so collecting costs a numpy
item store per sample and memory stays constant. `snapshot()` turns them into p50/p99/max
for the overlay and the benchmarks.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from viewer.ingest.worker import IngestionWorker


class Ring:
    """The last ``size`` float samples."""

    __slots__ = ("_buf", "_i", "_n", "total")

    def __init__(self, size: int) -> None:
        self._buf = np.zeros(max(1, size), dtype=np.float64)
        self._i = 0
        self._n = 0
        self.total = 0  # samples ever added

    def add(self, value: float) -> None:
        buf = self._buf
        buf[self._i] = value
        self._i = (self._i + 1) % len(buf)
        if self._n < len(buf):
            self._n += 1
        self.total += 1

    def values(self) -> np.ndarray:
        return self._buf[: self._n] if self._n < len(self._buf) else self._buf

    def summary(self) -> dict[str, float]:
        v = self.values()
        if len(v) == 0:
            return {"p50": 0.0, "p99": 0.0, "max": 0.0, "n": 0}
        p50, p99 = _percentiles(v, (50.0, 99.0))
        return {"p50": float(p50), "p99": float(p99), "max": float(v.max()), "n": int(len(v))}

    def clear(self) -> None:
        self._i = 0
        self._n = 0


def _percentiles(values: np.ndarray, qs: tuple[float, ...]) -> list[float]:
    """`np.percentile` (linear method) without its import of numpy.ma, which costs
    ~12 ms of every `viewer ingest` start-up (docs/benchmarks/chunk-cost.md)."""
    s = np.sort(values)
    last = len(s) - 1
    out = []
    for q in qs:
        pos = q / 100.0 * last
        lo = int(pos)
        hi = min(lo + 1, last)
        out.append(float(s[lo] + (s[hi] - s[lo]) * (pos - lo)))
    return out


class IngestStats:
    """Series in milliseconds; per-store rows computed from the workers at snapshot time."""

    def __init__(self, window_frames: int = 600, window_samples: int = 8192) -> None:
        self.frame_interval_ms = Ring(window_frames)
        self.ui_ingest_ms = Ring(window_frames)  # all ingest work on the UI thread per frame
        # the same on the UI thread's CPU clock: wall minus this = preempted / waiting for
        # the GIL or a core (tells a budget overshoot from a busy machine)
        self.ui_ingest_cpu_ms = Ring(window_frames)
        self.apply_ms = Ring(window_frames)  # of which: applying ready items
        self.web_work_ms = Ring(window_frames)  # of which (web mode): reading + decoding
        self.latency_ms = Ring(window_samples)  # read/receive -> applied, per item
        self.queue_bytes = Ring(window_frames)  # inboxes + outboxes, sampled per frame
        self.peak_queue_bytes = 0
        self.messages_applied = 0
        self.rows_applied = 0
        self.chunks_applied = 0
        self.frames = 0
        self._busy_prev: dict[int, tuple[float, float]] = {}
        self._workers: tuple[IngestionWorker, ...] = ()

    def reset(self) -> None:
        """Forget the series (not the totals), e.g. to measure one phase of a benchmark."""
        for ring in (self.frame_interval_ms, self.ui_ingest_ms, self.ui_ingest_cpu_ms, self.apply_ms,
                     self.web_work_ms, self.latency_ms, self.queue_bytes):
            ring.clear()
        self.peak_queue_bytes = 0

    def sample_queues(self, workers: tuple[IngestionWorker, ...]) -> None:
        self._workers = workers
        total = 0
        for w in workers:
            total += w.inbox.nbytes + w.outbox.nbytes
        self.queue_bytes.add(total)
        if total > self.peak_queue_bytes:
            self.peak_queue_bytes = total

    def snapshot(self) -> dict[str, Any]:
        now = time.perf_counter()
        stores = []
        for w in self._workers:
            prev_t, prev_busy = self._busy_prev.get(id(w), (now, w.busy_s))
            dt = now - prev_t
            busy = (w.busy_s - prev_busy) / dt if dt > 0 else 0.0
            self._busy_prev[id(w)] = (now, w.busy_s)
            stores.append({
                "store": str(w.store_id),
                "inbox_messages": len(w.inbox),
                "inbox_bytes": w.inbox.nbytes,
                "outbox_items": len(w.outbox),
                "outbox_bytes": w.outbox.nbytes,
                "peak_inbox_bytes": w.inbox.peak_bytes,
                "busy_fraction": min(1.0, max(0.0, busy)),
                "messages_processed": w.messages_processed,
                "chunks_out": w.chunks_out,
                "merged_chunks": w.merged_chunks,
                "decode_errors": w.decode_errors,
            })
        return {
            "frame_interval_ms": self.frame_interval_ms.summary(),
            "ui_ingest_ms": self.ui_ingest_ms.summary(),
            "ui_ingest_cpu_ms": self.ui_ingest_cpu_ms.summary(),
            "apply_ms": self.apply_ms.summary(),
            "web_work_ms": self.web_work_ms.summary(),
            "latency_ms": self.latency_ms.summary(),
            "queue_bytes": self.queue_bytes.summary(),
            "peak_queue_bytes": self.peak_queue_bytes,
            "messages_applied": self.messages_applied,
            "rows_applied": self.rows_applied,
            "chunks_applied": self.chunks_applied,
            "frames": self.frames,
            "stores": stores,
        }
