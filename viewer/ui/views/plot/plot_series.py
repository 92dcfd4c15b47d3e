"""A curve's data as the time-series plot needs it, kept up to date by appending.

While a recording loads, each plot update used to convert a curve's whole series to plot x
and reduce all of it to a min/max envelope again: O(rows) per update, 10-20 ms per frame for
the four 500 k-row curves of a 2 M-row load (docs/benchmarks/gui.md). The store says when a
series only grew at its end (`EntityDb.scalar_series_serial`); then only the new rows are
converted and bucketed. No Qt here: plain numpy, testable on its own.

``series_style`` reads how Rerun users style a series (SeriesLines widths / colours / names /
visible series, SeriesPoints markers and sizes), keyed by the rows it read so a plot
restyles only when they change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from viewer.store.append_buffer import AppendBuffer
from viewer.store.chunk import TimelineKind
from viewer.store.entity_db import EntityDb, LatestAtResult
from viewer.store.entity_path import EntityPath
from viewer.ui.views.arrow_values import time_to_x


class PeakEnvelope:
    """Min and max of each run of ``size`` samples (a power of two) of an append-only series,
    at most ``max_buckets`` runs: as the series grows, neighbouring runs merge pairwise."""

    def __init__(self) -> None:
        self.size = 1
        self.x0 = np.empty(0)  # x of each run's first sample
        self.lo = np.empty(0)
        self.hi = np.empty(0)

    @property
    def buckets(self) -> int:
        return len(self.lo)

    def extend(self, x: np.ndarray, y: np.ndarray, max_buckets: int) -> None:
        """Cover ``x``/``y``, which must extend the series seen so far."""
        max_buckets = max(1, max_buckets)
        n = len(y)
        while n // self.size > max_buckets:
            self._merge()
        start = self.buckets * self.size
        k = (n - start) // self.size
        if k > 0:
            runs = y[start:start + k * self.size].reshape(k, self.size)
            self.lo = np.concatenate([self.lo, np.fmin.reduce(runs, axis=1)])
            self.hi = np.concatenate([self.hi, np.fmax.reduce(runs, axis=1)])
            self.x0 = np.concatenate([self.x0, x[start:start + k * self.size:self.size]])

    def _merge(self) -> None:
        m = self.buckets // 2  # an odd last run goes back to the raw tail
        self.lo = np.fmin(self.lo[0:2 * m:2], self.lo[1:2 * m:2])
        self.hi = np.fmax(self.hi[0:2 * m:2], self.hi[1:2 * m:2])
        self.x0 = self.x0[0:2 * m:2].copy()
        self.size *= 2

    def segments(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The curve as vertical segments, one per run (min to max), each stretched to
        meet its neighbour's range so the line stays continuous; the samples after the
        last full run become segments from the previous value to theirs. Drawn as
        disconnected pairs (``connect="pairs"``): a zigzag through the same points also
        strokes a diagonal back across the whole range between every two runs, twice the
        pixels for dense data (4 curves: 10.2 -> 5.3 ms, scripts/bench_plot_paint.py)."""
        done = self.buckets * self.size
        lo = np.concatenate([self.lo, y[done:]])
        hi = np.concatenate([self.hi, y[done:]])
        xs = np.concatenate([self.x0, x[done:]])
        if len(lo) > 1:  # reach the previous run's range (NaN neighbours ignored)
            lo[1:], hi[1:] = np.fmin(lo[1:], hi[:-1]), np.fmax(hi[1:], lo[:-1])
        out_x = np.repeat(xs, 2)
        out_y = np.empty(2 * len(lo))
        out_y[0::2] = lo
        out_y[1::2] = hi
        return out_x, out_y


