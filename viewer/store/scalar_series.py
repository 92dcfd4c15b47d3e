"""Cached scalar series for plots: (time, value) of one component on one timeline.

A plot asks for the same series every frame while rows keep arriving, so `EntityDb`
keeps one `ScalarSeries` per (component, timeline, instance) of an entity and extends it
with the chunks inserted since (`extend_series`): appended in place when the new rows all
come after the cached ones (the live case), rebuilt and sorted from all chunks otherwise.
Reading many small chunks is batched (one concat of their list columns, numpy for the
rest), so a chunk costs little Python.
"""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa

from viewer.store.append_buffer import AppendBuffer
from viewer.store.chunk import Chunk, rows_sorted


class ScalarSeries:
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
        self.serial = next(ScalarSeries._serials)
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
        self.serial = next(ScalarSeries._serials)
        self._tbuf, self._vbuf = AppendBuffer.of(times), AppendBuffer.of(values)
        self._publish()

    def append(self, times: np.ndarray, values: np.ndarray) -> None:
        self._tbuf.append(times)
        self._vbuf.append(values)
        self._publish()

    def _publish(self) -> None:
        # Earlier views stay valid: appends only write past their end.
        self.times, self.values = self._tbuf.view(), self._vbuf.view()




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
        if not rows_sorted(times, hi, lo):
            order = np.lexsort((lo, hi, times))
            times, hi, lo, values = times[order], hi[order], lo[order], values[order]
        first = (int(times[0]), int(hi[0]), int(lo[0]))
        last = (int(times[-1]), int(hi[-1]), int(lo[-1]))
    else:
        first = (int(times[0]), *part.edge_row_id(last=False))
        last = (int(times[-1]), *part.edge_row_id(last=True))
    # Views are fine: they alias immutable arrow buffers or arrays made just for us.
    return times.view(), values.view(), first, last


def extend_series(
    series: ScalarSeries, log: list[Chunk], component: str, timeline: str, instance: int,
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


# ---------------------------------------------------------------------- wide rows

class BandSeries:
    """Per row, the min and max of the instances of a wide component outside the window
    ``curves`` (start, stop) that a plot draws as curves: the rest as one band instead of
    thousands of curves. Built a chunk run at a time, each with one vectorized pass over
    the list column (not one pass per instance)."""

    __slots__ = ("_bufs", "consumed", "curves", "epoch", "hi", "last_key", "lo", "serial",
                 "times")

    _serials = itertools.count()

    def __init__(self, epoch: int, curves: tuple[int, int]) -> None:
        self.epoch = epoch
        self.curves = curves
        self.serial = next(BandSeries._serials)
        self.consumed = 0
        self.last_key: tuple[int, int, int] | None = None
        # Growing columns as in ScalarSeries: a live row appends, it does not copy the band.
        self._bufs = (AppendBuffer(np.int64), AppendBuffer(np.float64), AppendBuffer(np.float64))
        self._publish()

    def replace(self, times: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        self.serial = next(BandSeries._serials)
        self._bufs = (AppendBuffer.of(times), AppendBuffer.of(lo), AppendBuffer.of(hi))
        self._publish()

    def append(self, times: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        for buf, new in zip(self._bufs, (times, lo, hi), strict=True):
            buf.append(new)
        self._publish()

    def _publish(self) -> None:
        self.times, self.lo, self.hi = (buf.view() for buf in self._bufs)


def _segment_min_max(flat: np.ndarray, starts: np.ndarray,
                     ends: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, min, max) of ``flat[starts[r]:ends[r]]`` for the rows r where that is not
    empty: one ``reduceat`` over the interleaved bounds (the odd entries reduce the gaps
    between rows and are dropped)."""
    rows = np.flatnonzero(ends > starts)
    if len(rows) == 0:
        return rows, np.empty(0), np.empty(0)
    bounds = np.empty(2 * len(rows), dtype=np.int64)
    bounds[0::2], bounds[1::2] = starts[rows], ends[rows]
    if bounds[-1] >= len(flat):
        bounds = bounds[:-1]
    return rows, np.fmin.reduceat(flat, bounds)[0::2], np.fmax.reduceat(flat, bounds)[0::2]


def row_min_max(arr: pa.Array,
                curves: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, min, max) of each list in ``arr`` over its values outside the index window
    ``curves`` = (start, stop); rows with no such value, or null, are left out (NaN is
    ignored unless all are NaN)."""
    start, stop = curves
    offsets = arr.offsets.to_numpy().astype(np.int64)
    offs, ends = offsets[:-1], offsets[1:]
    child = arr.values
    if child.type != pa.float64():
        child = child.cast(pa.float64())
    flat = child.to_numpy(zero_copy_only=False)
    n = len(arr)
    lo, hi = np.full(n, np.nan), np.full(n, np.nan)
    has = np.zeros(n, dtype=bool)
    for seg_start, seg_end in ((offs, np.minimum(offs + start, ends)), (offs + stop, ends)):
        rows, seg_lo, seg_hi = _segment_min_max(flat, seg_start, seg_end)
        lo[rows] = np.fmin(lo[rows], seg_lo)
        hi[rows] = np.fmax(hi[rows], seg_hi)
        has[rows] = True
    if arr.null_count:
        has &= arr.is_valid().to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(has)
    return rows, lo[rows], hi[rows]


def _band_part(chunks: list[Chunk], component: str, timeline: str,
               curves: tuple[int, int]) -> _Part | None:
    """Times and (n, 2) [min, max] values of the rows of ``chunks`` with an instance
    outside ``curves``, one vectorized pass per chunk."""
    times: list[np.ndarray] = []
    values: list[np.ndarray] = []
    rid_blocks: list[np.ndarray] = []
    for chunk in chunks:
        tc = chunk.timelines.get(timeline)
        arr = chunk.components.get(component)
        if tc is None or arr is None or chunk.num_rows == 0:
            continue
        rows, lo, hi = row_min_max(arr, curves)
        if len(rows) == 0:
            continue
        times.append(tc.times[rows])
        values.append(np.column_stack([lo, hi]))
        rid_blocks.append(chunk.row_ids[rows])
    if not times:
        return None
    return _Part(np.concatenate(times), np.concatenate(values), rid_blocks, None)


def extend_band(band: BandSeries, log: list[Chunk], component: str, timeline: str,
                max_chunks: int | None = None) -> None:
    """Read the chunks of ``log`` not in ``band`` yet (at most ``max_chunks``): appended
    when they all come after its rows, else the band is rebuilt from every chunk read."""
    end = len(log) if max_chunks is None else min(len(log), band.consumed + max(1, max_chunks))
    part = _band_part(log[band.consumed:end], component, timeline, band.curves)
    band.consumed = end
    if part is None:
        return
    times, values, first_key, last_key = _sorted_part(part)
    if band.last_key is None or first_key > band.last_key:
        band.append(times, np.ascontiguousarray(values[:, 0]), np.ascontiguousarray(values[:, 1]))
    else:  # a row in the past: rebuild from all chunks read so far
        whole = _band_part(log[:end], component, timeline, band.curves)
        assert whole is not None
        times, values, _, last_key = _sorted_part(whole)
        band.replace(times, values[:, 0].copy(), values[:, 1].copy())
    band.last_key = last_key
