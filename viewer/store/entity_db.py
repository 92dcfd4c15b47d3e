"""`EntityDb`: all chunks of one store, indexed for cheap inserts and fast time queries.

Inserting runs on the UI thread once per chunk, so it only appends to Python lists (bisect
when a chunk arrives out of time order). Anything costlier (numpy views of the index, plot
series) is built lazily at query time and kept until the next insert into that entity.

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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from viewer.log.messages import SetStoreInfo, StoreId, StoreInfo, Tuid
from viewer.store.append_buffer import AppendBuffer
from viewer.store.chunk import Chunk, TimelineKind
from viewer.store.entity_path import EntityPath
from viewer.store.entity_tree import EntityTree

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


class _TimelineIndex:
    """Chunks of one entity on one timeline, ordered by their min time."""

    __slots__ = ("_np_maxs", "_np_prefmax", "chunks", "maxs", "mins")

    def __init__(self) -> None:
        self.mins: list[int] = []
        self.maxs: list[int] = []
        self.chunks: list[Chunk] = []
        self._np_maxs: np.ndarray | None = None
        self._np_prefmax: np.ndarray | None = None

    def add(self, chunk: Chunk, lo: int, hi: int) -> None:
        mins = self.mins
        if not mins or lo >= mins[-1]:
            mins.append(lo)
            self.maxs.append(hi)
            self.chunks.append(chunk)
        else:
            i = bisect.bisect_right(mins, lo)
            mins.insert(i, lo)
            self.maxs.insert(i, hi)
            self.chunks.insert(i, chunk)
        self._np_maxs = None

    def remove(self, chunk: Chunk, lo: int) -> None:
        i = bisect.bisect_left(self.mins, lo)
        while i < len(self.chunks) and self.chunks[i] is not chunk:
            i += 1
        if i < len(self.chunks):
            del self.mins[i], self.maxs[i], self.chunks[i]
            self._np_maxs = None

    def remove_many(self, gone: set[int], count: int) -> None:
        """Remove the ``count`` chunks of this index whose ``id()`` is in ``gone`` (batch
        eviction). Costs O(position of the last one): evicted chunks are the oldest, so
        usually near the front, and the rest of the lists is only moved, not visited."""
        pos = _positions(self.chunks, gone, count)
        if pos:
            _delete_positions(self.mins, pos)
            _delete_positions(self.maxs, pos)
            _delete_positions(self.chunks, pos)
            self._np_maxs = None

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(maxs, running max of maxs) as numpy, rebuilt after inserts."""
        if self._np_maxs is None:
            self._np_maxs = np.array(self.maxs, dtype=np.int64)
            self._np_prefmax = np.maximum.accumulate(self._np_maxs)
        assert self._np_prefmax is not None
        return self._np_maxs, self._np_prefmax


def _positions(items: list[Chunk], gone: set[int], count: int) -> list[int]:
    """Indices of the first ``count`` items whose ``id()`` is in ``gone`` (scan stops there)."""
    out: list[int] = []
    if count <= 0:
        return out
    for i, item in enumerate(items):
        if id(item) in gone:
            out.append(i)
            if len(out) == count:
                break
    return out


def _delete_positions(items: list, positions: list[int]) -> None:
    """Delete sorted ``positions``: rebuild only the prefix up to the last one (one memmove
    for the tail instead of one per deleted item)."""
    end = positions[-1] + 1
    drop = set(positions)
    items[:end] = [x for i, x in enumerate(items[:end]) if i not in drop]


