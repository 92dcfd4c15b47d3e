"""`EntityDb`: all chunks of one store, indexed for cheap inserts and fast time queries.

Inserting runs on the UI thread once per chunk, so it only appends to Python lists (bisect
when a chunk arrives out of time order). Anything costlier (numpy views of the index, plot
series) is built lazily at query time and kept until the next insert into that entity.
The per-timeline index is `time_index.TimelineIndex`; the plot series cache is
`scalar_series`. Small temporal chunks of an entity are merged as they arrive
(`compaction`): the parts' places in every index and cache go to the merged chunk, which
keeps the first part's id and its age (eviction order); rows keep their row ids.

Query semantics follow Rerun:
- `latest_at`: static data of the component wins over all temporal data; otherwise the row
  with the greatest time <= t, ties broken by the greatest RowId. Null cells are skipped
  (they mean "no value logged"); an empty list is a value (a clear).
- `range`: rows with t0 <= time <= t1 in (time, RowId) order. When static data exists it
  shadows the temporal rows (Rerun shows only the static value): the result then carries
  `static` and no temporal rows, unless `include_shadowed=True` asks for both.
"""

from __future__ import annotations

import bisect
import itertools
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pyarrow as pa

from viewer.log.messages import SetStoreInfo, StoreId, StoreInfo, Tuid
from viewer.store.chunk import Chunk, ChunkError, TimelineKind, rows_sorted
from viewer.store.compaction import (
    MERGE_BUDGET,
    CompactionPolicy,
    CompactionStats,
    EntityCompactor,
    default_policy,
    merge_chunks,
)
from viewer.store.entity_path import EntityPath
from viewer.store.entity_tree import EntityTree
from viewer.store.scalar_series import BandSeries, ScalarSeries, extend_band, extend_series
from viewer.store.time_index import TimelineIndex, delete_positions, positions

__all__ = ["ChunkAdded", "EntityDb", "LatestAtResult", "RangeResult"]

_I64_MIN = np.iinfo(np.int64).min
_I64_MAX = np.iinfo(np.int64).max

# One process-wide clock for `EntityDb.last_active`: comparable across stores, and
# `next()` on an itertools.count is atomic under the GIL.
_activity_clock = itertools.count(1)


@dataclass(slots=True)
class ChunkAdded:
    """What one `add_chunk` changed, for batching UI updates."""

    chunk: Chunk
    new_entities: list[EntityPath] = field(default_factory=list)  # parents first
    new_timelines: list[str] = field(default_factory=list)
    duplicate: bool = False  # a chunk with this id was already stored: ignored


@dataclass(frozen=True, slots=True)
class LatestAtResult:
    value: pa.Array  # the instances of that row's cell (a slice of the list column)
    time: int | None  # None for static data
    row_id: Tuid
    chunk: Chunk
    row: int

    @property
    def is_static(self) -> bool:
        return self.time is None


@dataclass(frozen=True, slots=True)
class RangeResult:
    times: np.ndarray  # int64, sorted with row ids
    row_ids: np.ndarray  # (n, 2) uint64: (time_ns, inc) of each row's RowId
    values: pa.Array  # list array, one list (the cell) per row
    static: LatestAtResult | None = None

    def __len__(self) -> int:
        return len(self.times)


