"""2D point clouds at the time cursor (pyqtgraph scatter, image-style y-down axes).

Each entity shows its latest-at positions, colors and radii (each component queried on its
own, as Rerun does). An item is updated only when one of those rows changed, so scrubbing
within one frame of data costs three cheap lookups per entity and no ``setData``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QWidget

from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.arrow_values import changed_point_clouds, per_instance
from viewer.ui.views.base import View
from viewer.ui.views.plot.plot_axes import embed_plot
from viewer.ui.views.plot.timeseries import auto_color
from viewer.ui.views.spatial.splat import pack_rgb32
from viewer.ui.views.spatial.splat_item import SplatPointsItem

POSITIONS = "Points2D:positions"


def _default_rgba(entity: EntityPath) -> tuple[int, int, int, int]:
    return (*auto_color(entity, 0), 255)

DEFAULT_POINT_PX = 5.0  # diameter when no radius was logged
#: Up to this many points a pyqtgraph ScatterPlotItem (antialiased); above, numpy splatting
#: (ScatterPlotItem.setData took ~100 ms for 2 k points with their own colours).
SCATTER_MAX_POINTS = 1000


def scatter_brushes(rgba: np.ndarray) -> list[object]:
    """One QBrush per point, built once per distinct colour (clouds repeat few colours)."""
    if len(rgba) == 0:
        return []
    packed = rgba.astype(np.uint32)
    keys = (packed[:, 0] << 24) | (packed[:, 1] << 16) | (packed[:, 2] << 8) | packed[:, 3]
    uniq, inverse = np.unique(keys, return_inverse=True)
    brushes = np.empty(len(uniq), dtype=object)
    for i, k in enumerate(uniq.tolist()):
        brushes[i] = pg.mkBrush((k >> 24) & 255, (k >> 16) & 255, (k >> 8) & 255, k & 255)
    return list(brushes[inverse])


def sizes_from_radii(radii: np.ndarray | None, n: int) -> tuple[np.ndarray, bool]:
    """Rerun radii: positive are scene units, negative are UI points. Returns (diameters,
    px_mode); a cloud with any scene-unit radius is drawn in scene units."""
    if radii is None:
        return np.full(n, DEFAULT_POINT_PX), True
    if (radii > 0).any():
        return 2.0 * np.abs(radii), False
    return np.maximum(2.0 * np.abs(radii), 1.0), True


class Points2DView(View):
    kind_name = "2D points"

    def __init__(self, db: EntityDb, entities: Iterable[EntityPath], time_control: TimeControl,
                 title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(db, entities, time_control, title, parent)
        self.plot_widget, self.plot_item = embed_plot(self)
        self.plot_item.setAspectLocked(True)
        # Fit the bounds of everything shown so far (they only grow), not each frame's
        # points: scrubbing does not make the view jump. Panning/zooming stops following.
        self.follow_bounds = True
        self.seen_bounds: tuple[np.ndarray, np.ndarray] | None = None
        vb = self.plot_item.getViewBox()
        vb.disableAutoRange()
        vb.sigRangeChangedManually.connect(self._on_user_range)
        self.plot_item.invertY(True)  # Rerun 2D space: y points down, like image pixels
        self.plot_item.showGrid(x=True, y=True, alpha=0.2)
        self.items: dict[EntityPath, pg.ScatterPlotItem] = {}
        self.splat_items: dict[EntityPath, SplatPointsItem] = {}
        self._shown: dict[EntityPath, tuple[object, object, object]] = {}
        self._positions: dict[EntityPath, np.ndarray] = {}

    @classmethod
    def accepts(cls, db: EntityDb, entity: EntityPath) -> bool:
        return POSITIONS in db.components(entity)

    def redraw(self) -> None:
        timeline, t = self.time_control.timeline, self.time_control.time
        changed = False
        for entity, xy, rgba, radii_cell in changed_point_clouds(
                self.db, self.entities, "Points2D", 2, timeline, t, self._shown, _default_rgba):
            changed = True
            n = len(xy)
            radii = per_instance(radii_cell, n, 0.0) if radii_cell is not None and n else None
            sizes, px_mode = sizes_from_radii(radii, n)
            self._positions[entity] = xy
            scatter, splatted = self._items_for(entity)
            if n <= SCATTER_MAX_POINTS:
                splatted.set_points(np.empty((0, 2)), np.empty(0, np.uint32), np.empty(0), True)
                scatter.setPxMode(px_mode)
                scatter.setData(pos=xy, size=sizes, brush=scatter_brushes(rgba), pen=None)
            else:
                scatter.setData(pos=np.empty((0, 2)))
                splatted.set_points(xy, pack_rgb32(rgba), sizes, px_mode)
        if changed:
            self._fit_seen_bounds()

    def _fit_seen_bounds(self) -> None:
        shown = [p for p in self._positions.values() if len(p)]
        if not shown:
            return
        xy = np.concatenate(shown)
        xy = xy[np.isfinite(xy).all(axis=1)]
        if len(xy) == 0:
            return
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        if self.seen_bounds is not None:
            old_lo, old_hi = self.seen_bounds
            if (lo >= old_lo).all() and (hi <= old_hi).all():
                return
            lo, hi = np.minimum(lo, old_lo), np.maximum(hi, old_hi)
        self.seen_bounds = (lo, hi)
        if self.follow_bounds:
            size = np.maximum(hi - lo, 1e-6)
            self.plot_item.getViewBox().setRange(
                QRectF(float(lo[0]), float(lo[1]), float(size[0]), float(size[1])),
                padding=0.05)

    def _on_user_range(self, *_args: object) -> None:
        self.follow_bounds = False

    def _items_for(self, entity: EntityPath) -> tuple[pg.ScatterPlotItem, SplatPointsItem]:
        scatter = self.items.get(entity)
        if scatter is None:
            scatter = self.items[entity] = pg.ScatterPlotItem(name=str(entity), pen=None)
            self.plot_item.addItem(scatter)
            splatted = self.splat_items[entity] = SplatPointsItem()
            self.plot_item.addItem(splatted)
        return scatter, self.splat_items[entity]

    def point_count(self, entity: EntityPath | None = None) -> int:
        """Points shown now (for one entity or all)."""
        if entity is not None:
            return len(self._positions.get(entity, ()))
        return sum(len(p) for p in self._positions.values())

    def shown_positions(self, entity: EntityPath) -> np.ndarray:
        return self._positions.get(entity, np.empty((0, 2)))
