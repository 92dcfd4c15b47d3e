"""``BarChart`` entities at the time cursor: one set of bars per entity in a pyqtgraph plot.

The bars come from ``viewer.scene.bar_chart.bars_at`` (abscissa, widths, values as Rerun
lays them out; Clear honoured). Each entity is drawn in its ``BarChart:color``, or in its
default entity colour when none is logged. An entity whose rows did not change keeps its
item untouched. The plot fits the bars (and y = 0) until the user pans or zooms; "View
All" in its context menu (or the "A" button) fits again. Hovering a bar shows its index and
value.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QWidget

from viewer.scene.bar_chart import VALUES, Bars, bars_at
from viewer.scene.query import LatestAt
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.base import View
from viewer.ui.views.plot.plot_axes import embed_plot


class BarChartView(View):
    kind_name = "Bar chart"

    def __init__(self, db: EntityDb, entities: Iterable[EntityPath], time_control: TimeControl,
                 title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(db, entities, time_control, title, parent)
        self.plot_widget, self.plot_item = embed_plot(self)
        self.plot_item.showGrid(x=True, y=True, alpha=0.25)
        for side in ("left", "bottom"):  # grid lines behind the bars, not across them
            self.plot_item.getAxis(side).setZValue(-1000)
        self.plot_item.setMouseEnabled(x=True, y=True)
        #: The bars drawn per entity (model-level state for callers and tests).
        self.bars: dict[EntityPath, Bars] = {}
        self.items: dict[EntityPath, pg.BarGraphItem] = {}
        self.hover_text = ""
        self.plot_widget.scene().sigMouseMoved.connect(self._on_mouse_moved)

    @classmethod
    def accepts(cls, db: EntityDb, entity: EntityPath) -> bool:
        return VALUES in db.components(entity)

    def redraw(self) -> None:
        query = LatestAt(self.db, self.time_control.timeline, self.time_control.time)
        for entity in self.entities:
            bars = bars_at(query, entity)
            old = self.bars.get(entity)
            if bars is None:
                if old is not None:
                    del self.bars[entity]
                    self.plot_item.removeItem(self.items.pop(entity))
                continue
            if old is not None and old.key == bars.key:
                continue
            self.bars[entity] = bars
            self._draw(bars)

    def _draw(self, bars: Bars) -> None:
        rgba = bars.fill_color
        fill = pg.mkBrush(*rgba)
        outline = pg.mkPen(tuple(int(c * 0.6) for c in rgba[:3]) + (rgba[3],), width=1)
        heights = np.nan_to_num(bars.values, nan=0.0)
        item = self.items.get(bars.entity)
        if item is None:
            item = pg.BarGraphItem(x0=bars.left, width=bars.widths, height=heights,
                                   brush=fill, pen=outline)
            self.items[bars.entity] = item
            self.plot_item.addItem(item)
        else:
            item.setOpts(x0=bars.left, width=bars.widths, height=heights, brush=fill,
                         pen=outline)

    def bar_at(self, x: float, y: float) -> tuple[EntityPath, int] | None:
        """The bar under data point (x, y): (entity, index), the last-drawn entity first."""
        for entity in reversed(list(self.bars)):
            bars = self.bars[entity]
            inside = (x >= bars.left) & (x < bars.left + bars.widths)
            lo = np.minimum(bars.values, 0.0)
            hi = np.maximum(bars.values, 0.0)
            inside &= (y >= lo) & (y <= hi)
            hits = np.flatnonzero(inside)
            if len(hits):
                return entity, int(hits[-1])
        return None

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        view_box = self.plot_item.getViewBox()
        if not view_box.sceneBoundingRect().contains(scene_pos):
            self._set_hover("")
            return
        point = view_box.mapSceneToView(scene_pos)
        hit = self.bar_at(point.x(), point.y())
        if hit is None:
            self._set_hover("")
            return
        entity, index = hit
        bars = self.bars[entity]
        self._set_hover(f"{entity} #{index}: {bars.values[index]:g}  "
                        f"(x = {bars.left[index]:g} .. {bars.left[index] + bars.widths[index]:g})")

    def _set_hover(self, text: str) -> None:
        self.hover_text = text
        self.plot_widget.setToolTip(text)
