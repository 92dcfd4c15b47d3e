"""Time-series plot of Scalars entities, fast for millions of points.

Peak downsampling and clip-to-view are set on the PlotItem (pyqtgraph 0.14 overwrites item
options in ``addItem``). Curves get ``setData`` only for entities the frame driver reported
as changed (and only when the cached series really is a new array); moving the time cursor
moves an InfiniteLine and touches no curve.
"""

from __future__ import annotations

import weakref
import zlib
from collections.abc import Iterable

import numpy as np
import pyarrow.compute as pc
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from viewer.store.chunk import TimelineKind
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.arrow_values import colors_rgba, scalar_to_x, strings, time_to_x
from viewer.ui.views.base import View

SCALARS = "Scalars:scalars"
SERIES_NAMES = ("SeriesLines:names", "SeriesPoints:names")
SERIES_COLORS = ("SeriesLines:colors", "SeriesPoints:colors")

#: Distinct, readable-on-dark colours; an entity keeps its colour across runs (path hash).
PALETTE = [
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (188, 189, 34), (23, 190, 207), (127, 127, 127),
]


def auto_color(entity: EntityPath, instance: int) -> tuple[int, int, int]:
    return PALETTE[(zlib.crc32(str(entity).encode()) + instance) % len(PALETTE)]


def _length(array: np.ndarray | None) -> int:
    return 0 if array is None else len(array)


class TimeSeriesView(View):
    """One curve per (entity, scalar instance); a draggable line marks the time cursor."""

    kind_name = "Time series"

    def __init__(self, db: EntityDb, entities: Iterable[EntityPath], time_control: TimeControl,
                 title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(db, entities, time_control, title, parent)
        self.plot_widget = pg.PlotWidget(parent=self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot_widget)
        self.plot_item: pg.PlotItem = self.plot_widget.getPlotItem()
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
        self._series_ids: dict[tuple[EntityPath, int], weakref.ref[np.ndarray]] = {}
        self._instance_counts: dict[bytes, int] = {}  # chunk id -> max scalars per row
        self._dirty: set[EntityPath] = set(self.entities)
        self._axis_state: tuple[str | None, TimelineKind | None] | None = None
        self._kind: TimelineKind | None = None

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
        if self._dirty:
            dirty, self._dirty = self._dirty, set()
            for entity in self.entities:
                if entity in dirty:
                    self._refresh_entity(entity, timeline)
        self._move_cursor()

    def _set_timeline(self, timeline: str | None, kind: TimelineKind | None) -> None:
        self._axis_state = (timeline, kind)
        self._kind = kind
        if kind is TimelineKind.TIMESTAMP:
            axis: pg.AxisItem = pg.DateAxisItem(orientation="bottom")
        else:
            axis = pg.AxisItem(orientation="bottom")
            if kind is TimelineKind.DURATION:
                axis.setLabel(units="s")
        self.plot_item.setAxisItems({"bottom": axis})
        self.plot_item.setLabel("bottom", timeline or "")
        self._series_ids.clear()
        self._dirty.update(self.entities)
        self.plot_item.enableAutoRange()

    def _instance_count(self, entity: EntityPath) -> int:
        """Most scalars in one row of this entity (one curve per instance index)."""
        counts = self._instance_counts
        best = 0
        for chunk in self.db.chunks_of(entity):
            n = counts.get(chunk.id)
            if n is None:
                arr = chunk.components.get(SCALARS)
                n = 0
                if arr is not None and len(arr):
                    m = pc.max(pc.list_value_length(arr)).as_py()
                    n = int(m or 0)
                counts[chunk.id] = n
            best = max(best, n)
        return best

    def _series_style(self, entity: EntityPath, count: int) -> tuple[list[str], np.ndarray | None]:
        names: list[str] = []
        colors = None
        for comp in SERIES_NAMES:
            res = self.db.latest_static(entity, comp)
            if res is not None:
                names = strings(res.value)
                break
        for comp in SERIES_COLORS:
            res = self.db.latest_static(entity, comp)
            if res is not None and len(res.value):
                colors = colors_rgba(res.value, count, (255, 255, 255, 255))
                break
        return names, colors

    def _refresh_entity(self, entity: EntityPath, timeline: str | None) -> None:
        count = self._instance_count(entity) if timeline else 0
        names, colors = self._series_style(entity, max(count, 1))
        for i in range(max(count, 1)):
            key = (entity, i)
            curve = self.curves.get(key)
            if timeline is None or i >= count:
                if curve is not None:
                    curve.setData([], [])
                    self._series_ids.pop(key, None)
                continue
            times, values = self.db.scalar_series(entity, SCALARS, timeline, instance=i)
            if curve is None:
                label = names[i] if i < len(names) else (
                    str(entity) if count == 1 else f"{entity}[{i}]")
                rgb = tuple(int(c) for c in colors[i][:3]) if colors is not None \
                    else auto_color(entity, i)
                curve = pg.PlotDataItem(name=label, pen=pg.mkPen(rgb, width=1))
                self.plot_item.addItem(curve)
                self.curves[key] = curve
            base = times.base if isinstance(times.base, np.ndarray) else times
            known = self._series_ids.get(key)
            if known is not None and known() is base and _length(curve.xData) == len(times):
                continue  # the store's cached series did not change
            self._series_ids[key] = weakref.ref(base)
            x = time_to_x(times, self._kind)
            finite = bool(np.isfinite(values).all())
            curve.setData(x, values, skipFiniteCheck=finite, connect="all" if finite else "finite")

    # ------------------------------------------------------------------ cursor

    def _move_cursor(self) -> None:
        t = self.time_control.time
        if t is None or self.time_control.timeline is None:
            self.cursor_line.setVisible(False)
            return
        self.cursor_line.setVisible(True)
        self.cursor_line.setPos(scalar_to_x(t, self._kind))

    def _on_time_changed(self, _t: object) -> None:
        # Only the line moves: no redraw of curves, no coalescing delay.
        if self._axis_state == (self.time_control.timeline, self._kind) and not self._dirty:
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
        curve = self.curves.get((entity, instance))
        if curve is None or curve.xData is None:
            return np.empty(0), np.empty(0)
        return curve.xData, curve.yData
