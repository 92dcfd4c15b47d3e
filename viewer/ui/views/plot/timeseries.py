"""Time-series plot of Scalars entities, fast for millions of points.

Peak downsampling and clip-to-view are set on the PlotItem (pyqtgraph 0.14 overwrites item
options in ``addItem``). Curves get ``setData`` only for entities the frame driver reported
as changed (and only when the cached series really is a new array); moving the time cursor
moves an InfiniteLine and touches no curve.

Long series (more than ``DECIMATE_ABOVE`` points) are handed to pyqtgraph already reduced to
a min/max envelope of ~2 points per pixel column of the shown x range: pyqtgraph re-derives
its clipped, downsampled copy of *every* curve on each view-range change, and while data
streams in and the range follows the data that is every setData (measured: ~2 ms per 500 k-point curve
per change, the largest UI cost of a 2 M-row load, docs/benchmarks/gui.md). When the user
zooms or pans (the x range stops following) the envelope is rebuilt for the new range.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainterPath, QTransform
from PySide6.QtWidgets import QWidget

from viewer.store.chunk import TimelineKind
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.arrow_values import scalar_to_x
from viewer.ui.views.base import View
from viewer.ui.views.plot.follow_range import FollowRange
from viewer.ui.views.plot.plot_axes import FastAxisItem, FastDateAxisItem, embed_plot
from viewer.ui.views.plot.plot_series import PlotSeries, SeriesStyle, series_style

SCALARS = "Scalars:scalars"
#: What a curve is handed: x, y, whether all finite, pyqtgraph's ``connect`` mode.
Shown = tuple[np.ndarray, np.ndarray, bool, str]

#: Distinct, readable-on-dark colours; an entity keeps its colour across runs (path hash).
PALETTE = [
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (188, 189, 34), (23, 190, 207), (127, 127, 127),
]


def _asterisk() -> QPainterPath:
    """Three thin bars crossing at the centre (pyqtgraph has no asterisk symbol); symbol
    paths span -0.5..0.5 and are scaled to the symbol size."""
    path = QPainterPath()
    bar = QPainterPath()
    bar.addRect(QRectF(-0.5, -0.07, 1.0, 0.14))
    for angle in (90.0, 30.0, -30.0):
        path = path.united(QTransform().rotate(angle).map(bar))
    return path


#: Rerun's marker shapes as pyqtgraph symbols.
MARKER_SYMBOLS: dict[str, str | QPainterPath] = {
    "circle": "o", "diamond": "d", "square": "s", "cross": "x", "plus": "+", "up": "t1",
    "down": "t", "left": "t3", "right": "t2", "asterisk": _asterisk(),
}


def marker_symbol(name: str) -> str | QPainterPath:
    return MARKER_SYMBOLS.get(name, "o")


def auto_color(entity: EntityPath, instance: int) -> tuple[int, int, int]:
    return PALETTE[(zlib.crc32(str(entity).encode()) + instance) % len(PALETTE)]


#: Series longer than this are given to pyqtgraph as a min/max envelope of the shown range.
DECIMATE_ABOVE = 20_000
#: Envelope buckets per pixel of plot width (each bucket gives a min and a max point).
MIN_BUCKETS = 1000
#: Time one read of new chunks may take in a budgeted (split) update: the chunks per read
#: follow from the measured cost per chunk (within ``READ_CHUNKS_MIN``..``MAX``), so a
#: slice stays at a few ms however large the backlog (docs/benchmarks/gui.md). A cycle
#: reads the backlog an entity had when the cycle began; what arrives meanwhile waits.
READ_SLICE_S = 0.004
READ_CHUNKS_MIN, READ_CHUNKS_MAX = 16, 512


def peak_envelope(x: np.ndarray, y: np.ndarray, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) with each run of samples replaced by its min and max (NaN ignored unless the
    whole run is NaN); the samples that do not fill a whole run are kept as they are."""
    n = len(x)
    size = max(1, -(-n // max(1, buckets)))
    if size == 1:
        return x, y
    full = n // size * size
    runs = y[:full].reshape(-1, size)
    lo = np.fmin.reduce(runs, axis=1)
    hi = np.fmax.reduce(runs, axis=1)
    xs = x[:full:size]
    out_x = np.empty(2 * len(xs) + (n - full))
    out_y = np.empty_like(out_x)
    out_x[0:2 * len(xs):2] = xs
    out_x[1:2 * len(xs):2] = xs
    out_y[0:2 * len(xs):2] = lo
    out_y[1:2 * len(xs):2] = hi
    out_x[2 * len(xs):] = x[full:]
    out_y[2 * len(xs):] = y[full:]
    return out_x, out_y


class TimeSeriesView(View):
    """One curve per (entity, scalar instance); a draggable line marks the time cursor."""

    kind_name = "Time series"

    def __init__(self, db: EntityDb, entities: Iterable[EntityPath], time_control: TimeControl,
                 title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(db, entities, time_control, title, parent)
        self.plot_widget, self.plot_item = embed_plot(self)
        self.plot_item.setDownsampling(auto=True, mode="peak")
        self.plot_item.setClipToView(True)
        self.plot_item.showGrid(x=True, y=True, alpha=0.25)
        self.legend = self.plot_item.addLegend(offset=(10, 10))
        self.cursor_line = pg.InfiniteLine(
            angle=90, movable=True, pen=pg.mkPen((255, 204, 0), width=1.5),
            hoverPen=pg.mkPen((255, 230, 120), width=3))
        self.cursor_line.setZValue(100)
        self.cursor_line.setVisible(False)
        self.plot_item.addItem(self.cursor_line, ignoreBounds=True)
        self.cursor_line.sigDragged.connect(self._on_cursor_dragged)
        self.curves: dict[tuple[EntityPath, int], pg.PlotDataItem] = {}
        # x and envelope per curve, updated by converting only appended rows.
        self._series: dict[tuple[EntityPath, int], PlotSeries] = {}
        self._decimated: set[tuple[EntityPath, int]] = set()  # keys shown as an envelope
        self._range_pending = False
        # The range follows the data as set here (not pyqtgraph's auto-range: follow_range.py).
        self.follow = FollowRange(self.plot_item.getViewBox(), self._on_follow_again)
        self.plot_item.getViewBox().sigXRangeChanged.connect(self._on_x_range_changed)
        self._dirty: set[EntityPath] = set(self.entities)
        self._cycle: list[EntityPath] = []  # entities of the update cycle still to read
        self._backlog: dict[EntityPath, int] = {}  # chunks left of the cycle's backlog
        self._chunk_cost = READ_SLICE_S / 96  # seconds per chunk read (measured, smoothed)
        # Read and reduced, not handed to pyqtgraph yet (see ``_display_data``).
        self._unshown: dict[tuple[EntityPath, int], Shown] = {}
        self._axis_state: tuple[str | None, TimelineKind | None] | None = None
        self._kind: TimelineKind | None = None
        # Series styles by the rows they were read from; curves drawn as markers.
        self._styles: dict[EntityPath, tuple[tuple, SeriesStyle]] = {}
        self._scatter: set[tuple[EntityPath, int]] = set()

    @classmethod
    def accepts(cls, db: EntityDb, entity: EntityPath) -> bool:
        return SCALARS in db.components(entity)

    # ------------------------------------------------------------------ updates

    def invalidate(self, entities: Iterable[EntityPath]) -> None:
        # Dirty entities re-read their series; setData follows only if the store's cached
        # series is a new array (so a spurious report costs a lookup, not a setData).
        self._dirty.update(entities)

    def redraw(self) -> None:
        timeline = self.time_control.timeline
        kind = self.db.timelines().get(timeline) if timeline else None
        if self._axis_state != (timeline, kind):
            self._set_timeline(timeline, kind)
        budget = self.work_budget_s()
        if budget is None or not (self._cycle or self._unshown):
            self._start_cycle(timeline, budgeted=budget is not None)
        deadline = None if budget is None else time.perf_counter() + budget
        prepared = 0
        while self._cycle:
            if prepared and deadline is not None and time.perf_counter() >= deadline:
                self.continue_next_frame()  # the other curves next frame
                return
            entity = self._cycle.pop(0)
            if entity not in self.entities:
                continue
            try:
                if budget is None:
                    self._refresh_entity(entity, timeline)
                else:
                    self._read_slice(entity, timeline)
            except Exception as exc:  # one entity's bad data must not blank the others
                self.report_entity_error(entity, f"{type(exc).__name__}: {exc}")
            else:
                self.report_entity_error(entity, None)
            prepared += 1
        if prepared and deadline is not None and self._unshown \
                and time.perf_counter() >= deadline - budget / 2:
            # Hand the curves over (setData, range, and the repaint that follows: 10-15 ms
            # for long series) in a frame of its own, not on top of this frame's reading.
            self.continue_next_frame()
            return
        # All curves of the cycle change in one go: one repaint of the plot per cycle.
        handed = [k for k in self.curves if k in self._unshown and k in self._series]
        for key in handed:
            self._show(key, self._unshown[key])
        self._unshown.clear()
        if handed:
            self._apply_range()
        self._dirty.intersection_update(self.entities)
        if self._range_pending:
            self._range_pending = False
            for key in [k for k in self._decimated if k in self._series]:
                self._show(key)
        self._move_cursor()
        self._settle_for_paint()
        if self._dirty:
            # Backlog left for the next cycle (or data that arrived during this one): a
            # throttled redraw picks it up even if no more data comes.
            self._request_redraw(urgent=False)

    def _start_cycle(self, timeline: str | None, budgeted: bool) -> None:
        """A new update cycle takes the entities dirty now; ones that get data while the
        cycle is split over frames wait for the next (throttled) cycle, so a stream does
        not keep the plot redrawing every frame."""
        self._cycle.extend(e for e in self.entities if e in self._dirty and e not in self._cycle)
        self._dirty.difference_update(self._cycle)
        self._backlog.clear()
        if budgeted and timeline is not None:
            for e in self._cycle:  # the backlog each entity has now
                self._backlog[e] = self._pending(e, timeline)

    def _read_slice(self, entity: EntityPath, timeline: str | None) -> None:
        """One budgeted read: ~``READ_SLICE_S`` worth of ``entity``'s new chunks (from the
        measured cost per chunk); the entity stays in the cycle until the backlog it had
        when the cycle began is read."""
        limit = min(READ_CHUNKS_MAX, max(READ_CHUNKS_MIN, int(READ_SLICE_S / self._chunk_cost)))
        before, t0 = self._pending(entity, timeline), time.perf_counter()
        more = self._refresh_entity(entity, timeline, limit)
        done = before - self._pending(entity, timeline)
        if done > 0:  # cost per chunk read, smoothed
            self._chunk_cost = 0.7 * self._chunk_cost + 0.3 * (time.perf_counter() - t0) / done
        left = self._backlog[entity] = self._backlog.get(entity, 0) - done
        if more and left > 0:
            self._cycle.insert(0, entity)  # the rest of its backlog, next slice
        elif more:
            self._dirty.add(entity)  # left for the next cycle

    def _settle_for_paint(self) -> None:
        """Apply a new view range's transform now. pyqtgraph applies it at the start of the
        next paint, where the curves and the cursor line then change geometry and Qt paints
        the plot a second time (~5-15 ms more per plot update; docs/benchmarks/gui.md)."""
        self.plot_item.getViewBox().prepareForPaint()
        self.cursor_line.boundingRect()

    def _set_timeline(self, timeline: str | None, kind: TimelineKind | None) -> None:
        self._axis_state = (timeline, kind)
        self._kind = kind
        if kind is TimelineKind.TIMESTAMP:
            axis: pg.AxisItem = FastDateAxisItem(orientation="bottom")
        else:
            axis = FastAxisItem(orientation="bottom")
            if kind is TimelineKind.DURATION:
                axis.setLabel(units="s")
        self.plot_item.setAxisItems({"bottom": axis})
        self.plot_item.setLabel("bottom", timeline or "")
        self._series.clear()
        self._decimated.clear()
        self._cycle.clear()
        self._unshown.clear()
        self._dirty.update(self.entities)
        self.follow.reset()

    def _pending(self, entity: EntityPath, timeline: str | None) -> int:
        """New chunks of ``entity`` not read into its (first) series yet."""
        return self.db.scalar_series_pending(entity, SCALARS, timeline) if timeline else 0

    def _style(self, entity: EntityPath) -> tuple[SeriesStyle, bool]:
        """The entity's series style, and whether it changed since its curves were styled
        (a few lookups, only for entities with SeriesLines / SeriesPoints components)."""
        key, style = series_style(self.db, entity, self.time_control.timeline)
        old = self._styles.get(entity)
        if old is not None and old[0] == key:
            return old[1], False
        self._styles[entity] = (key, style)
        return style, old is not None

    def _new_curve(self, entity: EntityPath, i: int, count: int,
                   style: SeriesStyle) -> pg.PlotDataItem:
        label = style.name(i) or (str(entity) if count == 1 else f"{entity}[{i}]")
        curve = pg.PlotDataItem(name=label)
        self._apply_style(curve, (entity, i), style)
        self.plot_item.addItem(curve)
        return curve

    def _apply_style(self, curve: pg.PlotDataItem, key: tuple[EntityPath, int],
                     style: SeriesStyle) -> None:
        """Lines: the logged width in pixels; points: markers of the logged shape and size
        (a radius in UI points, so twice that across) and no line between them; a hidden
        series (``visible_series`` false) is not drawn but keeps its legend entry."""
        entity, i = key
        rgba = style.color(i)
        rgb = tuple(int(c) for c in rgba[:3]) if rgba is not None else auto_color(entity, i)
        if style.points:
            self._scatter.add(key)
            curve.setPen(None)
            curve.setSymbol(marker_symbol(style.marker(i)))
            curve.setSymbolSize(2.0 * style.marker_size(i))
            curve.setSymbolBrush(pg.mkBrush(rgb))
            curve.setSymbolPen(None)
        else:
            self._scatter.discard(key)
            curve.setSymbol(None)
            curve.setPen(pg.mkPen(rgb, width=style.width(i)))
        curve.setVisible(style.is_visible(i))

    def _refresh_entity(self, entity: EntityPath, timeline: str | None,
                        limit: int | None = None) -> bool:
        """Read the entity's new data (at most ``limit`` new chunks); True if more is left."""
        first: tuple[np.ndarray, np.ndarray] | None = None
        count = 0
        if timeline is not None:  # instance 0 first: its read counts the values per row
            first = self.db.scalar_series(entity, SCALARS, timeline, max_chunks=limit)
            count = self.db.scalar_series_width(entity, SCALARS, timeline)
        more = False
        style, restyle = self._style(entity)
        for i in range(max(count, 1)):
            key = (entity, i)
            curve = self.curves.get(key)
            if timeline is None or i >= count:
                if curve is not None:
                    curve.setData([], [])
                    self._series.pop(key, None)
                    self._decimated.discard(key)
                    self._unshown.pop(key, None)
                continue
            times, values = first if i == 0 else self.db.scalar_series(
                entity, SCALARS, timeline, instance=i, max_chunks=limit)
            if limit is not None and self.db.scalar_series_pending(
                    entity, SCALARS, timeline, instance=i):
                more = True
            if curve is None:
                curve = self.curves[key] = self._new_curve(entity, i, count, style)
            elif restyle:
                self._apply_style(curve, key, style)
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = PlotSeries(self._kind)
            serial = self.db.scalar_series_serial(entity, SCALARS, timeline, instance=i)
            if not series.update(serial, times, values):
                continue  # the store's cached series did not change
            self._unshown[key] = self._display_data(key)
        return more

    def _display_data(self, key: tuple[EntityPath, int]) -> Shown:
        """What the curve is given: all of its data, or the envelope of the shown x range
        (whether that is all finite, and how to connect the points)."""
        series = self._series[key]
        x, y = series.x, series.values
        if len(x) > DECIMATE_ABOVE:
            vb = self.plot_item.getViewBox()
            width = max(1, int(vb.width()) if vb.width() else 0)
            buckets = max(MIN_BUCKETS, 2 * width)
            if self.follow.follow[0] and key not in self._scatter:  # extend the envelope
                x, y = series.envelope(buckets)
                if bool(np.isfinite(y).all()):
                    return x, y, True, "pairs"  # vertical segments (PeakEnvelope.segments)
                x, y = peak_envelope(series.x, series.values, buckets)  # NaN: break the line
            else:  # markers keep real samples: the min and max of each run
                if not self.follow.follow[0]:  # zoomed / panned: the shown range, plus a margin
                    x0, x1 = vb.viewRange()[0]
                    span = x1 - x0
                    lo = int(np.searchsorted(x, x0 - span, side="left"))
                    hi = int(np.searchsorted(x, x1 + span, side="right"))
                    x, y = x[max(0, lo - 1):hi + 1], y[max(0, lo - 1):hi + 1]
                x, y = peak_envelope(x, y, buckets)
        finite = bool(np.isfinite(y).all())
        return x, y, finite, "all" if finite else "finite"

    def _show(self, key: tuple[EntityPath, int],
              shown: Shown | None = None) -> None:
        """Give the curve its data (``shown``: prepared by ``_display_data`` before)."""
        x, y, finite, connect = shown if shown is not None else self._display_data(key)
        if len(self._series[key].x) > DECIMATE_ABOVE:
            self._decimated.add(key)
        else:
            self._decimated.discard(key)
        self.curves[key].setData(x, y, skipFiniteCheck=finite, connect=connect)

    def _apply_range(self) -> None:
        """Followed axes show the bounds of all curves (before anything paints)."""
        shown = [(s.x[0], s.x[-1], *s.y_range)
                 for k, s in self._series.items() if k in self.curves and len(s.x)]
        if not shown:
            return
        b = np.array(shown)
        self.follow.apply((b[:, 0].min(), b[:, 1].max()),
                          (np.fmin.reduce(b[:, 2]), np.fmax.reduce(b[:, 3])))

    def _on_follow_again(self) -> None:
        """The auto button / menu switched following back on: fit, and rebuild envelopes."""
        self._apply_range()
        if self._decimated:
            self._range_pending = True
            self._request_redraw()

    def _on_x_range_changed(self, *_args: object) -> None:
        """The user zoomed or panned: rebuild the envelopes for the new range (coalesced).
        While x follows the data the envelope covers all of it already: nothing to do."""
        if not self._decimated or self.follow.follow[0]:
            return
        self._range_pending = True
        self._request_redraw()

    # ------------------------------------------------------------------ cursor

    def _move_cursor(self) -> None:
        t = self.time_control.time
        if t is None or self.time_control.timeline is None:
            self.cursor_line.setVisible(False)
            return
        self.cursor_line.setVisible(True)
        self.cursor_line.setPos(scalar_to_x(t, self._kind))

    def _on_time_changed(self, _t: object) -> None:
        # Only the line moves: no redraw of curves, no coalescing delay. A cursor that only
        # follows arriving data moves with the throttled redraw instead (every move repaints
        # the whole plot: axes and curves, ~20 ms for millions of points).
        if self.time_control.moved_by_data:
            self._request_redraw(urgent=False)
        elif self._axis_state == (self.time_control.timeline, self._kind) and not self._dirty:
            self._move_cursor()
        else:
            self._request_redraw()

    def _on_cursor_dragged(self) -> None:
        x = float(self.cursor_line.value())
        if self._kind in (TimelineKind.TIMESTAMP, TimelineKind.DURATION):
            t = int(round(x * 1e9))
        else:
            t = int(round(x))
        self.time_control.set_time(t)

    def curve_data(self, entity: EntityPath, instance: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """The full (x, y) data of a curve (before downsampling), for tests and tooltips."""
        series = self._series.get((entity, instance))
        if series is None or (entity, instance) not in self.curves:
            return np.empty(0), np.empty(0)
        return series.x, series.values
