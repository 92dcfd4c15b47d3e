"""The Map view: GeoPoints and GeoLineStrings on longitude (x) / latitude (y) axes.

No map tiles: the machine may be offline and the viewer downloads nothing, which a note
in the view says. The axes are plain degrees with the aspect locked so distances are true
near the data's latitude (``lon_per_lat_aspect``: the local equirectangular projection,
not Web Mercator; the axes then read as latitude and longitude directly).

Redraws rebuild the draw items only when the rows at the cursor changed (``rows_key``);
radii in metres are rescaled to pixels when the zoom changes.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QLabel, QWidget

from viewer.scene.geo_data import (
    LINE_STRINGS,
    POINT_POSITIONS,
    GeoScene,
    collect_geo,
    lon_per_lat_aspect,
    radius_pixels,
    rows_key,
)
from viewer.scene.query import LatestAt
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.base import View
from viewer.ui.views.plot.plot_axes import embed_plot

OFFLINE_NOTE = "Map tiles are not downloaded (offline): longitude / latitude axes only."


class MapView(View):
    """Every GeoPoints / GeoLineStrings entity of the view on one map."""

    kind_name = "Map"

    def __init__(self, db: EntityDb, entities: Iterable[EntityPath], time_control: TimeControl,
                 title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(db, entities, time_control, title or "Map", parent)
        self.plot_widget, self.plot_item = embed_plot(self)
        self.plot_item.setLabel("bottom", "longitude (°)")
        self.plot_item.setLabel("left", "latitude (°)")
        self.plot_item.showGrid(x=True, y=True, alpha=0.2)
        self.note = QLabel(OFFLINE_NOTE, self)
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setStyleSheet("color: #aaa; font-size: 11px;")
        self.layout().addWidget(self.note)
        vb = self.plot_item.getViewBox()
        vb.setAspectLocked(True, ratio=1.0)
        self.points_item = pg.ScatterPlotItem(pxMode=True, pen=None)
        self.points_item.setZValue(10)  # points over lines, as in Rerun
        self.plot_item.addItem(self.points_item)
        self.line_items: list[pg.PlotCurveItem] = []
        self.scene_data = GeoScene()
        self._key: tuple | None = None
        self._brushes: dict[tuple[int, ...], QBrush] = {}
        self._metric = False  # some radius is in metres: resize on zoom
        vb.sigYRangeChanged.connect(self._on_zoom)

    @classmethod
    def accepts(cls, db: EntityDb, entity: EntityPath) -> bool:
        comps = db.components(entity)
        return POINT_POSITIONS in comps or LINE_STRINGS in comps

    def redraw(self) -> None:
        query = LatestAt(self.db, self.time_control.timeline, self.time_control.time)
        key = rows_key(query, self.entities)
        if key == self._key:
            return
        self._key = key
        self.scene_data = collect_geo(query, self.entities)
        bounds = self.scene_data.bounds()
        if bounds is not None:
            aspect = lon_per_lat_aspect(0.5 * (bounds[1] + bounds[3]))
            self.plot_item.getViewBox().setAspectLocked(True, ratio=aspect)
        self._draw()

    def _pixels_per_lat_degree(self) -> float:
        vb = self.plot_item.getViewBox()
        span = vb.viewRange()[1]
        height = vb.height()
        return float(height) / max(1e-12, span[1] - span[0]) if height else 1.0

    def _brush(self, rgba: np.ndarray) -> QBrush:
        key = tuple(int(c) for c in rgba)
        brush = self._brushes.get(key)
        if brush is None:
            brush = self._brushes[key] = QBrush(QColor(*key))
        return brush

    def _draw(self) -> None:
        scene = self.scene_data
        scale = self._pixels_per_lat_degree()
        self._metric = bool((scene.radii > 0).any()) or any(ln.radius > 0 for ln in scene.lines)
        if len(scene.lon_lat):
            self.points_item.setData(pos=scene.lon_lat,
                                     size=2.0 * radius_pixels(scene.radii, scale),
                                     brush=[self._brush(c) for c in scene.colors])
        else:
            self.points_item.setData([], [])
        while len(self.line_items) < len(scene.lines):
            item = pg.PlotCurveItem()
            self.plot_item.addItem(item)
            self.line_items.append(item)
        for item, line in zip(self.line_items, scene.lines, strict=False):
            width = float(2.0 * radius_pixels(np.array([line.radius]), scale)[0])
            item.setPen(pg.mkPen(line.color, width=max(0.5, width)))
            item.setData(line.lon_lat[:, 0], line.lon_lat[:, 1])
            item.setVisible(True)
        for item in self.line_items[len(scene.lines):]:
            item.setData([], [])
            item.setVisible(False)

    def _on_zoom(self, *_args: object) -> None:
        if self._metric:  # metre radii follow the map scale
            self._draw()
