"""Tunables of the ingestion pipeline.

Each default is justified in ``docs/benchmarks/README.md`` (numbers from
``scripts/bench_ingestion.py``, ``docs/benchmarks/ingestion.md``); the comment next to each
says which measurement decided it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from viewer.log.helper_launch import DEFAULT_MIN_BYTES

#: ``--decode-helper`` choices -> `IngestSettings.decode_helper_min_bytes` (auto: the default).
DECODE_HELPER_CHOICES = {"on": 0, "off": None}


@dataclass(frozen=True, slots=True)
class IngestSettings:
    # Web mode: no threads at all; the frame timer does pulling, decoding and applying
    # inside per-frame budgets (what a browser build would have to do).
    web_mode: bool = False
    # Inbox bound (per store) by count. bench_ingestion.py: rows/s shows no consistent
    # effect of capacity 100..10 000, latency p99 grows with it (100-row messages, 1 store:
    # 37 / 93 / 179 ms at 100 / 500 / 1 000; 10 stores: 0.3 / 1.3 / 2.0 s) and so does frame
    # max with 10 stores (22 / 24 / 30 ms). 500, not 100: one of four throughput checks
    # (rerun-sdk file, idle UI) lost 20 % at 100; none lost at 500 (README).
    queue_max_messages: int = 500
    # Inbox bound by bytes (per store): 500 image chunks can be gigabytes, so count alone
    # says nothing about memory. bench_ingestion.py "bytes" (1.2 MB messages): 16 MiB keeps
    # full throughput (4 MiB loses ~15 %), latency p99 55 ms vs 172 ms and 70 MB less RSS
    # than 64 MiB. A bigger message still passes (alone in an empty queue).
    queue_max_bytes: int = 16 << 20
    # Frame timer period (~60 Hz). Benchmark: frame interval p99 <= 20 ms while ingesting.
    frame_interval_ms: int = 16
    # UI-thread time per frame for applying ready items: ~1 000 chunk inserts fit in 4 ms
    # (docs/platform-facts.md).
    # bench_ingestion.py "budget" (10 stores of 100-row chunks): 1/2/4/8 ms give the same
    # frame p99 (21-23 ms) and rows/s; apply p99 stays under 1 ms, so the budget only bounds
    # a backlog (after a stall), where 4 ms leaves most of the frame to drawing.
    apply_budget_ms: float = 4.0
    # Web mode only: UI-thread time per frame for ALL ingestion work (apply, then read +
    # decode with the rest). bench_ingestion.py "budget" (10 stores, 4 ms UI load): 4 / 8 /
    # 12 ms give 0.17 / 0.41 / 0.66 M rows/s at UI ingest p99 6.7 / 10.5 / 14.3 ms. 8 ms
    # leaves half of a 16 ms frame to drawing; 12 only fits views that draw in < 4 ms.
    web_budget_ms: float = 8.0
    # OS threads decoding: 0 = one QThread per store, N >= 1 = a shared pool of N.
    # pyarrow decoding holds the GIL (docs/platform-facts.md). bench_ingestion.py "decode",
    # 10 stores: one thread per store gave frame p99 95 ms (100-row chunks) / 83 ms
    # (1000-row), a shared pool of 1 gave 22 / 18 ms, of 2 gave 27 / 23 ms; rows/s within
    # +-20 % of each other.
    decode_threads: int = 1
    # Threaded mode: a file of small chunks at least this big is read, decompressed and
    # joined into runs by a helper process on the other core (`helper_source.py`); None =
    # never, 0 = every file. bench_decode_helper.py: the helper costs ~0.1 s and ~30-40 MB,
    # and pays from ~50 MB on (696 MB of 500-row chunks: 3.3 vs 5.7 s; docs/benchmarks/
    # README.md, "The decode helper").
    decode_helper_min_bytes: int | None = DEFAULT_MIN_BYTES
    # Merge adjacent small chunks of one entity up to this many rows. bench_ingestion.py
    # "merge" (2 000 chunks of 100 rows, threaded): UI apply time for the load 8.8 ms at 0,
    # 2.9 at 1024, 2.6 at 4096, 1.8 at 16384 (byte-capped by merge_max_bytes); rows/s and
    # latency unchanged. Web mode pays the concat on the UI thread (see README). With runs
    # built once (`BatchRuns`), 16384 instead of 4096 halves the build time of a file of
    # 500-row chunks (docs/benchmarks/README.md, "merge_max_rows = 16384").
    merge_max_rows: int = 16384
    # ... and up to this many bytes; bigger chunks are never merged (merging copies them).
    merge_max_bytes: int = 1 << 20
    # Ready (decoded) items a worker may hold before it waits for the UI to take them.
    # Bounded like the inbox so a slow UI pushes back all the way to the source.
    outbox_max_items: int = 2000
    outbox_max_bytes: int = 256 << 20
    # Threaded mode: the GIL switch interval while the hub runs (None: leave Python's 5 ms).
    # Benchmark: frame interval p99 with one decoding thread (ingest-frames.md).
    gil_switch_interval_ms: float | None = 1.0
    # After this many applied chunks, collect the young GC generations and freeze the
    # survivors (gc_tuning.GcPacer), so full collections do not stall frames for 100+ ms
    # once many chunks are loaded; 0 = leave the GC alone. Benchmark: frame max with
    # 5-10 stores (ingest-frames.md).
    gc_freeze_every_chunks: int = 500

    # Stores + queues are kept under this many bytes by evicting the oldest chunks
    # (memory_governor.py); None = no limit. `--memory-limit` (default 75 % of RAM).
    memory_limit_bytes: int | None = None
    # UI-thread time per frame for eviction while over the limit.
    evict_budget_ms: float = 2.0

    def run_caps(self) -> tuple[int, int]:
        """(bytes, rows) a run of small chunks built as one may hold (`BatchRuns`; the
        decode helper's runs too); 0 bytes: no runs (web mode, or ``merge_max_rows = 0``)."""
        joins = not self.web_mode and self.merge_max_rows > 0
        return (self.merge_max_bytes if joins else 0), self.merge_max_rows

    def __post_init__(self) -> None:
        if self.decode_threads < 0:
            raise ValueError(f"decode_threads must be >= 0, got {self.decode_threads}")
        for name in ("queue_max_messages", "queue_max_bytes", "frame_interval_ms",
                     "outbox_max_items", "outbox_max_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.merge_max_rows < 0 or self.merge_max_bytes < 0:
            raise ValueError("merge_max_rows and merge_max_bytes must be >= 0")
        limit = self.memory_limit_bytes
        if limit is not None:
            if limit < 1:
                raise ValueError(f"memory_limit_bytes must be >= 1 or None, got {limit}")
            # queued bytes count against the limit but cannot be evicted: keep each store's
            # queues a small share of it (at least 1 MB so big chunks still flow)
            share = max(1 << 20, limit // 16)
            for name in ("queue_max_bytes", "outbox_max_bytes"):
                if getattr(self, name) > share:
                    object.__setattr__(self, name, share)


def settings_overrides(args: Any) -> dict[str, Any]:
    """`IngestSettings` keywords for the command line's ``--decode-threads`` and
    ``--decode-helper`` (none for an option not given: the benchmarked default stays)."""
    out: dict[str, Any] = {}
    threads = getattr(args, "decode_threads", None)
    if threads is not None:
        out["decode_threads"] = int(threads)
    helper = getattr(args, "decode_helper", None)
    if helper in DECODE_HELPER_CHOICES:
        out["decode_helper_min_bytes"] = DECODE_HELPER_CHOICES[helper]
    return out