class _Series:
    """A cached (time, row id)-sorted scalar series of one component on one timeline.

    Only times and values are kept; `last_key` (time, RowId) of the final row decides whether
    newly inserted chunks can simply be appended (the live-streaming case) or whether the
    series must be rebuilt and sorted from all chunks."""

    __slots__ = ("_tbuf", "_vbuf", "consumed", "epoch", "last_key", "serial", "times", "values",
                 "width")

    _serials = itertools.count()

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch
        # Changes whenever earlier rows may differ (a rebuild); appends keep it.
        self.serial = next(_Series._serials)
        self.consumed = 0
        self.width = 0  # most values in one row of the chunks consumed so far
        # Growing columns: appends copy only the new rows (and, spread over the appends,
        # the move to a bigger buffer); `times`/`values` are read-only views.
        self._tbuf = AppendBuffer(np.int64)
        self._vbuf = AppendBuffer(np.float64)
        self.times = self._tbuf.view()
        self.values = self._vbuf.view()
        self.last_key: tuple[int, int, int] | None = None

    def replace(self, times: np.ndarray, values: np.ndarray) -> None:
        self.serial = next(_Series._serials)
        self._tbuf, self._vbuf = AppendBuffer.of(times), AppendBuffer.of(values)
        self._publish()

    def append(self, times: np.ndarray, values: np.ndarray) -> None:
        self._tbuf.append(times)
        self._vbuf.append(values)
        self._publish()

    def _publish(self) -> None:
        # Earlier views stay valid: appends only write past their end.
        self.times, self.values = self._tbuf.view(), self._vbuf.view()


class _EntityData:
    __slots__ = (
        "chunks",
        "components",
        "epoch",
        "generation",
        "log",
        "protected",
        "rows",
        "series",
        "source_chunks",
        "static_chunks",
        "timelines",
    )

    def __init__(self) -> None:
        self.chunks: dict[bytes, Chunk] = {}
        self.static_chunks: list[Chunk] = []
        self.timelines: dict[str, _TimelineIndex] = {}
        self.components: dict[str, int] = {}  # column -> number of chunks holding it
        self.rows = 0
        self.source_chunks = 0
        self.log: list[Chunk] = []  # temporal chunks in insertion order (for series caches)
        self.epoch = 0  # bumped on removal: caches rebuild from scratch
        self.generation = 0  # bumped on every insert/removal (for UI change detection)
        self.series: dict[tuple[str, str, int], _Series] = {}
        # ids of the chunks eviction must keep (see EntityDb.protected_chunk_ids); None =
        # recompute. Reset by inserts and by removing a protected chunk only.
        self.protected: frozenset[bytes] | None = None


class EntityDb:
    """One store's data: chunks per entity, time indexes, the entity tree and counters."""

    def __init__(self, store_id: StoreId) -> None:
        self.store_id = store_id
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
        self.generation = 0  # bumped on every change: views redraw only when it moved
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
            ed = self._entities[path] = _EntityData()
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
                    idx = ed.timelines[name] = _TimelineIndex()
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
        return ChunkAdded(chunk, created, new_timelines)

    def remove_chunk(self, chunk_id: bytes) -> Chunk | None:
        """Remove a chunk (memory limiting). Tree nodes and timeline kinds stay."""
        removed = self.remove_chunks((chunk_id,))
        return removed[0] if removed else None

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
        ed.rows -= rows
        self.num_rows -= rows
        ed.generation += 1
        if n_static:
            pos = _positions(ed.static_chunks, gone, n_static)
            if pos:
                _delete_positions(ed.static_chunks, pos)
        if n_temporal:
            for name, count in per_timeline.items():
                idx = ed.timelines[name]
                idx.remove_many(gone, count)
                if not idx.chunks:
                    del ed.timelines[name]
            pos = _positions(ed.log, gone, n_temporal)
            if pos:
                _delete_positions(ed.log, pos)
            ed.epoch += 1
            ed.series.clear()
            self._time_ranges_dirty = True
        if not ed.chunks:
            del self._entities[path]
        self.tree.remove_rows(path, rows)

    def chunks_by_age(self) -> Iterator[Chunk]:
        """Chunks in insertion order, oldest first (a snapshot: safe to remove while iterating)."""
        return iter(list(self._chunks.values()))

    def drop_oldest(self, nbytes_to_free: int, *, keep_static: bool = True) -> list[Chunk]:
        """Remove the oldest chunks until `nbytes_to_free` bytes are freed."""
        dropped: list[Chunk] = []
        freed = 0
        for chunk in self.chunks_by_age():
            if freed >= nbytes_to_free:
                break
            if keep_static and chunk.is_static:
                continue
            self.remove_chunk(chunk.id)
            dropped.append(chunk)
            freed += chunk.nbytes
        return dropped

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
        idx: _TimelineIndex, component: str, timeline: str, t: int
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

    def _overlapping(self, idx: _TimelineIndex, t0: int, t1: int) -> list[Chunk]:
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
        if not _is_sorted_key(times, row_ids[:, 0], row_ids[:, 1]):
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
        ed = self._entities.get(entity)
        if ed is None or timeline not in ed.timelines or component not in ed.components:
            return 0
        series = ed.series.get((component, timeline, instance))
        if series is None or series.epoch != ed.epoch:
            return len(ed.log)
        return len(ed.log) - series.consumed

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
            series = ed.series[key] = _Series(ed.epoch)
        if series.consumed < len(ed.log):
            _extend_series(series, ed.log, component, timeline, instance, max_chunks)
        times, values = series.times, series.values
        lo = 0 if t0 is None else int(np.searchsorted(times, t0, side="left"))
        hi = len(times) if t1 is None else int(np.searchsorted(times, t1, side="right"))
        return times[lo:hi], values[lo:hi]


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