class _EntityData:
    __slots__ = (
        "chunks",
        "compactor",
        "components",
        "epoch",
        "generation",
        "bands",
        "log",
        "protected",
        "rows",
        "series",
        "source_chunks",
        "static_chunks",
        "timelines",
    )

    def __init__(self, policy: CompactionPolicy | None) -> None:
        self.chunks: dict[bytes, Chunk] = {}
        self.compactor = EntityCompactor(policy) if policy is not None else None
        self.static_chunks: list[Chunk] = []
        self.timelines: dict[str, TimelineIndex] = {}
        self.components: dict[str, int] = {}  # column -> number of chunks holding it
        self.rows = 0
        self.source_chunks = 0
        self.log: list[Chunk] = []  # temporal chunks in insertion order (for series caches)
        self.epoch = 0  # bumped on removal: caches rebuild from scratch
        # bumped on every insert/removal: `entity_generation`, which the transform resolver
        # and the dataframe view compare to skip unchanged entities
        self.generation = 0
        self.series: dict[tuple[str, str, int], ScalarSeries] = {}
        self.bands: dict[tuple[str, str, tuple[int, int]], BandSeries] = {}  # wide rows: min/max bands
        # ids of the chunks eviction must keep (see EntityDb.protected_chunk_ids); None =
        # recompute. Reset by inserts and by removing a protected chunk only.
        self.protected: frozenset[bytes] | None = None


