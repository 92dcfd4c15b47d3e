"""The rows of a dataframe view as numpy indices into the store's chunks (no Qt).

One table row per logged row (chunk row) of the view's entities: static rows first, then
rows on the selected timeline within the time range, ordered by (time, RowId). Rows logged
without the selected timeline are not in its range and are left out. A row keeps only its
chunk and its index in it, so building the table touches no cell; a cell becomes text
only when asked for (``cell_text``), i.e. when the table shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from viewer.store.chunk import Chunk, TimelineKind
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
        self.chunks: list[Chunk] = []
        chunk_idx, rows, static_parts = [], [], []
        lo, hi = time_range
        for entity in entities:
            for chunk in db.chunks_of(entity):
                if chunk.is_static or timeline is None:
                    picked = np.arange(chunk.num_rows, dtype=np.int64)
                else:
                    tc = chunk.timelines.get(timeline)
                    if tc is None:
                        continue
                    keep = np.ones(chunk.num_rows, dtype=bool)
                    if lo is not None:
                        keep &= tc.times >= lo
                    if hi is not None:
                        keep &= tc.times <= hi
                    picked = np.flatnonzero(keep)
                if not len(picked):
                    continue
                static_parts.append(np.full(len(picked), chunk.is_static))
                chunk_idx.append(np.full(len(picked), len(self.chunks), dtype=np.int32))
                rows.append(picked)
                self.chunks.append(chunk)
        if rows:
            self.chunk_idx = np.concatenate(chunk_idx)
            self.row = np.concatenate(rows)
            is_static = np.concatenate(static_parts)
        else:
            self.chunk_idx = np.empty(0, dtype=np.int32)
            self.row = np.empty(0, dtype=np.int64)
            is_static = np.empty(0, dtype=bool)
        self.is_static = is_static
        #: Rows of chunk i are rows bounds[i]:bounds[i + 1] before ordering (contiguous).
        self.bounds = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)
        #: Times per timeline column (NO_TIME where a row lacks that timeline).
        self.times: dict[str, np.ndarray] = {c.timeline: self._times(c.timeline)
                                             for c in self.columns if c.timeline}
        rid = self._row_ids()
        main = self.times.get(timeline) if timeline else None
        key_t = main if main is not None else np.zeros(len(self.row), dtype=np.int64)
        #: The natural order: static first, then (time, RowId). Chunks usually arrive in
        #: that order already: checking is O(n), sorting 500 k rows took ~40 ms.
        keys = (~is_static, key_t, rid[:, 0], rid[:, 1])
        if _lex_sorted(keys):
            self.order = np.arange(len(self.row), dtype=np.int64)
        else:
            self.order = np.lexsort(keys[::-1]).astype(np.int64)

    def __len__(self) -> int:
        return len(self.row)

    def _times(self, timeline: str) -> np.ndarray:
        out = np.full(len(self.row), NO_TIME, dtype=np.int64)
        for i, chunk in enumerate(self.chunks):
            tc = chunk.timelines.get(timeline)
            if tc is not None:
                out[self.bounds[i]:self.bounds[i + 1]] = self._rows_of(i, tc.times)
        return out

    def _rows_of(self, i: int, column: np.ndarray) -> np.ndarray:
        """``column`` (a per-row array of chunk i) at the table's rows of that chunk: the
        whole column when every row is in the table (a copy, not a gather)."""
        lo, hi = self.bounds[i], self.bounds[i + 1]
        if hi - lo == self.chunks[i].num_rows:
            return column
        return column[self.row[lo:hi]]

    def _row_ids(self) -> np.ndarray:
        out = np.zeros((len(self.row), 2), dtype=np.uint64)
        for i, chunk in enumerate(self.chunks):
            out[self.bounds[i]:self.bounds[i + 1]] = self._rows_of(i, chunk.row_ids)
        return out

    def entity_of(self, i: int) -> EntityPath:
        return self.chunks[int(self.chunk_idx[i])].entity_path

    def cell(self, i: int, column: Column) -> pa.Array | None:
        """The instances of table row ``i`` in a component column (None: not logged)."""
        chunk = self.chunks[int(self.chunk_idx[i])]
        if column.entity != chunk.entity_path or column.component not in chunk.components:
            return None
        scalar = chunk.components[column.component][int(self.row[i])]
        return scalar.values if scalar.is_valid else None

    def cell_text(self, i: int, col: int) -> str:
        column = self.columns[col]
        if column.timeline is not None:
            if self.is_static[i]:
                return "static"
            t = int(self.times[column.timeline][i])
            return "" if t == NO_TIME else format_time(column.kind, t)
        value = self.cell(i, column)
        return "" if value is None else format_value(column.component or "", value)

    def sort_key(self, col: int) -> tuple[np.ndarray, np.ndarray]:
        """(missing, key) per row for sorting by column ``col``: numbers as numbers, other
        values by their first instance (or their text); rows without a value sort last."""
        column = self.columns[col]
        n = len(self)
        if column.timeline is not None:
            t = self.times[column.timeline]
            return (t == NO_TIME) & ~self.is_static, t
        missing = np.ones(n, dtype=bool)
        key = np.zeros(n, dtype=np.float64)
        texts: list[str | None] = [None] * n
        numeric = True
        for ci, chunk in enumerate(self.chunks):
            if chunk.entity_path != column.entity or column.component not in chunk.components:
                continue
            idx = np.arange(self.bounds[ci], self.bounds[ci + 1])
            arr = chunk.components[column.component].take(pa.array(self.row[idx]))
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


def _lex_sorted(keys: tuple[np.ndarray, ...]) -> bool:
    """Whether rows are already in lexicographic order of ``keys`` (primary key first)."""
    if len(keys[0]) < 2:
        return True
    before = np.zeros(len(keys[0]) - 1, dtype=bool)  # decided: strictly before the next
    tied = np.ones(len(keys[0]) - 1, dtype=bool)
    for key in keys:
        a, b = key[:-1], key[1:]
        before |= tied & (a < b)
        tied &= a == b
    return bool((before | tied).all())


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