def _is_sorted_key(times: np.ndarray, hi: np.ndarray, lo: np.ndarray) -> bool:
    """True if rows are in (time, hi, lo) order."""
    if len(times) < 2:
        return True
    gt_t = times[1:] > times[:-1]
    eq_t = times[1:] == times[:-1]
    if not (gt_t | eq_t).all():
        return False
    if not eq_t.any():
        return True
    gt_h = hi[1:] > hi[:-1]
    eq_h = hi[1:] == hi[:-1]
    ok = gt_t | (eq_t & (gt_h | (eq_h & (lo[1:] >= lo[:-1]))))
    return bool(ok.all())


class _Part:
    """Times and values of the selected rows of a run of chunks; row ids are gathered only
    when the order cannot be decided from times alone (ties or out-of-order times)."""

    __slots__ = ("_rid_blocks", "_rows", "times", "values")

    def __init__(
        self,
        times: np.ndarray,
        values: np.ndarray,
        rid_blocks: list[np.ndarray],
        rows: np.ndarray | None,
    ) -> None:
        self.times = times
        self.values = values
        self._rid_blocks = rid_blocks
        self._rows = rows

    def row_ids(self) -> np.ndarray:
        rid = self._rid_blocks[0] if len(self._rid_blocks) == 1 else np.concatenate(
            self._rid_blocks
        )
        return rid if self._rows is None else rid[self._rows]

    def edge_row_id(self, last: bool) -> tuple[int, int]:
        if self._rows is None:
            block = self._rid_blocks[-1 if last else 0]
            r = block[-1 if last else 0]
        else:
            r = self.row_ids()[-1 if last else 0]
        return int(r[0]), int(r[1])


def list_width(arr: pa.Array) -> int:
    """Longest list in a list array, null rows excluded (numpy on the offsets: ~20x cheaper
    than pyarrow compute)."""
    if isinstance(arr, (pa.ListArray, pa.LargeListArray)):
        if not arr.null_count and len(arr):
            # The offsets buffer read in place: ~3x cheaper again than ``arr.offsets``.
            dtype = np.int64 if isinstance(arr, pa.LargeListArray) else np.int32
            offsets = np.frombuffer(arr.buffers()[1], dtype=dtype, count=len(arr) + 1,
                                    offset=arr.offset * np.dtype(dtype).itemsize)
            return int((offsets[1:] - offsets[:-1]).max())
        lengths = np.diff(arr.offsets.to_numpy())
        if arr.null_count:
            lengths = lengths[arr.is_valid().to_numpy(zero_copy_only=False)]
        return int(lengths.max()) if len(lengths) else 0
    import pyarrow.compute as pc  # other list types only: not worth loading at start-up

    m = pc.max(pc.list_value_length(arr)).as_py()
    return int(m or 0)


