"""The rows of a dataframe view as numpy indices into the store's chunks (no Qt).

Rows follow Rerun's dataframe view: one row per distinct value of the selected timeline
(within the time range) at which any of the view's entities logged something, in
ascending order. In that row, each entity's component column shows that component's value
logged at exactly that time (the one with the greatest RowId when several rows share the
time), or nothing: values are not carried forward from earlier times. A component that has
static data shows its static value in every row (static data overrides temporal data).
Rows logged without the selected timeline are left out. Without a timeline, the table is
one row of static values.

Building the table only collects and dedupes times. Which chunk row supplies a column's
cells is worked out the first time that column is shown or sorted, and a cell becomes text
only when asked for (``cell_text``), i.e. when the table shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from viewer.store.chunk import Chunk, TimelineKind, rows_sorted
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_format import format_time
from viewer.ui.views.selection import format_value

#: Time of a row that does not have a timeline (and of static rows).
NO_TIME = np.iinfo(np.int64).min


@dataclass(frozen=True, slots=True)
class Column:
    """A timeline column (``component`` None) or one component of one entity."""

    title: str
    timeline: str | None = None
    kind: TimelineKind | None = None
    entity: EntityPath | None = None
    component: str | None = None


@dataclass(slots=True)
class _Source:
    """Which chunk row supplies each table row of a column (-1: none)."""

    chunk: np.ndarray  # (rows,) int32 index into FrameTable.chunks, -1 for no value
    row: np.ndarray  # (rows,) int64 row within that chunk


class FrameTable:
    """Rows of ``entities`` on ``timeline`` with lo <= time <= hi (None: unbounded)."""

    def __init__(self, db: EntityDb, entities: list[EntityPath], timeline: str | None,
                 time_range: tuple[int | None, int | None] = (None, None)) -> None:
        self.timeline = timeline
        timelines: dict[str, TimelineKind] = {}
        comps: list[tuple[EntityPath, str]] = []
        for entity in entities:
            timelines.update(db.timelines_of(entity))
            comps += [(entity, c) for c in db.components(entity)]
        multi = len(entities) > 1
        self.columns: list[Column] = [Column(name, timeline=name, kind=kind)
                                      for name, kind in sorted(timelines.items())]
        self.columns += [Column(f"{e}\n{c}" if multi else c, entity=e, component=c)
                         for e, c in comps]
        #: Temporal chunks on the timeline, with their rows in the time range.
        self.chunks: list[Chunk] = []
        self._picked: list[np.ndarray | None] = []  # None: every row of the chunk
        statics: list[Chunk] = []
        parts: list[np.ndarray] = []
        lo, hi = time_range
        for entity in entities:
            for chunk in db.chunks_of(entity):
                if chunk.is_static:
                    statics.append(chunk)
                    continue
                tc = chunk.timelines.get(timeline) if timeline is not None else None
                if tc is None or chunk.num_rows == 0:
                    continue
                times = tc.times
                picked = None
                if (lo is not None and tc.min < lo) or (hi is not None and tc.max > hi):
                    keep = np.ones(chunk.num_rows, dtype=bool)
                    if lo is not None:
                        keep &= times >= lo
                    if hi is not None:
                        keep &= times <= hi
                    picked = np.flatnonzero(keep)
                    if not len(picked):
                        continue
                    times = times[picked]
                self.chunks.append(chunk)
                self._picked.append(picked)
                parts.append(times)
        #: The static value of each component column that has one (it fills every row).
        self._static: dict[int, pa.Array] = {}
        for col, column in enumerate(self.columns):
            if column.component is not None:
                value = _static_value(statics, column.entity, column.component)
                if value is not None:
                    self._static[col] = value
        self.static_only = timeline is None
        if self.static_only:
            self.index = np.full(1 if self._static else 0, NO_TIME, dtype=np.int64)
        elif parts:
            self.index = _unique_sorted(np.concatenate(parts) if len(parts) > 1 else parts[0])
        else:
            self.index = np.empty(0, dtype=np.int64)
        self.is_static = np.full(len(self.index), self.static_only)
        #: The natural order: ascending time (the index is sorted).
        self.order = np.arange(len(self.index), dtype=np.int64)
        self._sources: dict[int, _Source] = {}
        self._other_times: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.index)

    # ------------------------------------------------------------------ sources

    def _source(self, col: int) -> _Source:
        """The chunk rows of a component column: per index value, the latest (by RowId)
        non-null cell logged at exactly that time."""
        src = self._sources.get(col)
        if src is None:
            column = self.columns[col]
            src = self._sources[col] = self._latest_per_time(
                lambda c: c.entity_path == column.entity and column.component in c.components,
                column.component)
        return src

    def _times_on(self, timeline: str) -> np.ndarray:
        """Per row, its time on another timeline: the greatest one among the cells the row
        shows (cells found at one time on the selected timeline may differ on another;
        NO_TIME: none of them has that timeline)."""
        out = self._other_times.get(timeline)
        if out is not None:
            return out
        sizes = np.array([c.num_rows for c in self.chunks], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        flat = np.full(int(offsets[-1]) + 1, NO_TIME, dtype=np.int64)  # last: no cell
        for ci, chunk in enumerate(self.chunks):
            tc = chunk.timelines.get(timeline)
            if tc is not None:
                flat[offsets[ci]:offsets[ci + 1]] = tc.times
        out = np.full(len(self.index), NO_TIME, dtype=np.int64)
        for col, column in enumerate(self.columns):
            if column.component is None or col in self._static:
                continue
            src = self._source(col)
            at = np.where(src.chunk >= 0, offsets[np.maximum(src.chunk, 0)] + src.row,
                          offsets[-1])
            np.maximum(out, flat[at], out=out)
        self._other_times[timeline] = out
        return out

    def _latest_per_time(self, wanted: Callable[[Chunk], bool], component: str) -> _Source:
        n = len(self.index)
        out = _Source(np.full(n, -1, dtype=np.int32), np.zeros(n, dtype=np.int64))
        if n == 0 or self.timeline is None:
            return out
        times, rid0, rid1, cidx, rows = [], [], [], [], []
        for ci, chunk in enumerate(self.chunks):
            if not wanted(chunk):
                continue
            picked = self._picked[ci]
            r = np.arange(chunk.num_rows, dtype=np.int64) if picked is None else picked
            valid = chunk.valid_rows(component)
            if valid is not None:
                r = r[valid[r]]
            if not len(r):
                continue
            whole = len(r) == chunk.num_rows
            t = chunk.timelines[self.timeline].times
            ids = chunk.row_ids
            times.append(t if whole else t[r])
            rid0.append(ids[:, 0] if whole else ids[r, 0])
            rid1.append(ids[:, 1] if whole else ids[r, 1])
            cidx.append(np.full(len(r), ci, dtype=np.int32))
            rows.append(r)
        if not times:
            return out
        t, c, r = np.concatenate(times), np.concatenate(cidx), np.concatenate(rows)
        step = t[1:] > t[:-1]
        if not step.all():  # equal or decreasing times: order by (time, RowId)
            a, b = np.concatenate(rid0), np.concatenate(rid1)
            if not rows_sorted(t, a, b):
                order = np.lexsort((b, a, t))
                t, c, r = t[order], c[order], r[order]
            step = t[1:] != t[:-1]
            last = np.append(step, True)
            t, c, r = t[last], c[last], r[last]
        if len(t) == len(self.index):  # a value at every index value
            out.chunk, out.row = c, r
            return out
        at = np.searchsorted(self.index, t)
        out.chunk[at] = c
        out.row[at] = r
        return out

    # ------------------------------------------------------------------ cells

    def cell(self, i: int, column: Column | int) -> pa.Array | None:
        """The instances of table row ``i`` in a component column (None: not logged)."""
        col = column if isinstance(column, int) else self.columns.index(column)
        static = self._static.get(col)
        if static is not None:
            return static
        if self.columns[col].component is None:
            return None
        src = self._source(col)
        ci = int(src.chunk[i])
        if ci < 0:
            return None
        scalar = self.chunks[ci].components[self.columns[col].component][int(src.row[i])]
        return scalar.values if scalar.is_valid else None

    def time_of(self, i: int, col: int) -> int:
        """Row ``i``'s time on a timeline column (NO_TIME: none)."""
        column = self.columns[col]
        if self.static_only:
            return NO_TIME
        if column.timeline == self.timeline:
            return int(self.index[i])
        return int(self._times_on(column.timeline or "")[i])

    def cell_text(self, i: int, col: int) -> str:
        column = self.columns[col]
        if column.timeline is not None:
            if self.is_static[i]:
                return "static"
            t = self.time_of(i, col)
            return "" if t == NO_TIME else format_time(column.kind, t)
        value = self.cell(i, col)
        return "" if value is None else format_value(column.component or "", value)

    def sort_key(self, col: int) -> tuple[np.ndarray, np.ndarray]:
        """(missing, key) per row for sorting by column ``col``: numbers as numbers, other
        values by their first instance (or their text); rows without a value sort last."""
        column = self.columns[col]
        n = len(self)
        if column.timeline is not None:
            if column.timeline == self.timeline or self.static_only:
                return np.zeros(n, dtype=bool), self.index.copy()
            t = self._times_on(column.timeline)
            return t == NO_TIME, t
        if col in self._static:  # the same value in every row
            return np.zeros(n, dtype=bool), np.zeros(n)
        missing = np.ones(n, dtype=bool)
        key = np.zeros(n, dtype=np.float64)
        texts: list[str | None] = [None] * n
        numeric = True
        src = self._source(col)
        by_chunk = np.argsort(src.chunk, kind="stable")
        bounds = np.searchsorted(src.chunk[by_chunk], np.arange(-1, len(self.chunks) + 1))
        for ci, chunk in enumerate(self.chunks):
            idx = by_chunk[bounds[ci + 1]:bounds[ci + 2]]
            if not len(idx):
                continue
            arr = chunk.components[column.component or ""].take(pa.array(src.row[idx]))
            first = _first_values(arr)
            if first is not None and _is_number(first.type):
                vals = first.to_numpy(zero_copy_only=False).astype(np.float64)
                ok = np.isfinite(vals) & first.is_valid().to_numpy(zero_copy_only=False)
                key[idx[ok]] = vals[ok]
                missing[idx[ok]] = False
            else:
                numeric = False
                for j in idx:
                    texts[j] = self.cell_text(int(j), col)
                    missing[j] = texts[j] == ""
        if numeric:
            return missing, key
        # Mixed or text: compare the shown text (numbers in their text form too).
        shown = [texts[j] if texts[j] is not None else self.cell_text(j, col) for j in range(n)]
        _, ranks = np.unique(np.array(shown, dtype=object).astype(str), return_inverse=True)
        return missing, ranks.astype(np.float64)