def merge_columns(x: np.ndarray, y: np.ndarray, x0: float, x1: float,
                  width: int) -> tuple[np.ndarray, np.ndarray]:
    """Vertical segments (`PeakEnvelope.segments`: x repeated, y min/max interleaved) merged
    to one per pixel column of a ``width``-pixel plot showing ``x0``..``x1``: the min of the
    mins and the max of the maxes of the segments in a column, at the first one's x.

    The envelope keeps 1-2 runs per pixel (its runs are powers of two), so a dense band
    drew every column about 1.5 times; its paint is the pixels filled (4 full-height curves
    of 2 000 segments, 1054 px: 17-25 ms), while the picture is the same to a pixel."""
    n = len(x) // 2
    if n <= 1 or width < 1 or not x1 > x0:
        return x, y
    xs = x[0::2]
    col = np.floor((xs - x0) * (width / (x1 - x0)))
    starts = np.flatnonzero(np.concatenate(([True], col[1:] != col[:-1])))
    if len(starts) == n:
        return x, y
    out_x = np.repeat(xs[starts], 2)
    out_y = np.empty(2 * len(starts))
    out_y[0::2] = np.minimum.reduceat(y[0::2], starts)
    out_y[1::2] = np.maximum.reduceat(y[1::2], starts)
    return out_x, out_y


class PlotSeries:
    """One curve: plot x for every row, the value range and a min/max envelope, updated
    from the store's series by converting only appended rows. ``offset`` (timeline units)
    is subtracted from every time first: a compared run shown as time since its start."""

    def __init__(self, kind: TimelineKind | None, offset: int = 0) -> None:
        self.kind = kind
        self.offset = offset
        self.serial: int | None = None
        self._xbuf = AppendBuffer(np.float64)
        self.x = self._xbuf.view()
        self.values = np.empty(0)
        self.y_range = (np.nan, np.nan)  # (min, max) of the values, NaN ignored
        self._envelope: PeakEnvelope | None = None
        self._envelope_max = 0

    def update(self, serial: int | None, times: np.ndarray, values: np.ndarray) -> bool:
        """Take the store's series; False if it is the one already held (nothing to do)."""
        n_old, n = len(self.x), len(times)
        appended = serial is not None and serial == self.serial and n >= n_old
        if appended and n == n_old:
            return False
        new = values[n_old:] if appended else values
        if appended:
            self._xbuf.append(self._to_x(times[n_old:]))
            lo, hi = self.y_range
        else:
            self._xbuf = AppendBuffer.of(self._to_x(times))
            self._envelope = None  # earlier rows may differ: rebuild
            lo = hi = np.nan
        if len(new):
            lo = float(np.fmin(lo, np.fmin.reduce(new)))
            hi = float(np.fmax(hi, np.fmax.reduce(new)))
        self.y_range = (lo, hi)
        self.x = self._xbuf.view()
        self.serial = serial
        self.values = values
        return True

    def _to_x(self, times: np.ndarray) -> np.ndarray:
        return time_to_x(times - self.offset if self.offset else times, self.kind)

    def envelope(self, max_buckets: int) -> tuple[np.ndarray, np.ndarray]:
        """All rows as a min/max envelope of at most ``max_buckets`` runs (plus a short raw
        tail), as vertical segments to draw as pairs (`PeakEnvelope.segments`). Built once,
        then extended; rebuilt finer when more buckets are allowed."""
        env = self._envelope
        if env is None or max_buckets > 2 * self._envelope_max:
            env = self._envelope = PeakEnvelope()
            self._envelope_max = max_buckets
        env.extend(self.x, self.values, min(max_buckets, self._envelope_max))
        return env.segments(self.x, self.values)


# ---------------------------------------------------------------------- series styling

#: Rerun's MarkerShape values (as rerun-sdk writes them) by name.
MARKER_SHAPES = {1: "circle", 2: "diamond", 3: "square", 4: "cross", 5: "plus", 6: "up",
                 7: "down", 8: "left", 9: "right", 10: "asterisk"}
#: Marker radius in UI points when none is logged (Rerun's default).
DEFAULT_MARKER_SIZE = 3.0
#: Line width in pixels when none is logged.
DEFAULT_LINE_WIDTH = 1.0
LINE_FIELDS = ("colors", "widths", "names", "visible_series")
POINT_FIELDS = ("colors", "markers", "marker_sizes", "names", "visible_series")
_LATEST = np.iinfo(np.int64).max


