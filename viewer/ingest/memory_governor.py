"""`MemoryGovernor`: keeps stores plus queues under ``--memory-limit``, once per frame.

The frame driver calls `step()` after applying a frame's items. It counts the bytes held by
every `EntityDb` (`store_memory_bytes`: Arrow buffers plus a per-chunk object overhead) and
by the ingest queues; above the limit it evicts chunks chosen by
`viewer.store.memory.plan_eviction` (least recently active store, oldest chunks, never a
component's latest value) within a time budget, and returns an `EvictionReport` for a UI
notice. Queued bytes cannot be evicted (they are on their way in); they only make stores
give up more.

Hysteresis: once over the limit it frees down to ``limit * (1 - headroom)``, so eviction
runs in bursts every ``headroom`` of the limit rather than on every frame (each eviction
invalidates plot caches of the touched entities). If nothing more can be freed (only
protected chunks left) it says so once, and tries again only when usage has grown by
another 1 % of the limit, so a stuck store costs nothing per frame.

Evicted chunks are freed a budgeted batch per frame (deallocating thousands at once would
stall a frame), then the Arrow memory pool is asked to return freed memory to the OS, so the
process RSS follows the store down, not just the counted bytes.

Small chunks are merged as they are inserted (`viewer.store.compaction`), within a merge
budget per frame; merges that did not fit, e.g. at the end of a burst, run here once per
frame (`EntityDb.compact_pending`), so a stream that stops ends up compacted too.

No Qt here: it is a plain object driven by whoever owns the frame loop.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import pyarrow as pa

from viewer.log.messages import StoreId
from viewer.store.chunk import Chunk
from viewer.store.entity_db import EntityDb
from viewer.store.memory import (
    StoreUsage,
    chunk_memory_bytes,
    format_bytes,
    plan_eviction,
    store_memory_bytes,
)

__all__ = ["EvictionReport", "MemoryGovernor", "StoreEviction"]

_MIN_BURY = 32  # evicted chunks freed per frame even when the budget is spent


@dataclass(frozen=True, slots=True)
class StoreEviction:
    store_id: StoreId
    chunks_dropped: int
    rows_dropped: int
    bytes_freed: int
    oldest_kept: dict[str, int]  # timeline -> earliest time the store still holds


@dataclass(frozen=True, slots=True)
class EvictionReport:
    """What one `step` dropped; ``stuck`` when the limit could not be met (only protected
    data, i.e. latest values and static data, is left to drop)."""

    stores: tuple[StoreEviction, ...]
    limit_bytes: int
    used_bytes_before: int
    used_bytes_after: int
    stuck: bool = False

    @property
    def chunks_dropped(self) -> int:
        return sum(s.chunks_dropped for s in self.stores)

    @property
    def bytes_freed(self) -> int:
        return sum(s.bytes_freed for s in self.stores)

    def message(self) -> str:
        """One line for a notice, e.g. ``Dropped 120 chunks (48 MB) of app/rec to stay
        under the 500 MB memory limit``."""
        limit = format_bytes(self.limit_bytes)
        if not self.stores:
            return (f"Memory limit {limit} reached: {format_bytes(self.used_bytes_after)} in "
                    "use is only latest values and static data, which are kept")
        names = ", ".join(f"{s.store_id.application_id}/{s.store_id.recording_id}"
                          for s in self.stores)
        n = self.chunks_dropped
        text = (f"Dropped {n} chunk{'s' if n != 1 else ''} ({format_bytes(self.bytes_freed)}) "
                f"of {names} to stay under the {limit} memory limit")
        if self.stuck:
            text += " (only latest values left; still over the limit)"
        return text


class MemoryGovernor:
    """Counts memory and evicts above ``limit_bytes`` (None: unlimited, only counts)."""

    def __init__(self, limit_bytes: int | None, *, headroom: float = 0.1) -> None:
        if limit_bytes is not None and limit_bytes <= 0:
            raise ValueError(f"limit_bytes must be > 0 or None, got {limit_bytes}")
        if not 0.0 <= headroom < 1.0:
            raise ValueError(f"headroom must be in [0, 1), got {headroom}")
        self.limit_bytes = limit_bytes
        self.headroom = headroom
        # totals for the overlay
        self.used_bytes = 0
        self.store_bytes = 0
        self.queued_bytes = 0
        self.peak_used_bytes = 0
        self.dropped_chunks_total = 0
        self.dropped_rows_total = 0
        self.dropped_bytes_total = 0
        self.evictions = 0  # steps that dropped something
        self.last_report: EvictionReport | None = None
        self.last_step_ms = 0.0
        self._freeing = False  # over the limit: keep freeing down to the target
        self._stuck_at: int | None = None  # usage when nothing more could be freed
        self._graveyard: list[Chunk] = []  # evicted, memory not yet freed (see _bury)
        self._grave_bytes = 0
        self._budget_s = 0.002
        # UI seconds per chunk to remove it from its store and to free it (~4 + ~5 us
        # measured on 1-row chunks); learned as it goes
        self._remove_cost_s = 4e-6
        self._free_cost_s = 5e-6
        self._chunk_cost_s = 9e-6

    @property
    def target_bytes(self) -> int | None:
        if self.limit_bytes is None:
            return None
        return self.limit_bytes - int(self.limit_bytes * self.headroom)

    def snapshot(self) -> dict[str, int | None]:
        return {
            "limit_bytes": self.limit_bytes,
            "used_bytes": self.used_bytes,
            "store_bytes": self.store_bytes,
            "queued_bytes": self.queued_bytes,
            "peak_used_bytes": self.peak_used_bytes,
            "dropped_chunks_total": self.dropped_chunks_total,
            "dropped_rows_total": self.dropped_rows_total,
            "dropped_bytes_total": self.dropped_bytes_total,
        }

    def step(self, dbs: Mapping[StoreId, EntityDb], queued_bytes: int,
             budget_s: float) -> EvictionReport | None:
        """Count usage; above the limit evict within ``budget_s``. A report when something
        was dropped (or, once, when nothing more can be)."""
        t0 = time.perf_counter()
        self._budget_s = max(0.0, budget_s)
        try:
            # a third of the budget for planning; removing and freeing take the rest
            return self._step(dbs, queued_bytes, t0 + budget_s / 3)
        finally:
            self._bury(t0 + budget_s)
            for db in dbs.values():  # within the merge budget (shared, per frame)
                if db.compaction_backlog and not db.compact_pending():
                    break
            self.last_step_ms = (time.perf_counter() - t0) * 1000.0

    def _learn_cost(self, seconds: float, chunks: int, *, freeing: bool = False) -> None:
        """Running estimate of the UI time to remove + free one chunk (sizes the plans)."""
        if chunks <= 0:
            return
        per = seconds / chunks
        if freeing:
            self._free_cost_s += 0.2 * (per - self._free_cost_s)
        else:
            self._remove_cost_s += 0.2 * (per - self._remove_cost_s)
        total = self._remove_cost_s + self._free_cost_s
        self._chunk_cost_s = min(1e-4, max(1e-6, total))

    @property
    def busy(self) -> bool:
        """Eviction work is pending (over the target and something left to evict, or
        evicted chunks still to free): the hub is not idle until it is done."""
        return bool(self._graveyard) or (self._freeing and self._stuck_at is None)

    @property
    def pending_release(self) -> int:
        """Evicted chunks whose memory is still to be freed (a few per frame)."""
        return len(self._graveyard)

    def _bury(self, deadline: float) -> None:
        """Drop the last references to evicted chunks within the budget (at least
        `_MIN_BURY` per frame, and always enough to keep what waits under 10 % of the limit):
        freeing thousands of chunks at once costs ~5 us each and would stall one frame."""
        grave = self._graveyard
        if not grave:
            return
        perf = time.perf_counter
        cap = (self.limit_bytes or 0) // 10
        n = 0
        t0 = perf()
        while grave and (n < _MIN_BURY or self._grave_bytes > cap or perf() < deadline):
            self._grave_bytes -= chunk_memory_bytes(grave.pop())
            n += 1
        self._learn_cost(perf() - t0, n, freeing=True)
        if not grave:
            self._grave_bytes = 0
            # the allocator keeps freed pages for reuse; hand them back so RSS follows the
            # store down (~0.05 ms, measured: docs/benchmarks/memory-limit.md)
            pa.default_memory_pool().release_unused()

    def _count(self, dbs: Mapping[StoreId, EntityDb], queued_bytes: int) -> int:
        self.store_bytes = sum(store_memory_bytes(db) for db in dbs.values())
        self.queued_bytes = max(0, int(queued_bytes))
        self.used_bytes = self.store_bytes + self.queued_bytes
        if self.used_bytes > self.peak_used_bytes:
            self.peak_used_bytes = self.used_bytes
        return self.used_bytes

    def _step(self, dbs: Mapping[StoreId, EntityDb], queued_bytes: int,
              deadline: float) -> EvictionReport | None:
        used = self._count(dbs, queued_bytes)
        limit, target = self.limit_bytes, self.target_bytes
        if limit is None or target is None:
            return None
        if not self._freeing:
            if used <= limit:
                self._stuck_at = None
                return None
            self._freeing = True
        if used <= target:
            self._freeing = False
            self._stuck_at = None
            return None
        if self._stuck_at is not None and used < self._stuck_at + max(1, limit // 100):
            return None  # nothing evictable last time and little has arrived since
        over = used - target
        # as many chunks as removing + freeing fit in the budget (x4 when far over the
        # limit: then catching up matters more than one frame's smoothness)
        budget = self._budget_s * (4 if used > limit * 1.25 else 1)
        max_chunks = max(_MIN_BURY, int(budget / self._chunk_cost_s))
        plan = plan_eviction([StoreUsage(sid, db) for sid, db in dbs.items()], over,
                             deadline=deadline, max_chunks=max_chunks)
        planned = sum(len(ev.chunk_ids) for ev in plan)
        # nothing more to plan: only protected chunks left (not just out of time)
        exhausted = plan.complete and sum(ev.nbytes for ev in plan) < over
        t_remove = time.perf_counter()
        per_store: list[StoreEviction] = []
        for ev in plan:
            removed = ev.db.remove_chunks(ev.chunk_ids)
            if not removed:
                continue
            self._graveyard.extend(removed)
            nbytes = sum(chunk_memory_bytes(c) for c in removed)
            self._grave_bytes += nbytes
            rows = sum(c.num_rows for c in removed)
            per_store.append(StoreEviction(ev.store_id, len(removed), rows, nbytes,
                                           ev.db.earliest_times()))
        if planned:
            self._learn_cost(time.perf_counter() - t_remove, planned)
        after = self._count(dbs, queued_bytes)
        stuck = after > target and exhausted
        if not per_store:
            if not stuck or self._stuck_at is not None:
                self._stuck_at = after if stuck else self._stuck_at
                return None  # out of budget: carry on next frame
            self._stuck_at = after
            report = EvictionReport((), limit, used, after, stuck=True)
            self.last_report = report
            return report
        self._stuck_at = after if stuck else None
        if after <= target:
            self._freeing = False
        report = EvictionReport(tuple(per_store), limit, used, after, stuck=stuck and after > limit)
        self.evictions += 1
        self.dropped_chunks_total += report.chunks_dropped
        self.dropped_bytes_total += report.bytes_freed
        self.dropped_rows_total += sum(s.rows_dropped for s in per_store)
        self.last_report = report
        return report
