"""Tunables of the ingestion pipeline.

Every default is provisional until the benchmarks in ``docs/benchmarks/README.md`` justify it;
the comment next to each says what the benchmark has to show.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class IngestSettings:
    # Web mode: no threads at all; the frame timer does pulling, decoding and applying
    # inside per-frame budgets (what a browser build would have to do).
    web_mode: bool = False
    # Inbox bound (per store) by count. Benchmark: latency ~ depth / drain rate, so keep
    # the depth that a fast consumer never reaches (~150) well below this.
    queue_max_messages: int = 1000
    # Inbox bound by bytes (per store): 1 000 image chunks can be gigabytes, so count alone
    # says nothing about memory. Benchmark: peak RSS stays bounded with a slow UI.
    queue_max_bytes: int = 64 << 20
    # Frame timer period (~60 Hz). Benchmark: frame interval p99 <= 20 ms while ingesting.
    frame_interval_ms: int = 16
    # UI-thread time per frame for applying ready items. Benchmark: ~1 000 chunk inserts fit
    # in 4 ms, and frame p99 stays <= 20 ms.
    apply_budget_ms: float = 4.0
    # Web mode only: UI-thread time per frame for ALL ingestion work (apply, then read +
    # decode with the rest). Benchmark: frame p99 ~17 ms at an 8 ms budget
    # (measured-facts.md); UI ingest time per frame stays within budget + 4 ms.
    web_budget_ms: float = 8.0
    # OS threads decoding: 0 = one QThread per store, N >= 1 = a shared pool of N.
    # pyarrow decoding holds the GIL (measured-facts.md): more threads gave less throughput
    # and worse frame times, so 1 until the multi-store benchmark says otherwise.
    decode_threads: int = 1
    # Merge adjacent small chunks of one entity up to this many rows. Benchmark: UI apply
    # cost per row and throughput on a file of 500-row chunks.
    merge_max_rows: int = 4096
    # ... and up to this many bytes; bigger chunks are never merged (merging copies them).
    merge_max_bytes: int = 1 << 20
    # Ready (decoded) items a worker may hold before it waits for the UI to take them.
    # Bounded like the inbox so a slow UI pushes back all the way to the source.
    outbox_max_items: int = 2000
    outbox_max_bytes: int = 256 << 20
    # Threaded mode: the GIL switch interval while the hub runs (None: leave Python's 5 ms).
    # Benchmark: frame interval p99 with one decoding thread (ingest-frames.md).
    gil_switch_interval_ms: float | None = 1.0
    # gc.freeze() the start-up objects when the hub starts, so full collections stay short.
    # Benchmark: frame max and web-mode UI ingest p99 (ingest-frames.md).
    freeze_gc_at_start: bool = True
    # After this many applied chunks, collect the young GC generations and freeze the
    # survivors (gc_tuning.GcPacer), so full collections do not stall frames for 100+ ms
    # once many chunks are loaded; 0 = leave the GC alone. Benchmark: frame max with
    # 5-10 stores (ingest-frames.md).
    gc_freeze_every_chunks: int = 500
    # pyarrow allocates with malloc, not jemalloc: jemalloc stalled ~1 % of decodes for ~5 ms.
    # Benchmark: web-mode UI ingest p99 (ingest-frames.md).
    arrow_system_allocator: bool = True

    def __post_init__(self) -> None:
        if self.decode_threads < 0:
            raise ValueError(f"decode_threads must be >= 0, got {self.decode_threads}")
        for name in ("queue_max_messages", "queue_max_bytes", "frame_interval_ms",
                     "outbox_max_items", "outbox_max_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.merge_max_rows < 0 or self.merge_max_bytes < 0:
            raise ValueError("merge_max_rows and merge_max_bytes must be >= 0")