def _unique_sorted(times: np.ndarray) -> np.ndarray:
    """The distinct values of ``times`` ascending: O(n) when already sorted (chunks
    usually arrive in time order, so the values are a few sorted runs)."""
    if len(times) > 1 and not (times[1:] >= times[:-1]).all():
        times = np.sort(times, kind="stable")  # merges sorted runs (one per chunk) fast
    keep = np.ones(len(times), dtype=bool)
    keep[1:] = times[1:] != times[:-1]
    return times[keep]


def _static_value(statics: list[Chunk], entity: EntityPath | None,
                  component: str) -> pa.Array | None:
    """The latest static cell of ``entity``'s ``component`` (None: no static data)."""
    best: tuple[tuple[int, int], pa.Array] | None = None
    for chunk in statics:
        if chunk.entity_path != entity or component not in chunk.components:
            continue
        row = chunk.latest_static_row(component)
        if row is None:
            continue
        rid = (int(chunk.row_ids[row, 0]), int(chunk.row_ids[row, 1]))
        if best is None or rid > best[0]:
            scalar = chunk.components[component][row]
            if scalar.is_valid:
                best = (rid, scalar.values)
    return None if best is None else best[1]


def _first_values(arr: pa.Array) -> pa.Array | None:
    """The first instance of each row of a list column (null for empty or null rows), if
    the instances are plain values; None for nested ones."""
    if not (pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type)):
        return None
    if pa.types.is_nested(arr.type.value_type):
        return None
    lengths = pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False)
    flat = pc.list_flatten(arr)
    has = lengths > 0
    if len(flat) == 0:
        return pa.nulls(len(arr), arr.type.value_type)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    first = flat.take(pa.array(np.where(has, starts, 0)))
    return pc.if_else(pa.array(has), first, pa.scalar(None, first.type))


def _is_number(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