@dataclass(frozen=True, slots=True)
class SeriesStyle:
    """How an entity's series are drawn, from its SeriesLines / SeriesPoints components.

    Each per-series list follows Rerun's clamping: series past the end of a list take its
    last value; an empty list leaves the default. ``points``: the entity has SeriesPoints
    (and no SeriesLines): a scatter of markers, not a connected line."""

    points: bool = False
    names: tuple[str, ...] = ()
    colors: tuple[tuple[int, int, int, int], ...] = ()
    widths: tuple[float, ...] = ()
    visible: tuple[bool, ...] = ()
    markers: tuple[str, ...] = ()
    marker_sizes: tuple[float, ...] = ()

    @staticmethod
    def _pick(values: tuple, i: int, default: object) -> object:
        if not values:
            return default
        return values[min(i, len(values) - 1)]

    def name(self, i: int) -> str | None:
        # Names are not repeated: series past the list get the last name and their index.
        if i < len(self.names):
            return self.names[i]
        return f"{self.names[-1]}[{i}]" if self.names else None

    def color(self, i: int) -> tuple[int, int, int, int] | None:
        return self._pick(self.colors, i, None)  # type: ignore[return-value]

    def width(self, i: int) -> float:
        return float(self._pick(self.widths, i, DEFAULT_LINE_WIDTH))  # type: ignore[arg-type]

    def is_visible(self, i: int) -> bool:
        return bool(self._pick(self.visible, i, True))

    def marker(self, i: int) -> str:
        return str(self._pick(self.markers, i, "circle"))

    def marker_size(self, i: int) -> float:
        return float(self._pick(self.marker_sizes, i, DEFAULT_MARKER_SIZE))  # type: ignore[arg-type]


def _style_result(db: EntityDb, entity: EntityPath, component: str,
                  timeline: str | None) -> LatestAtResult | None:
    """The style row in effect: the static one, else the latest logged on ``timeline``."""
    res = db.latest_static(entity, component)
    if res is None and timeline is not None:
        res = db.latest_at(entity, component, timeline, _LATEST)
    return res


def _flat_list(cell: pa.Array) -> list:
    while pa.types.is_list(cell.type) or pa.types.is_large_list(cell.type):
        cell = cell.flatten()
    return cell.to_pylist()


def series_style(db: EntityDb, entity: EntityPath,
                 timeline: str | None) -> tuple[tuple, SeriesStyle]:
    """(key, style) of ``entity``: equal keys, equal styles (the key names the rows read),
    so a plot restyles its curves only when a style row changed. Looks up only the style
    components the entity has (none for plain Scalars)."""
    comps = [c for c in db.components(entity) if c.startswith(("SeriesLines:", "SeriesPoints:"))]
    if not comps:
        return (), SeriesStyle()
    points = any(c.startswith("SeriesPoints:") for c in comps) and \
        not any(c.startswith("SeriesLines:") for c in comps)
    archetype = "SeriesPoints" if points else "SeriesLines"
    values: dict[str, list] = {}
    key: list[object] = [points]
    for field_name in POINT_FIELDS if points else LINE_FIELDS:
        res = _style_result(db, entity, f"{archetype}:{field_name}", timeline)
        key.append(None if res is None else (res.chunk.id, res.row))
        values[field_name] = [] if res is None else _flat_list(res.value)
    colors = tuple(((int(c) >> 24) & 0xFF, (int(c) >> 16) & 0xFF, (int(c) >> 8) & 0xFF,
                    int(c) & 0xFF) for c in values["colors"] if c is not None)
    style = SeriesStyle(
        points=points,
        names=tuple(str(n) if n is not None else "" for n in values["names"]),
        colors=colors,
        widths=tuple(float(w) for w in values.get("widths", []) if w is not None),
        visible=tuple(bool(v) for v in values["visible_series"] if v is not None),
        markers=tuple(MARKER_SHAPES.get(int(m), "circle") for m in values.get("markers", [])
                      if m is not None),
        marker_sizes=tuple(float(s) for s in values.get("marker_sizes", []) if s is not None),
    )
    return tuple(key), style