class EntityDb:
    """One store's data: chunks per entity, time indexes, the entity tree and counters.

    ``compaction``: merge small chunks of an entity as they arrive (`compaction`); True
    takes `default_policy()` (on unless ``RRD_VIEWER_COMPACTION=0``), False turns it off."""

    def __init__(self, store_id: StoreId, *,
                 compaction: CompactionPolicy | bool = True) -> None:
        self.store_id = store_id
        if compaction is True:
            self._policy: CompactionPolicy | None = default_policy()
        else:
            self._policy = compaction or None
        self.compaction_stats = CompactionStats()
        # entities whose due merges waited for the merge budget (`compact_pending`)
        self._backlog: set[EntityPath] = set()
        self.store_info: StoreInfo | None = None
        self.store_info_count = 0
        self.tree = EntityTree()
        self._chunks: dict[bytes, Chunk] = {}  # insertion order = age
        self._entities: dict[EntityPath, _EntityData] = {}
        self._timeline_kinds: dict[str, TimelineKind] = {}
        self._time_ranges: dict[str, list[int]] = {}
        self._time_ranges_dirty = False
        self.num_rows = 0
        self.nbytes = 0
        self.num_source_chunks = 0
        # bumped on every change: the transform resolver skips its per-entity checks while
        # it is unchanged
        self.generation = 0
        # When data last arrived, on a process-wide clock (larger = more recent): memory
        # limiting evicts from the least recently active store first.
        self.last_active = 0

    # ------------------------------------------------------------------ writing

    def set_store_info(self, info: StoreInfo | SetStoreInfo) -> None:
        """Apply a SetStoreInfo: the latest one wins; all are counted."""
        if isinstance(info, SetStoreInfo):
            info = info.info
        self.store_info = info
        self.store_info_count += 1
        self.last_active = next(_activity_clock)

    def add_chunk(self, chunk: Chunk) -> ChunkAdded:
        """Insert one chunk (cheap: list appends, bisect when out of time order)."""
        if chunk.id in self._chunks:
            return ChunkAdded(chunk, duplicate=True)
        self._chunks[chunk.id] = chunk
        path = chunk.entity_path
        ed = self._entities.get(path)
        if ed is None:
            ed = self._entities[path] = _EntityData(self._policy)
        ed.chunks[chunk.id] = chunk
        ed.generation += 1
        ed.protected = None
        self.generation += 1
        self.last_active = next(_activity_clock)
        ed.rows += chunk.num_rows
        ed.source_chunks += chunk.source_chunks
        comps = ed.components
        for name in chunk.components:
            comps[name] = comps.get(name, 0) + 1

        new_timelines: list[str] = []
        if chunk.is_static:
            ed.static_chunks.append(chunk)
        else:
            ed.log.append(chunk)
            kinds = self._timeline_kinds
            ranges = self._time_ranges
            for name, tc in chunk.timelines.items():
                lo, hi = tc.min, tc.max
                idx = ed.timelines.get(name)
                if idx is None:
                    idx = ed.timelines[name] = TimelineIndex()
                idx.add(chunk, lo, hi)
                rng = ranges.get(name)
                if rng is None:
                    ranges[name] = [lo, hi]
                    if name not in kinds:
                        kinds[name] = tc.kind
                        new_timelines.append(name)
                else:
                    if lo < rng[0]:
                        rng[0] = lo
                    if hi > rng[1]:
                        rng[1] = hi

        self.num_rows += chunk.num_rows
        self.nbytes += chunk.nbytes
        self.num_source_chunks += chunk.source_chunks
        created = self.tree.add(path, chunk.num_rows)
        if ed.compactor is not None and not chunk.is_static:
            ed.compactor.offer(chunk)
            if not self._compact_step(ed):
                self._backlog.add(path)
        return ChunkAdded(chunk, created, new_timelines)

    # ------------------------------------------------------------------ compaction

    @property
    def compaction_backlog(self) -> int:
        """Entities with merges that waited for the merge budget."""
        return len(self._backlog)

    def compact_pending(self) -> bool:
        """Run merges that waited for the merge budget (a stream that stopped sends no more
        inserts to run them), within what is left of the budget. Called once per frame
        (`MemoryGovernor.step`); True when everything due is done."""
        for path in list(self._backlog):
            ed = self._entities.get(path)
            if ed is None or ed.compactor is None or self._compact_step(ed):
                self._backlog.discard(path)
            else:
                return False
        return True

    def _compact_step(self, ed: _EntityData) -> bool:
        """Run the entity's due merges while the process-wide merge budget allows (each is
        bounded: at most ``fan_in`` chunks and ``max_rows`` rows). False when merges are
        left for later (out of budget)."""
        compactor = ed.compactor
        assert compactor is not None
        budget = MERGE_BUDGET
        policy = compactor.policy
        perf = time.perf_counter
        now = perf()
        if not budget.allows(policy, now):
            return compactor.due() is None
        # this call's share: what is left of the window's budget (plus one merge)
        deadline = now + policy.budget_s - budget.spent if policy.budget_s is not None else None
        stats = self.compaction_stats
        cpu = time.thread_time
        while True:
            t0, c0 = perf(), cpu()
            rows = self._merge_once(ed, compactor)
            if not rows:
                return True
            t1 = perf()
            dt = t1 - t0
            budget.spent += dt
            stats.seconds += dt
            stats.cpu_seconds += cpu() - c0
            if dt > stats.longest_s:
                stats.longest_s, stats.longest_rows = dt, rows
            if deadline is not None and t1 >= deadline:
                return compactor.due() is None

    def _merge_once(self, ed: _EntityData, compactor: EntityCompactor) -> int:
        """The next due merge of the entity: the rows it merged, 0 when none was due (-1:
        the due parts were left as they are)."""
        due = compactor.due()
        if due is None:
            return 0
        tier, parts = due
        log = ed.log
        start = _find_from_end(log, parts[0])
        k = len(parts)
        if start < 0 or any(log[start + j] is not parts[j] for j in range(1, k)):
            compactor.seal()  # not adjacent (cannot happen): leave them as they are
            return -1
        try:
            merged = merge_chunks(parts)
        except ChunkError:
            compactor.seal()
            return -1
        if merged.id != parts[0].id:  # concat keeps the first id; never merge under a new one
            compactor.seal()
            return -1
        self._swap_in(ed, start, parts, merged)
        compactor.merged(tier, parts, merged)
        stats = self.compaction_stats
        stats.merges += 1
        stats.chunks_absorbed += k - 1
        stats.rows_copied += merged.num_rows
        return merged.num_rows

    def _swap_in(self, ed: _EntityData, start: int, parts: list[Chunk], merged: Chunk) -> None:
        """Replace ``parts`` (``ed.log[start:start + len(parts)]``) by ``merged`` everywhere:
        same rows, so counters, time ranges, the tree and the cached series stay valid."""
        k = len(parts)
        end = start + k
        # caches that consumed the log up to inside the parts read the rest of them first
        # (few rows), so that the merged chunk counts as wholly consumed or not at all
        for (component, timeline, instance), series in ed.series.items():
            if series.epoch == ed.epoch and start < series.consumed < end:
                extend_series(series, ed.log, component, timeline, instance, end - series.consumed)
        for (component, timeline, _curves), band in ed.bands.items():
            if band.epoch == ed.epoch and start < band.consumed < end:
                extend_band(band, ed.log, component, timeline, end - band.consumed)
        for cache in itertools.chain(ed.series.values(), ed.bands.values()):
            if cache.consumed >= end:
                cache.consumed -= k - 1
        ed.log[start:end] = [merged]
        gone = {id(c) for c in parts}
        for name, tc in merged.timelines.items():
            ed.timelines[name].replace(gone, k, merged, tc.min, tc.max)
        first_id = parts[0].id
        chunks, own = self._chunks, ed.chunks
        chunks[first_id] = merged  # the first part's place: its age for eviction
        own[first_id] = merged
        comps = ed.components
        freed = 0
        for part in parts:
            if part.id != first_id:
                del chunks[part.id], own[part.id]
            freed += part.nbytes
            for name in part.components:
                comps[name] -= 1
        for name in merged.components:
            comps[name] += 1
        self.nbytes += merged.nbytes - freed
        ed.generation += 1
        ed.protected = None
        self.generation += 1

    def remove_chunks(self, chunk_ids: Iterable[bytes]) -> list[Chunk]:
        """Remove many chunks at once (memory limiting): each touched entity's lists are
        rebuilt once, not once per chunk. Unknown ids are ignored; returns what was removed."""
        removed: list[Chunk] = []
        by_entity: dict[EntityPath, list[Chunk]] = {}
        for cid in chunk_ids:
            chunk = self._chunks.pop(cid, None)
            if chunk is not None:
                removed.append(chunk)
                by_entity.setdefault(chunk.entity_path, []).append(chunk)
        for path, chunks in by_entity.items():
            self._remove_from_entity(path, chunks)
        if removed:
            self.generation += 1
        return removed

    def _remove_from_entity(self, path: EntityPath, chunks: list[Chunk]) -> None:
        ed = self._entities[path]
        gone = {id(c) for c in chunks}
        rows = 0
        n_static = 0
        per_timeline: dict[str, int] = {}
        comps = ed.components
        for chunk in chunks:
            del ed.chunks[chunk.id]
            rows += chunk.num_rows
            ed.source_chunks -= chunk.source_chunks
            self.nbytes -= chunk.nbytes
            self.num_source_chunks -= chunk.source_chunks
            for name in chunk.components:
                left = comps[name] - 1
                if left:
                    comps[name] = left
                else:
                    del comps[name]
            if ed.protected is not None and chunk.id in ed.protected:
                ed.protected = None
            if chunk.is_static:
                n_static += 1
            else:
                for name in chunk.timelines:
                    per_timeline[name] = per_timeline.get(name, 0) + 1
        n_temporal = len(chunks) - n_static
        if ed.compactor is not None and n_temporal:
            ed.compactor.forget(gone)
        ed.rows -= rows
        self.num_rows -= rows
        ed.generation += 1
        if n_static:
            pos = positions(ed.static_chunks, gone, n_static)
            if pos:
                delete_positions(ed.static_chunks, pos)
        if n_temporal:
            for name, count in per_timeline.items():
                idx = ed.timelines[name]
                idx.remove_many(gone, count)
                if not idx.chunks:
                    del ed.timelines[name]
            pos = positions(ed.log, gone, n_temporal)
            if pos:
                delete_positions(ed.log, pos)
            ed.epoch += 1
            ed.series.clear()
            ed.bands.clear()
            self._time_ranges_dirty = True
        if not ed.chunks:
            del self._entities[path]
        self.tree.remove_rows(path, rows)

    def chunks_by_age(self) -> Iterator[Chunk]:
        """Chunks in insertion order, oldest first (a snapshot: safe to remove while iterating)."""
        return iter(list(self._chunks.values()))

    def evictable_chunks(self) -> Iterator[Chunk]:
        """Temporal chunks, oldest (first inserted) first. A live view: do not add or remove
        chunks while iterating (plan first, then `remove_chunks`)."""
        for chunk in self._chunks.values():
            if not chunk.is_static:
                yield chunk

    def protected_chunk_ids(self, entity: EntityPath) -> frozenset[bytes]:
        """Chunks of `entity` that memory limiting must keep: every static chunk, and for each
        (component, timeline) the chunk holding its latest non-null temporal row. Keeping
        these keeps `latest_at(..., t)` for any t >= the entity's last time (and static
        values) unchanged whatever else is dropped. Cached until the entity changes."""
        ed = self._entities.get(entity)
        if ed is None:
            return frozenset()
        if ed.protected is not None:
            return ed.protected
        keep = {c.id for c in ed.static_chunks}
        for component in ed.components:
            for timeline, idx in ed.timelines.items():
                hit = self._latest_temporal(idx, component, timeline, _I64_MAX)
                if hit is not None:
                    keep.add(hit[0].id)
        ed.protected = frozenset(keep)
        return ed.protected

    # ------------------------------------------------------------------ reading

    @property
    def num_chunks(self) -> int:
        return len(self._chunks)

    def chunk(self, chunk_id: bytes) -> Chunk | None:
        return self._chunks.get(chunk_id)

    def entities(self) -> list[EntityPath]:
        """Entities holding data, sorted."""
        return sorted(self._entities)

    def entity_generation(self, entity: EntityPath) -> int:
        """Changes whenever a chunk of `entity` is added or removed (-1: no such entity)."""
        ed = self._entities.get(entity)
        return ed.generation if ed else -1

    def chunks_of(self, entity: EntityPath) -> list[Chunk]:
        ed = self._entities.get(entity)
        return list(ed.chunks.values()) if ed else []

    @property
    def rows_per_entity(self) -> dict[EntityPath, int]:
        return {p: ed.rows for p, ed in self._entities.items()}

    def source_chunks_of(self, entity: EntityPath) -> int:
        """Chunks as the source sent them (merged chunks count their parts)."""
        ed = self._entities.get(entity)
        return ed.source_chunks if ed else 0

    def components(self, entity: EntityPath) -> list[str]:
        ed = self._entities.get(entity)
        return sorted(ed.components) if ed else []

    def timelines(self) -> dict[str, TimelineKind]:
        return dict(self._timeline_kinds)

    def timelines_of(self, entity: EntityPath) -> dict[str, TimelineKind]:
        ed = self._entities.get(entity)
        if ed is None:
            return {}
        return {name: self._timeline_kinds[name] for name in sorted(ed.timelines)}

    def time_range(self, timeline: str) -> tuple[int, int] | None:
        if self._time_ranges_dirty:
            self._recompute_time_ranges()
        rng = self._time_ranges.get(timeline)
        return (rng[0], rng[1]) if rng else None

    def earliest_times(self) -> dict[str, int]:
        """Earliest time held per timeline: O(entities), unlike a full `time_range` refresh
        after removals (for eviction notices: "data before t was dropped")."""
        out: dict[str, int] = {}
        for ed in self._entities.values():
            for name, idx in ed.timelines.items():
                lo = idx.mins[0]
                if name not in out or lo < out[name]:
                    out[name] = lo
        return out

    def _recompute_time_ranges(self) -> None:
        ranges: dict[str, list[int]] = {}
        for ed in self._entities.values():
            for name, idx in ed.timelines.items():
                lo, hi = idx.mins[0], max(idx.maxs)
                rng = ranges.get(name)
                if rng is None:
                    ranges[name] = [lo, hi]
                else:
                    rng[0] = min(rng[0], lo)
                    rng[1] = max(rng[1], hi)
        self._time_ranges = ranges
        self._time_ranges_dirty = False

    # ------------------------------------------------------------------ queries

    def latest_static(self, entity: EntityPath, component: str) -> LatestAtResult | None:
        """The static value of a component (greatest RowId among static rows), if any."""
        ed = self._entities.get(entity)
        if ed is None or not ed.static_chunks:
            return None
        best: tuple[int, int] | None = None
        best_hit: tuple[Chunk, int] | None = None
        for chunk in ed.static_chunks:
            if component not in chunk.components:
                continue
            row = chunk.latest_static_row(component)
            if row is None:
                continue
            rid = (int(chunk.row_ids[row, 0]), int(chunk.row_ids[row, 1]))
            if best is None or rid > best:
                best, best_hit = rid, (chunk, row)
        if best_hit is None:
            return None
        return _result(best_hit[0], best_hit[1], component, None)

    def latest_at(
        self, entity: EntityPath, component: str, timeline: str, t: int
    ) -> LatestAtResult | None:
        """Rerun latest-at: static wins; else greatest (time <= t, RowId)."""
        ed = self._entities.get(entity)
        if ed is None or component not in ed.components:
            return None
        static = self.latest_static(entity, component)
        if static is not None:
            return static
        idx = ed.timelines.get(timeline)
        if idx is None:
            return None
        hit = self._latest_temporal(idx, component, timeline, t)
        if hit is None:
            return None
        chunk, row, time = hit
        return _result(chunk, row, component, time)

    @staticmethod
    def _latest_temporal(
        idx: TimelineIndex, component: str, timeline: str, t: int
    ) -> tuple[Chunk, int, int] | None:
        """(chunk, row, time) of the greatest (time <= t, RowId) non-null temporal row."""
        k = bisect.bisect_right(idx.mins, t)
        if k == 0:
            return None
        _, prefmax = idx.arrays()
        best_key: tuple[int, int, int] | None = None
        best_hit: tuple[Chunk, int] | None = None
        chunks = idx.chunks
        for i in range(k - 1, -1, -1):
            if best_key is not None and min(int(prefmax[i]), t) < best_key[0]:
                break  # no earlier chunk can reach the best time found
            chunk = chunks[i]
            if component not in chunk.components:
                continue
            row = chunk.latest_row(timeline, component, t)
            if row is None:
                continue
            key = (
                int(chunk.timelines[timeline].times[row]),
                int(chunk.row_ids[row, 0]),
                int(chunk.row_ids[row, 1]),
            )
            if best_key is None or key > best_key:
                best_key, best_hit = key, (chunk, row)
        if best_hit is None or best_key is None:
            return None
        return best_hit[0], best_hit[1], best_key[0]

    def _overlapping(self, idx: TimelineIndex, t0: int, t1: int) -> list[Chunk]:
        k = bisect.bisect_right(idx.mins, t1)
        if k == 0:
            return []
        maxs, _ = idx.arrays()
        hits = np.flatnonzero(maxs[:k] >= t0)
        chunks = idx.chunks
        return [chunks[i] for i in hits]

    def range(
        self,
        entity: EntityPath,
        component: str,
        timeline: str,
        t0: int,
        t1: int,
        *,
        include_shadowed: bool = False,
    ) -> RangeResult:
        """Rows with t0 <= time <= t1 sorted by (time, RowId); see the module doc for static."""
        ed = self._entities.get(entity)
        static = self.latest_static(entity, component) if ed is not None else None
        idx = ed.timelines.get(timeline) if ed is not None else None
        if idx is None or (static is not None and not include_shadowed) or t1 < t0:
            return _empty_range(ed, component, static)
        times_parts: list[np.ndarray] = []
        rid_parts: list[np.ndarray] = []
        value_parts: list[pa.Array] = []
        for chunk in self._overlapping(idx, t0, t1):
            if component not in chunk.components:
                continue
            rows = chunk.range_rows(timeline, component, t0, t1)
            if len(rows) == 0:
                continue
            column = chunk.components[component]
            lo, n = int(rows[0]), len(rows)
            if int(rows[-1]) - lo + 1 == n and (n == 1 or bool((rows[1:] > rows[:-1]).all())):
                # consecutive rows (a sorted chunk): zero-copy slices instead of gathers
                times_parts.append(chunk.timelines[timeline].times[lo : lo + n])
                rid_parts.append(chunk.row_ids[lo : lo + n])
                value_parts.append(column.slice(lo, n))
            else:
                times_parts.append(chunk.timelines[timeline].times[rows])
                rid_parts.append(chunk.row_ids[rows])
                value_parts.append(column.take(pa.array(rows)))
        if not times_parts:
            return _empty_range(ed, component, static)
        times = np.concatenate(times_parts)
        row_ids = np.concatenate(rid_parts)
        values = value_parts[0] if len(value_parts) == 1 else _concat_values(value_parts)
        if not rows_sorted(times, row_ids[:, 0], row_ids[:, 1]):
            order = np.lexsort((row_ids[:, 1], row_ids[:, 0], times))
            times, row_ids = times[order], row_ids[order]
            values = values.take(pa.array(order))
        return RangeResult(times, row_ids, values, static)

    def scalar_series_serial(
        self, entity: EntityPath, component: str, timeline: str, *, instance: int = 0
    ) -> int | None:
        """Names the cached series `scalar_series` last returned: while it stays the same,
        rows were only appended after the newest (earlier rows unchanged), so a plot may
        convert just the new ones; it changes when the series is rebuilt (a chunk inserted
        in the past, eviction). None: no cached series."""
        ed = self._entities.get(entity)
        series = ed.series.get((component, timeline, instance)) if ed is not None else None
        if series is None or series.epoch != ed.epoch:
            return None
        return series.serial

    def scalar_series_width(self, entity: EntityPath, component: str, timeline: str) -> int:
        """Most values in one row among the chunks read into the cached series (instance 0):
        how many curves a plot of it draws. Counted by the same walk that reads the series,
        so it covers what `scalar_series` has read, `max_chunks` included."""
        ed = self._entities.get(entity)
        series = ed.series.get((component, timeline, 0)) if ed is not None else None
        if series is None or series.epoch != ed.epoch:
            return 0
        return series.width

    def scalar_series_pending(
        self, entity: EntityPath, component: str, timeline: str, *, instance: int = 0
    ) -> int:
        """Chunks of `entity` not yet in the cached series (left by a `max_chunks` call)."""
        return self._pending(entity, component, timeline, "series", (component, timeline, instance))

    def scalar_series(
        self,
        entity: EntityPath,
        component: str,
        timeline: str,
        t0: int | None = None,
        t1: int | None = None,
        *,
        instance: int = 0,
        max_chunks: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(times int64, values float64) of instance `instance` of each temporal row, sorted by
        (time, RowId), for plots. Rows without that instance are skipped; static values are
        ignored (a plot shows the temporal series). Returned arrays are read-only views of a
        cache that grows incrementally as chunks are appended to the entity.

        `max_chunks` bounds the work of one call: at most that many chunks not yet in the
        cache are added (the rest: `scalar_series_pending`), so a plot can spread a large
        backlog over frames. The result is then the series of the chunks added so far."""
        ed = self._entities.get(entity)
        empty = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64))
        if ed is None or timeline not in ed.timelines or component not in ed.components:
            return empty
        key = (component, timeline, instance)
        series = ed.series.get(key)
        if series is None or series.epoch != ed.epoch:
            series = ed.series[key] = ScalarSeries(ed.epoch)
        if series.consumed < len(ed.log):
            extend_series(series, ed.log, component, timeline, instance, max_chunks)
        times, values = series.times, series.values
        lo = 0 if t0 is None else int(np.searchsorted(times, t0, side="left"))
        hi = len(times) if t1 is None else int(np.searchsorted(times, t1, side="right"))
        return times[lo:hi], values[lo:hi]

    def scalar_band_pending(
        self, entity: EntityPath, component: str, timeline: str, curves: tuple[int, int]
    ) -> int:
        """Chunks of `entity` not yet in the cached band (left by a `max_chunks` call)."""
        return self._pending(entity, component, timeline, "bands", (component, timeline, curves))

    def _pending(self, entity: EntityPath, component: str, timeline: str,
                 caches: Literal["series", "bands"], key: tuple) -> int:
        """Chunks of `entity` not yet read into its cached series or band under ``key``."""
        ed = self._entities.get(entity)
        if ed is None or timeline not in ed.timelines or component not in ed.components:
            return 0
        cached = getattr(ed, caches).get(key)
        if cached is None or cached.epoch != ed.epoch:
            return len(ed.log)
        return len(ed.log) - cached.consumed

    def scalar_band(
        self, entity: EntityPath, component: str, timeline: str, curves: tuple[int, int],
        *, max_chunks: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """(times, min, max, serial) per temporal row of the instances of a wide component
        outside ``curves`` = (start, stop) (the ones a plot draws as curves), sorted by
        (time, RowId): one cached read of every chunk for all those instances, where
        `scalar_series` would walk every chunk once per instance. Rows with no instance
        outside the window are skipped. ``max_chunks`` as in `scalar_series`; the serial
        changes when earlier rows may differ (a rebuild)."""
        ed = self._entities.get(entity)
        if ed is None or timeline not in ed.timelines or component not in ed.components:
            return np.empty(0, dtype=np.int64), np.empty(0), np.empty(0), -1
        key = (component, timeline, curves)
        band = ed.bands.get(key)
        if band is None or band.epoch != ed.epoch:
            band = ed.bands[key] = BandSeries(ed.epoch, curves)
        if band.consumed < len(ed.log):
            extend_band(band, ed.log, component, timeline, max_chunks)
        return band.times, band.lo, band.hi, band.serial


def _find_from_end(items: list[Chunk], chunk: Chunk) -> int:
    """Position of ``chunk`` (by identity) in ``items``, searched from the end; -1 if absent."""
    for i in range(len(items) - 1, -1, -1):
        if items[i] is chunk:
            return i
    return -1


def _result(chunk: Chunk, row: int, component: str, time: int | None) -> LatestAtResult:
    rid = Tuid(int(chunk.row_ids[row, 0]), int(chunk.row_ids[row, 1]))
    value = chunk.components[component][row].values  # queries skip null cells
    return LatestAtResult(value, time, rid, chunk, row)


def _empty_range(
    ed: _EntityData | None, component: str, static: LatestAtResult | None
) -> RangeResult:
    list_type: pa.DataType = pa.list_(pa.null())
    if ed is not None:
        for chunk in ed.chunks.values():
            arr = chunk.components.get(component)
            if arr is not None:
                list_type = arr.type
                break
    return RangeResult(
        np.empty(0, dtype=np.int64),
        np.empty((0, 2), dtype=np.uint64),
        pa.array([], type=list_type),
        static,
    )


def _concat_values(parts: list[pa.Array]) -> pa.Array:
    """Concatenate cells of several chunks; chunks may disagree on the list type
    (e.g. float32 vs float64), then all are cast to the first one's type."""
    first = parts[0].type
    if any(p.type != first for p in parts):
        try:
            parts = [p if p.type == first else p.cast(first) for p in parts]
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise ValueError(f"component cells have incompatible types: {exc}") from exc
    return pa.concat_arrays(parts)