def _scalar_part(
    chunks: list[Chunk], component: str, timeline: str, instance: int
) -> tuple[_Part | None, int]:
    """Instance `instance` of each row of `chunks` holding one, batched: one concat of the
    list columns and vectorized numpy, so many small chunks cost little Python each. Also
    the most values any of those rows holds (a plot draws one curve per instance)."""
    arrays: list[pa.Array] = []
    time_blocks: list[np.ndarray] = []
    rid_blocks: list[np.ndarray] = []
    for chunk in chunks:
        tc = chunk.timelines.get(timeline)
        arr = chunk.components.get(component)
        if tc is None or arr is None or chunk.num_rows == 0:
            continue
        arrays.append(arr)
        time_blocks.append(tc.times)
        rid_blocks.append(chunk.row_ids)
    if not arrays:
        return None, 0
    list_type = arrays[0].type
    if not (pa.types.is_list(list_type) or pa.types.is_large_list(list_type)):
        raise ValueError(f"{component} is not a list column")
    child_type = list_type.value_type
    if not (pa.types.is_floating(child_type) or pa.types.is_integer(child_type)):
        raise ValueError(f"{component} holds {child_type}, not numbers: no scalar series")
    if len(arrays) == 1:
        arr, times = arrays[0], time_blocks[0]
    else:
        if any(a.type != list_type for a in arrays):
            target = pa.list_(pa.float64())
            arrays = [a if a.type == target else a.cast(target) for a in arrays]
            child_type = pa.float64()
        arr = pa.concat_arrays(arrays)
        times = np.concatenate(time_blocks)
    n = len(arr)
    width = list_width(arr)
    offsets = arr.offsets.to_numpy()
    starts = offsets[:-1]
    child = arr.values
    first, last = int(offsets[0]), int(offsets[-1])
    one_each = (
        instance == 0
        and arr.null_count == 0
        and last - first == n
        and bool((offsets[1:] - starts == 1).all())
    )
    if one_each:  # exactly one value per row: a plain slice of the child
        child = child.slice(first, n)
        if child_type != pa.float64():
            child = child.cast(pa.float64())
        return _Part(times, child.to_numpy(zero_copy_only=False), rid_blocks, None), width
    has = (offsets[1:] - starts) > instance
    if arr.null_count:
        has &= arr.is_valid().to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(has)
    if len(rows) == 0:
        return None, width
    if child_type != pa.float64():
        child = child.cast(pa.float64())
    flat = child.to_numpy(zero_copy_only=False)
    return _Part(times[rows], flat[starts[rows] + instance], rid_blocks, rows), width


def _sorted_part(
    part: _Part,
) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int], tuple[int, int, int]]:
    """New arrays sorted by (time, RowId): (times, values, first key, last key)."""
    times, values = part.times, part.values
    if len(times) > 1:
        steps = times[1:] >= times[:-1]
        needs_rids = not steps.all() or bool((times[1:] == times[:-1]).any())
    else:
        needs_rids = False
    if needs_rids:
        rid = part.row_ids()
        hi, lo = rid[:, 0], rid[:, 1]
        if not _is_sorted_key(times, hi, lo):
            order = np.lexsort((lo, hi, times))
            times, hi, lo, values = times[order], hi[order], lo[order], values[order]
        first = (int(times[0]), int(hi[0]), int(lo[0]))
        last = (int(times[-1]), int(hi[-1]), int(lo[-1]))
    else:
        first = (int(times[0]), *part.edge_row_id(last=False))
        last = (int(times[-1]), *part.edge_row_id(last=True))
    # Views are fine: they alias immutable arrow buffers or arrays made just for us.
    return times.view(), values.view(), first, last


def _extend_series(
    series: _Series, log: list[Chunk], component: str, timeline: str, instance: int,
    max_chunks: int | None = None,
) -> None:
    end = len(log) if max_chunks is None else min(len(log), series.consumed + max(1, max_chunks))
    part, width = _scalar_part(log[series.consumed : end], component, timeline, instance)
    series.consumed = end
    series.width = max(series.width, width)
    if part is None:
        return
    times, values, first_key, last_key = _sorted_part(part)
    if series.last_key is None or first_key > series.last_key:
        series.append(times, values)  # after the cached rows (live streaming): no re-sort
    else:  # an insert in the past: rebuild from all chunks consumed so far
        whole, series.width = _scalar_part(log[:end], component, timeline, instance)
        assert whole is not None
        times, values, _, last_key = _sorted_part(whole)
        series.replace(times, values)
    series.last_key = last_key
